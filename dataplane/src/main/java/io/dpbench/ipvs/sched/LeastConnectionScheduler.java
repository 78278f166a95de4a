package io.dpbench.ipvs.sched;

/**
 * lc (net/netfilter/ipvs/ip_vs_lc.c): the destination with the smallest {@code ip_vs_dest_conn_overhead()},
 * {@code (activeconns << 8) + inactconns}, skipping overloaded and weight-0 ones. The comparison is strict
 * ({@code doh < loh}), so of equally loaded destinations the first in list order (the most recently added) wins.
 * The overhead is the kernel's {@code int}, compared unsigned as lc's {@code unsigned int loh, doh} do. Stateless.
 */
public final class LeastConnectionScheduler extends StatelessScheduler
{
    public LeastConnectionScheduler()
    {
        super("lc");
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        int least = -1;
        int loh = 0;
        for (int i = 0; i < count; i++)
        {
            final Destination dest = destinations[i];
            if (dest.overloaded() || dest.weight() == 0)
            {
                continue;
            }
            final int doh = overhead(dest);
            if (least < 0 || Integer.compareUnsigned(doh, loh) < 0)
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }

    /** ip_vs_dest_conn_overhead() with the kernel's 32-bit arithmetic. */
    static int overhead(final Destination dest)
    {
        return (dest.activeConnections() << 8) + dest.inactiveConnections();
    }
}
