package io.dpbench.ipvs.sched;

import java.util.Arrays;

/**
 * sh (net/netfilter/ipvs/ip_vs_sh.c): a 256-bucket table ({@code CONFIG_IP_VS_SH_TAB_BITS = 8}) indexed by
 * {@code hash_32(sport + saddr, 8)}, the port being 0 unless sh-port ({@code IP_VS_SVC_F_SCHED_SH_PORT}) is set.
 * <p>
 * {@code ip_vs_sh_reassign} fills the buckets in order by walking the destination list round and round, giving each
 * destination as many consecutive buckets as its current weight before moving on. A weight-0 destination still
 * takes one bucket (the "filled its weight" test {@code ++count >= weight} passes at once), and flows hashing there
 * find it unavailable: without sh-fallback they get no destination, with it ({@code IP_VS_SVC_F_SCHED_SH_FALLBACK})
 * they probe bucket {@code (roffset + hash) & 255} for {@code roffset = (offset + hash) % 256},
 * {@code offset = 0..255}, exactly as {@code ip_vs_sh_get_fallback} does, stopping at an empty bucket. The table is
 * rebuilt on every {@link #update} (add, delete and weight change all call reassign). Only IPv4 is modelled, so
 * the kernel's IPv6 address fold is not needed; the hashed address is always the client's (the kernel's
 * {@code ip_vs_iph_inverse} case, hashing {@code daddr} for ICMP errors, is the caller's concern).
 */
public final class SourceHashingScheduler implements Scheduler
{
    static final int TAB_BITS = 8;
    static final int TAB_SIZE = 1 << TAB_BITS;
    static final int TAB_MASK = TAB_SIZE - 1;

    private final SchedulerFlags flags;
    private final boolean fallback;
    private final boolean port;
    /** Bucket to destination index, -1 for an empty bucket (no destinations). */
    private final int[] buckets = new int[TAB_SIZE];

    public SourceHashingScheduler(final SchedulerFlags flags)
    {
        this.flags = flags;
        this.fallback = flags.fallback();
        this.port = flags.port();
        Arrays.fill(buckets, -1);
    }

    @Override
    public String name()
    {
        return "sh";
    }

    @Override
    public SchedulerFlags flags()
    {
        return flags;
    }

    @Override
    public void update(final Destination[] destinations, final int count)
    {
        if (count == 0)
        {
            Arrays.fill(buckets, -1);
            return;
        }
        int dest = 0;
        int filled = 0;
        for (int i = 0; i < TAB_SIZE; i++)
        {
            buckets[i] = dest;
            if (++filled >= destinations[dest].weight())
            {
                dest = dest + 1 == count ? 0 : dest + 1;
                filled = 0;
            }
        }
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        final int hashPort = port ? sourcePort & 0xFFFF : 0;
        final int ihash = hashKey(sourceAddress, hashPort, 0);
        int dest = buckets[ihash];
        if (dest < 0)
        {
            return -1;
        }
        if (!destinations[dest].unavailable())
        {
            return dest;
        }
        if (!fallback)
        {
            return -1;
        }
        for (int offset = 0; offset < TAB_SIZE; offset++)
        {
            final int roffset = (offset + ihash) % TAB_SIZE;
            dest = buckets[hashKey(sourceAddress, hashPort, roffset)];
            if (dest < 0)
            {
                break;
            }
            if (!destinations[dest].unavailable())
            {
                return dest;
            }
        }
        return -1;
    }

    /** ip_vs_sh_hashkey(): {@code (offset + hash_32(port + addr, 8)) & 255}, both in host order. */
    static int hashKey(final int address, final int port, final int offset)
    {
        return (offset + KernelHash.hash32(port + address, TAB_BITS)) & TAB_MASK;
    }

    /** The destination index bucket {@code i} holds (-1 when empty); for tests. */
    int bucket(final int i)
    {
        return buckets[i];
    }
}
