package io.dpbench.ipvs.sched;

/**
 * wrr (net/netfilter/ipvs/ip_vs_wrr.c), the kernel's "mark" algorithm rather than a smooth WRR, because the point
 * is to reproduce the exact order in which a node hands out connections. State, as in {@code struct ip_vs_wrr_mark}:
 * <ul>
 *   <li>{@code cl}: the last chosen destination, or the list head;</li>
 *   <li>{@code di}: the gcd of the positive weights (1 when there are none);</li>
 *   <li>{@code mw}: the maximum weight minus {@code (di - 1)}, so the last pass runs with {@code cw == 1} and also
 *   catches a weight just lowered below {@code di};</li>
 *   <li>{@code cw}: the current threshold; a pass takes, in list order, each destination with weight
 *   {@code >= cw} that is not overloaded, then {@code cw -= di}, wrapping back to {@code mw}.</li>
 * </ul>
 * The first {@link #update} is {@code init_service} ({@code cw = mw}); every later one is {@code dest_changed}
 * (cursor back to the head, {@code cw} kept when still in range, else reset or re-aligned to the new {@code di}).
 * The virtual service calls {@code update(list, 0)} on creation and again after each add, as the
 * kernel does, so a service built one server at a time walks exactly the kernel's sequence.
 */
public final class WeightedRoundRobinScheduler implements Scheduler
{
    private static final int HEAD = -1;
    private static final int NONE = -2;

    private boolean initialised;
    private int cl = HEAD;
    private int cw;
    private int mw;
    private int di = 1;

    @Override
    public String name()
    {
        return "wrr";
    }

    @Override
    public void update(final Destination[] destinations, final int count)
    {
        final int[] weights = Weights.of(destinations, count);
        final int gcd = Weights.positiveGcd(weights, count);
        final int max = Weights.max(weights, count);
        cl = HEAD;
        di = gcd > 0 ? gcd : 1;
        mw = max - (di - 1);
        if (!initialised)
        {
            initialised = true;
            cw = mw;
        }
        else if (cw > mw || cw == 0)
        {
            cw = mw;
        }
        else if (di > 1)
        {
            cw = (cw / di) * di + 1;
        }
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        if (mw == 0)
        {
            return -1; // err_noavail: cl unchanged
        }
        final int last = cl < count ? cl : HEAD;
        int dest = last;
        int stop = NONE;
        boolean lastPass = false;
        boolean restarted = false;
        while (true)
        {
            for (dest = dest + 1; dest < count; dest++)
            {
                final Destination server = destinations[dest];
                if (!server.overloaded() && server.weight() >= cw)
                {
                    cl = dest;
                    return dest;
                }
                if (dest == stop)
                {
                    cl = dest;
                    return -1; // err_over
                }
            }
            dest = HEAD; // the walk ended on the list head
            cw -= di;
            if (cw <= 0)
            {
                cw = mw;
                // stop once a pass with cw == 1 has covered every destination
                if (lastPass || last == HEAD)
                {
                    cl = HEAD;
                    return -1; // err_over
                }
                restarted = true;
            }
            lastPass = cw <= di;
            if (lastPass && restarted && last != HEAD)
            {
                // the cw == 1 pass started after 'last'; finish it up to and including 'last'
                stop = last;
            }
        }
    }
}
