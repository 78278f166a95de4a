package io.dpbench.ipvs.sched;

/**
 * The walk wlc and sed share (ip_vs_wlc.c and ip_vs_sed.c differ only in the per-destination cost): the first
 * destination that is not overloaded and has weight above 0 seeds the search, the rest skip only overloaded ones,
 * and {@code least} is replaced only when {@code loh * dest.weight > doh * least.weight} with 64-bit products, so
 * ties keep the earlier destination in list order and a weight-0 destination never wins.
 */
final class WeightedCostWalk
{
    private WeightedCostWalk()
    {
    }

    /**
     * @param expectedDelay true for sed's cost {@code activeconns + 1}; false for wlc's
     *                      {@code ip_vs_dest_conn_overhead()}
     * @return the chosen index, or -1 when no destination qualifies
     */
    static int leastWeightedCost(final Destination[] destinations, final int count, final boolean expectedDelay)
    {
        int least = -1;
        int i = 0;
        for (; i < count; i++)
        {
            final Destination dest = destinations[i];
            if (!dest.overloaded() && dest.weight() > 0)
            {
                least = i;
                break;
            }
        }
        if (least < 0)
        {
            return -1;
        }
        int loh = cost(destinations[least], expectedDelay);
        for (i = least + 1; i < count; i++)
        {
            final Destination dest = destinations[i];
            if (dest.overloaded())
            {
                continue;
            }
            final int doh = cost(dest, expectedDelay);
            if ((long)loh * dest.weight() > (long)doh * destinations[least].weight())
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }

    private static int cost(final Destination dest, final boolean expectedDelay)
    {
        return expectedDelay ? dest.activeConnections() + 1 : LeastConnectionScheduler.overhead(dest);
    }
}
