package io.dpbench.ipvs.sched;

import io.dpbench.ipvs.RealServer;
import io.dpbench.ipvs.Scheduler;

/**
 * sed (net/netfilter/ipvs/ip_vs_sed.c): the destination with the smallest expected delay
 * {@code (activeconns + 1) / weight}. Unlike wlc it ignores inactive connections and counts the incoming one, which
 * makes heavier servers win earlier when weights differ a lot. Same walk as wlc: the first destination that is not
 * overloaded and has weight above 0 seeds the search, the rest skip only overloaded ones, and {@code least} is
 * replaced only when {@code loh * dest.weight > doh * least.weight} (64-bit), so ties keep list order. Stateless.
 */
public final class ShortestExpectedDelayScheduler implements Scheduler
{
    @Override
    public String name()
    {
        return "sed";
    }

    @Override
    public void update(final RealServer[] destinations, final int count)
    {
    }

    @Override
    public int schedule(final RealServer[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        int least = -1;
        int i = 0;
        for (; i < count; i++)
        {
            final RealServer dest = destinations[i];
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
        int loh = destinations[least].activeConnections() + 1;
        for (i = least + 1; i < count; i++)
        {
            final RealServer dest = destinations[i];
            if (dest.overloaded())
            {
                continue;
            }
            final int doh = dest.activeConnections() + 1;
            if ((long)loh * dest.weight() > (long)doh * destinations[least].weight())
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }
}
