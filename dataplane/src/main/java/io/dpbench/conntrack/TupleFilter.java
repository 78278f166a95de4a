package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Which tuples the conntrack map may hold: a counting Bloom filter over its keys (every connection's original tuple
 * and reply-tuple index), kept by the process that writes the map and shared by its workers' table views, so that a
 * packet of a new connection, whose tuple the map does not hold, is known to be new without a map query. Measured:
 * that query (a miss) was ~40% of a new connection's cost, a segment lock and two cache misses in the map's
 * off-heap memory; the filter's answer is one cache line.
 * <p>
 * Blocked: a tuple's {@value #PROBES} counters lie in one 64-byte block (16 int counters) chosen by its hash, so that
 * asking costs one cache line and adding or removing a tuple touches one. {@value #COUNTERS_PER_KEY} counters per
 * key the table may hold give ~5% false positives (those packets ask the map, as all did before); there are no false
 * negatives: a tuple is added before its map entry is inserted and removed after its entry is removed, so the filter
 * always covers the map, whatever the workers interleave. Counters are changed with atomic adds (workers share it).
 * Off-heap, aligned to cache lines; allocation-free.
 */
final class TupleFilter
{
    static final int COUNTERS_PER_KEY = 8;
    static final int PROBES = 3;
    private static final int BLOCK_BYTES = 64;
    private static final int COUNTER_BITS_PER_PROBE = 4; // 16 counters per block

    private final UnsafeBuffer counters;
    private final long blocks;

    /** A filter for at most {@code keys} tuples (two per connection). */
    TupleFilter(final long keys)
    {
        blocks = Math.max(64, keys * COUNTERS_PER_KEY / 16);
        if (blocks * BLOCK_BYTES > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("a filter for " + keys + " tuples is larger than 2 GiB");
        }
        counters = new UnsafeBuffer(BufferUtil.allocateDirectAligned((int)(blocks * BLOCK_BYTES), BLOCK_BYTES));
    }

    /** False when the map certainly holds no entry under this tuple; true when it may. */
    boolean mayContain(final long addresses, final long portsAndProtocol)
    {
        final long h = hash(addresses, portsAndProtocol);
        final int block = block(h);
        for (int p = 0; p < PROBES; p++)
        {
            if (counters.getIntVolatile(counter(block, h, p)) == 0)
            {
                return false;
            }
        }
        return true;
    }

    /** The map is about to hold an entry under this tuple. */
    void add(final long addresses, final long portsAndProtocol)
    {
        change(addresses, portsAndProtocol, 1);
    }

    /** The map's entry under this tuple was removed (or its insertion failed). */
    void remove(final long addresses, final long portsAndProtocol)
    {
        change(addresses, portsAndProtocol, -1);
    }

    private void change(final long addresses, final long portsAndProtocol, final int delta)
    {
        final long h = hash(addresses, portsAndProtocol);
        final int block = block(h);
        for (int p = 0; p < PROBES; p++)
        {
            // two probes may pick the same counter: each adds, and each removal takes its share back
            counters.getAndAddInt(counter(block, h, p), delta);
        }
    }

    /** Independent of the flow cache's set index, which takes the low bits of {@link FlowKey#hash}. */
    private static long hash(final long addresses, final long portsAndProtocol)
    {
        return FlowKey.mix64(FlowKey.hash(addresses, portsAndProtocol) ^ 0x9E37_79B9_7F4A_7C15L);
    }

    /** The hash's high half scaled onto the blocks (no power-of-two rounding, which could double the memory). */
    private int block(final long h)
    {
        return (int)(((h >>> 32) * blocks) >>> 32) * BLOCK_BYTES;
    }

    private static int counter(final int block, final long h, final int probe)
    {
        return block + (int)((h >>> (probe * COUNTER_BITS_PER_PROBE)) & 15) * Integer.BYTES;
    }

    /** Bytes of off-heap memory the filter holds. */
    long bytes()
    {
        return counters.capacity();
    }
}
