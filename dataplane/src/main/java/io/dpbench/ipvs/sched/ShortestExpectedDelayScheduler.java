package io.dpbench.ipvs.sched;

/**
 * sed (net/netfilter/ipvs/ip_vs_sed.c): the destination with the smallest expected delay
 * {@code (activeconns + 1) / weight}. Unlike wlc it ignores inactive connections and counts the incoming one, which
 * makes heavier servers win earlier when weights differ a lot. Same walk as wlc: the first destination that is not
 * overloaded and has weight above 0 seeds the search, the rest skip only overloaded ones, and {@code least} is
 * replaced only when {@code loh * dest.weight > doh * least.weight} (64-bit), so ties keep list order. Stateless.
 */
public final class ShortestExpectedDelayScheduler extends StatelessScheduler
{
    public ShortestExpectedDelayScheduler()
    {
        super("sed");
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        return WeightedCostWalk.leastWeightedCost(destinations, count, true);
    }
}
