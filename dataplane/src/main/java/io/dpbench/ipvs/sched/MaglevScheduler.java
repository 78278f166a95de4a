package io.dpbench.ipvs.sched;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * mh (net/netfilter/ipvs/ip_vs_mh.c): Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4) with the
 * kernel's hashes, weights and fill order, so the same client lands on the same real server as on a node.
 * <p>
 * <b>Permutation.</b> Each destination {@code d} gets {@code offset = H1(d) % M} and
 * {@code skip = H2(d) % (M - 1) + 1}, where {@code H(d) = hsiphash(u32 v = ntohs(d.port) + ntohl(d.addr))} with
 * the fixed keys of {@code generate_hash_secret()}: both words of {@code hash1} are 2654435761, both of
 * {@code hash2} 2654446892. The kernel hashes the 4 bytes of that host-order {@code u32} sum (not the address and
 * port as separate network-order fields), which on little-endian x86-64 makes it {@code hsiphash_1u32(v)}; see
 * {@link KernelHash#hsiphash1u32}.
 * <p>
 * <b>Weights.</b> {@code turns = ((last_weight / gcd) >> rshift)}, or 1 when that is 0 but {@code last_weight} is not,
 * where {@code gcd} is over the positive last weights and {@code rshift = max(0, fls(max / gcd) - TAB_BITS)} with
 * {@code TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2}, keeping the turns within a few bits. {@code last_weight} is the
 * kernel's "latest non-zero weight" ({@code __ip_vs_update_dest} sets it on add, and on edits only to a non-zero
 * weight). This is the graceful-termination quirk: a server re-weighted to 0 keeps its slots (so other flows do not
 * move) but, being unavailable, gets no new connections; its flows get no destination, or with mh-fallback
 * ({@code IP_VS_SVC_F_SCHED_MH_FALLBACK}) probe slot {@code H1(addr, port, offset=roffset) % M} for
 * {@code roffset = (i + ihash) % M}, {@code i = 0..M-1}, stopping at an empty slot. A server added with weight 0 has
 * no slots at all. Last weights are tracked across {@link #update} calls by {@link Destination} identity, as the
 * service edits weights in place.
 * <p>
 * <b>Population.</b> Rounds over the list: each destination with turns takes its next free preferred slot
 * {@code turns} times in a row, until all {@code M} slots are full. The table is a compact {@code char[M]} of
 * destination indices, 16 bits each ({@link #EMPTY} when there are no usable destinations): the kernel's entries are
 * 8-byte pointers, but a node with tens of thousands of mh services would spend gigabytes on them, and the smaller
 * the table, the more of it stays in cache. That caps a service at 65,535 destinations (the kernel allows up to
 * the table size), far above any Kubernetes Service's endpoint count.
 * <p>
 * <b>Lookup.</b> Slot {@code H1(v = sport + saddr) % M}, the port being 0 unless mh-port
 * ({@code IP_VS_SVC_F_SCHED_MH_PORT}) is set; the caller passes port 0 for protocols without ports, as
 * {@code ip_vs_mh_get_port} yields. Only IPv4 is modelled (no IPv6 address fold).
 * <p>
 * <b>Table size.</b> {@code M} is one of the kernel's primes {@code primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]}:
 * 251, 509, 1021, 2039, 4093 (the default, index 12), 8191, 16381, 32749, 65521, 131071. More destinations than
 * slots is refused, as {@code ip_vs_mh_reassign} returns -EINVAL.
 */
public final class MaglevScheduler implements Scheduler
{
    /** The default table size, CONFIG_IP_VS_MH_TAB_INDEX = 12. */
    public static final int DEFAULT_TABLE_SIZE = 4093;

    /**
     * The Maglev paper's table size. Not a kernel size (its primes[] skip it); offered by option for comparison with
     * the paper, with the weight shift of the kernel's nearest size, 65521.
     */
    public static final int MAGLEV_PAPER_TABLE_SIZE = 65537;

    /** ip_vs_mh.c primes[], indexed by CONFIG_IP_VS_MH_TAB_INDEX - 8. */
    static final int[] PRIMES = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071};

    /** generate_hash_secret(): hash1.key[0] = hash1.key[1] = 2654435761UL. */
    static final long HASH1_KEY = 2654435761L;
    /** generate_hash_secret(): hash2.key[0] = hash2.key[1] = 2654446892UL. */
    static final long HASH2_KEY = 2654446892L;

    private final SchedulerFlags flags;
    private final boolean fallback;
    private final boolean port;
    private final int size;
    private final int tabBits;
    /** Most destinations a service may have here (16-bit slots, one value reserved for {@link #EMPTY}). */
    public static final int MAX_DESTINATIONS = 0xFFFF;

    /** A slot with no destination. */
    public static final char EMPTY = 0xFFFF;

    /** Slot to destination index, {@link #EMPTY} when empty. */
    private final char[] lookup;

    private Destination[] known = new Destination[0];
    private int[] knownLastWeight = new int[0];

    public MaglevScheduler(final SchedulerFlags flags)
    {
        this(flags, DEFAULT_TABLE_SIZE);
    }

    /** {@code tableSize} must be one of the kernel's primes (see {@link Schedulers#mhTableSize}). */
    public MaglevScheduler(final SchedulerFlags flags, final int tableSize)
    {
        final int index = tableSize == MAGLEV_PAPER_TABLE_SIZE ? PRIMES.length - 2 : Arrays.binarySearch(PRIMES, tableSize);
        if (index < 0)
        {
            throw new IllegalArgumentException("mh table size " + tableSize + " is not one of the kernel's primes " +
                Arrays.toString(PRIMES) + " or the Maglev paper's " + MAGLEV_PAPER_TABLE_SIZE);
        }
        this.flags = flags;
        this.fallback = flags.fallback();
        this.port = flags.port();
        this.size = tableSize;
        // IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2; for 65537, which no kernel build has, dpbench uses the
        // bits of its neighbour 65521 (index 16)
        this.tabBits = (index + 8) / 2;
        this.lookup = new char[tableSize];
        Arrays.fill(lookup, EMPTY);
    }

    @Override
    public String name()
    {
        return "mh";
    }

    public int tableSize()
    {
        return size;
    }

    @Override
    public void update(final Destination[] destinations, final int count)
    {
        if (count > size)
        {
            throw new IllegalArgumentException("mh: " + count + " destinations do not fit a table of " + size);
        }
        if (count > MAX_DESTINATIONS)
        {
            throw new IllegalArgumentException("mh: " + count + " destinations; dpbench's 16-bit slots hold at most " +
                MAX_DESTINATIONS);
        }
        final int[] lastWeight = lastWeights(destinations, count);
        known = Arrays.copyOf(destinations, count);
        knownLastWeight = lastWeight;

        final int gcd = Weights.positiveGcd(lastWeight, count);
        final int max = Weights.max(lastWeight, count);
        if (gcd < 1)
        {
            Arrays.fill(lookup, EMPTY); // ip_vs_mh_reset
            return;
        }
        final int shift = Math.max(0, (32 - Integer.numberOfLeadingZeros(max / gcd)) - tabBits);

        // ip_vs_mh_permutate
        final int[] perm = new int[count];
        final int[] skip = new int[count];
        final int[] turns = new int[count];
        for (int i = 0; i < count; i++)
        {
            final Destination dest = destinations[i];
            perm[i] = Integer.remainderUnsigned(hashKey(dest.address(), dest.port(), HASH1_KEY, 0), size);
            skip[i] = Integer.remainderUnsigned(hashKey(dest.address(), dest.port(), HASH2_KEY, 0), size - 1) + 1;
            final int lw = lastWeight[i];
            final int t = (lw / gcd) >> shift;
            turns[i] = t != 0 ? t : (lw != 0 ? 1 : 0);
        }

        // ip_vs_mh_populate
        final long[] taken = new long[(size + 63) >>> 6];
        int n = 0;
        int dest = 0;
        int dtCount = 0;
        while (true)
        {
            if (dest == count)
            {
                dest = 0;
            }
            if (turns[dest] < 1)
            {
                dest++;
                continue;
            }
            int c = perm[dest];
            while ((taken[c >>> 6] & (1L << c)) != 0)
            {
                perm[dest] += skip[dest];
                if (perm[dest] >= size)
                {
                    perm[dest] -= size;
                }
                c = perm[dest];
            }
            taken[c >>> 6] |= 1L << c;
            lookup[c] = (char)dest;
            if (++n == size)
            {
                return;
            }
            if (++dtCount >= turns[dest])
            {
                dtCount = 0;
                dest++;
            }
        }
    }

    @Override
    public int touch()
    {
        return lookup.length;
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        final int hashPort = port ? sourcePort & 0xFFFF : 0;
        final int ihash = firstSlot(sourceAddress, hashPort, size);
        int dest = lookup[ihash];
        if (dest == EMPTY)
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
        for (int offset = 0; offset < size; offset++)
        {
            final int roffset = (offset + ihash) % size;
            dest = lookup[Integer.remainderUnsigned(hashKey(sourceAddress, hashPort, HASH1_KEY, roffset), size)];
            if (dest == EMPTY)
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

    /**
     * The table slot ip_vs_mh_schedule looks at first for this source ({@code hashPort}: the source port with
     * mh-port, else 0).
     */
    public static int firstSlot(final int sourceAddress, final int hashPort, final int tableSize)
    {
        return Integer.remainderUnsigned(hashKey(sourceAddress, hashPort, HASH1_KEY, 0), tableSize);
    }

    @Override
    public Lookup lookup()
    {
        return Lookup.MAGLEV;
    }

    /** The lookup table itself (slot to destination index, {@link #EMPTY}): the same array for the scheduler's life. */
    @Override
    public char[] lookupTable()
    {
        return lookup;
    }

    @Override
    public SchedulerFlags flags()
    {
        return flags;
    }

    /** ip_vs_mh_hashkey(): hsiphash of the host-order u32 {@code offset + port + address}. */
    static int hashKey(final int address, final int port, final long key, final int offset)
    {
        return KernelHash.hsiphash1u32(offset + (port & 0xFFFF) + address, key, key);
    }

    /** The destination index slot {@code i} holds (-1 when empty); for tests. */
    int slot(final int i)
    {
        return lookup[i] == EMPTY ? -1 : lookup[i];
    }

    /**
     * The kernel's {@code dest->last_weight} for each new destination: its weight when newly added (even 0), else
     * its weight when non-zero, else the last weight it had before.
     */
    private int[] lastWeights(final Destination[] destinations, final int count)
    {
        final IdentityHashMap<Destination, Integer> previous = new IdentityHashMap<>(known.length * 2);
        for (int i = 0; i < known.length; i++)
        {
            previous.put(known[i], knownLastWeight[i]);
        }
        final int[] lastWeight = new int[count];
        for (int i = 0; i < count; i++)
        {
            final int weight = destinations[i].weight();
            final Integer before = previous.get(destinations[i]);
            lastWeight[i] = weight != 0 || before == null ? weight : before;
        }
        return lastWeight;
    }
}
