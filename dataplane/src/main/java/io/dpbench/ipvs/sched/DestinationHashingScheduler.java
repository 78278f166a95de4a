package io.dpbench.ipvs.sched;

import java.util.Arrays;

/**
 * dh (net/netfilter/ipvs/ip_vs_dh.c): a 256-bucket table ({@code CONFIG_IP_VS_DH_TAB_BITS = 8}) indexed by
 * {@code hash_32(daddr, 8)} of the packet's destination address (the virtual address for a plain service, the
 * origin server for a transparent cache cluster). Unlike sh, {@code ip_vs_dh_reassign} ignores weights: it deals
 * one bucket to each destination in list order, round and round. A destination found unavailable (weight 0 or
 * overloaded) gives no destination; dh has no fallback flag. Rebuilt on every {@link #update}; the kernel reassigns
 * on add and delete only, but the table does not depend on weights, so a weight change rebuilds the same table.
 */
public final class DestinationHashingScheduler implements Scheduler
{
    static final int TAB_BITS = 8;
    static final int TAB_SIZE = 1 << TAB_BITS;

    /** Bucket to destination index, -1 for an empty bucket (no destinations). */
    private final int[] buckets = new int[TAB_SIZE];

    public DestinationHashingScheduler()
    {
        Arrays.fill(buckets, -1);
    }

    @Override
    public String name()
    {
        return "dh";
    }

    @Override
    public void update(final Destination[] destinations, final int count)
    {
        for (int i = 0; i < TAB_SIZE; i++)
        {
            buckets[i] = count == 0 ? -1 : i % count;
        }
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        final int dest = buckets[KernelHash.hash32(destinationAddress, TAB_BITS)];
        return dest < 0 || destinations[dest].unavailable() ? -1 : dest;
    }

    /** The destination index bucket {@code i} holds (-1 when empty); for tests. */
    int bucket(final int i)
    {
        return buckets[i];
    }
}
