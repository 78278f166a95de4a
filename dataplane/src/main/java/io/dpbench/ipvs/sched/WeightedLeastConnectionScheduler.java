package io.dpbench.ipvs.sched;

/**
 * wlc (net/netfilter/ipvs/ip_vs_wlc.c): the destination with the smallest {@code overhead / weight}, where the
 * overhead is {@code (activeconns << 8) + inactconns}. Division-free as in the kernel: {@code least} is replaced
 * only when {@code loh * dest.weight > doh * least.weight} (64-bit products), so ties keep the earlier destination
 * in list order. The first candidate is the first destination that is not overloaded and has weight above 0; the
 * rest of the walk skips only overloaded ones, and a weight-0 destination can never win the strict comparison.
 * Stateless.
 */
public final class WeightedLeastConnectionScheduler extends StatelessScheduler
{
    public WeightedLeastConnectionScheduler()
    {
        super("wlc");
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        return WeightedCostWalk.leastWeightedCost(destinations, count, false);
    }
}
