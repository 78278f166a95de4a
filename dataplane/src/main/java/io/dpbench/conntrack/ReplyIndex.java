package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Which connection a reply tuple belongs to: reply tuple -> original tuple, in the memory of the process that writes
 * the conntrack map, for every connection in it. The map keeps one entry per connection, under its original tuple,
 * and this index is derived from those entries (built again in one pass when a table is opened, a restart after
 * kill -9 included): a new connection then costs one map write instead of two, a reply tuple's lookup one map read
 * as before, and "is this reply tuple taken" (nf_nat_get_unique_tuple's question) no map query at all.
 * <p>
 * Open addressing with linear probing over one off-heap block of 32-byte slots (reply tuple, original tuple); an
 * empty slot's key is zero, which no tuple is (its protocol byte is never 0); removal shifts the probe run back, so
 * there are no tombstones and lookups never slow down with churn. The workers of a node share it: every operation
 * holds the index's monitor (short: a probe of a few slots; uncontended it costs a compare-and-set). Sized once, for
 * the table's maximum; allocation-free.
 */
final class ReplyIndex
{
    private static final int SLOT = 32;

    private final UnsafeBuffer slots;
    private final long capacity;
    private long size;

    /** An index for at most {@code connections} connections (load at most one half). */
    ReplyIndex(final long connections)
    {
        capacity = Math.max(64, 2 * connections + 64);
        if (capacity * SLOT > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("a reply index for " + connections + " connections is larger than 2 GiB");
        }
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned((int)(capacity * SLOT), 64));
    }

    /**
     * Index {@code reply} -> {@code original}; false (and nothing changed) when the reply tuple is indexed already.
     */
    synchronized boolean putIfAbsent(final long replyAddresses, final long replyPorts, final long originalAddresses,
        final long originalPorts)
    {
        long i = home(replyAddresses, replyPorts);
        while (true)
        {
            final int at = offset(i);
            final long a = slots.getLong(at);
            final long p = slots.getLong(at + 8);
            if (a == 0 && p == 0)
            {
                if (size + 1 >= capacity)
                {
                    throw new IllegalStateException("reply index full at " + size + " connections");
                }
                slots.putLong(at, replyAddresses);
                slots.putLong(at + 8, replyPorts);
                slots.putLong(at + 16, originalAddresses);
                slots.putLong(at + 24, originalPorts);
                size++;
                return true;
            }
            if (a == replyAddresses && p == replyPorts)
            {
                return false;
            }
            i = next(i);
        }
    }

    /**
     * The original tuple of the connection whose reply tuple this is, into {@code original} (addresses, ports);
     * false when there is none.
     */
    synchronized boolean original(final long replyAddresses, final long replyPorts, final long[] original)
    {
        final long i = find(replyAddresses, replyPorts);
        if (i < 0)
        {
            return false;
        }
        final int at = offset(i);
        original[0] = slots.getLong(at + 16);
        original[1] = slots.getLong(at + 24);
        return true;
    }

    synchronized boolean contains(final long replyAddresses, final long replyPorts)
    {
        return find(replyAddresses, replyPorts) >= 0;
    }

    /**
     * Remove the reply tuple if it is the one of the connection {@code original} names (not a newer connection's
     * that took the tuple since); true when removed.
     */
    synchronized boolean remove(final long replyAddresses, final long replyPorts, final long originalAddresses,
        final long originalPorts)
    {
        long hole = find(replyAddresses, replyPorts);
        if (hole < 0 || slots.getLong(offset(hole) + 16) != originalAddresses
            || slots.getLong(offset(hole) + 24) != originalPorts)
        {
            return false;
        }
        // backward-shift deletion: move later members of the probe run into the hole while their home allows it
        long j = hole;
        while (true)
        {
            j = next(j);
            final int at = offset(j);
            final long a = slots.getLong(at);
            final long p = slots.getLong(at + 8);
            if (a == 0 && p == 0)
            {
                break;
            }
            final long home = home(a, p);
            // j's entry may fill the hole when its home does not lie cyclically in (hole, j]
            final boolean homeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeBetween)
            {
                slots.putBytes(offset(hole), slots, at, SLOT);
                hole = j;
            }
        }
        slots.setMemory(offset(hole), SLOT, (byte)0);
        size--;
        return true;
    }

    synchronized long size()
    {
        return size;
    }

    private long find(final long replyAddresses, final long replyPorts)
    {
        long i = home(replyAddresses, replyPorts);
        while (true)
        {
            final int at = offset(i);
            final long a = slots.getLong(at);
            final long p = slots.getLong(at + 8);
            if (a == replyAddresses && p == replyPorts)
            {
                return i;
            }
            if (a == 0 && p == 0)
            {
                return -1;
            }
            i = next(i);
        }
    }

    /** The hash's high half scaled onto the slots (not a power of two: no rounding that could double the memory). */
    private long home(final long addresses, final long ports)
    {
        return ((FlowKey.hash(addresses, ports) >>> 32) * capacity) >>> 32;
    }

    private long next(final long i)
    {
        return i + 1 == capacity ? 0 : i + 1;
    }

    private static int offset(final long i)
    {
        return (int)(i * SLOT);
    }
}
