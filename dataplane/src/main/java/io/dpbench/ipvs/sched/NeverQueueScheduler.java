package io.dpbench.ipvs.sched;

/**
 * nq (net/netfilter/ipvs/ip_vs_nq.c): the first idle destination ({@code activeconns == 0}) in list order, else
 * sed's choice, {@code (activeconns + 1) / weight} minimal with the strict 64-bit cross-multiplied comparison, so
 * ties keep list order. Overloaded and weight-0 destinations are skipped outright, idle or not. Stateless.
 */
public final class NeverQueueScheduler extends StatelessScheduler
{
    public NeverQueueScheduler()
    {
        super("nq");
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
            final int doh = dest.activeConnections() + 1;
            if (dest.activeConnections() == 0)
            {
                return i; // never queue: an idle server takes it at once
            }
            if (least < 0 || (long)loh * dest.weight() > (long)doh * destinations[least].weight())
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }
}
