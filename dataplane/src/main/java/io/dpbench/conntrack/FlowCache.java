package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;

/**
 * A worker's cache of hot connections in front of the {@link ConntrackTable}: a lookup by either tuple touches two
 * plain arrays and one record instead of a Chronicle Map query (~0.3-0.7 us and 192 bytes of garbage each, measured),
 * and a packet that changes nothing but counters and expiry does not rewrite the entry.
 * <p>
 * Direct-mapped: a connection lives in the slot its original tuple hashes to (a newcomer evicts the occupant, flushing
 * it first if it has unwritten changes); a second index maps the reply tuple's hash to that slot. Each hit is checked
 * against the record's own tuples. The table stays the source of truth: the caller writes every state, status and NAT
 * change through at once ({@link #written}); counters and expiry may trail by up to
 * {@link #LAZY_WRITE_MILLIS} ({@link #dirty}, flushed by {@link #flushIfDue}, on eviction, or by {@link #flushAll}).
 * One owner thread; allocation-free after construction.
 */
public final class FlowCache
{
    /** The longest a connection's counters and expiry may trail in the table (notes: at most once a second). */
    public static final long LAZY_WRITE_MILLIS = 1_000;

    private final ConntrackTable table;
    private final int mask;
    private final ConntrackRecord[] records;
    private final boolean[] valid;
    private final boolean[] dirtySlot;
    private final long[] writtenMillis;
    private final int[] replyIndex;
    private long hits;
    private long misses;
    private long flushes;

    /** @param capacity slots, rounded up to a power of two */
    public FlowCache(final ConntrackTable table, final int capacity)
    {
        final int size = Integer.highestOneBit(Math.max(16, capacity - 1)) << 1;
        this.table = table;
        this.mask = size - 1;
        records = new ConntrackRecord[size];
        for (int i = 0; i < size; i++)
        {
            records[i] = new ConntrackRecord();
        }
        valid = new boolean[size];
        dirtySlot = new boolean[size];
        writtenMillis = new long[size];
        replyIndex = new int[size];
        java.util.Arrays.fill(replyIndex, -1);
    }

    private int slot(final long addresses, final long ports)
    {
        return (int)FlowKey.hash(addresses, ports) & mask;
    }

    /**
     * The cached connection a packet with this tuple belongs to: its slot ({@code >= 0}) with the packet's direction
     * in {@link #direction}, or -1 on a miss.
     */
    public int lookup(final long addresses, final long ports)
    {
        int s = slot(addresses, ports);
        if (valid[s])
        {
            final ConntrackRecord r = records[s];
            if (r.originalAddresses() == addresses && r.originalPorts() == ports)
            {
                hits++;
                direction = ConntrackTable.ORIGINAL;
                return s;
            }
        }
        s = replyIndex[slot(addresses, ports)];
        if (s >= 0 && valid[s])
        {
            final ConntrackRecord r = records[s];
            if (r.replyAddresses() == addresses && r.replyPorts() == ports)
            {
                hits++;
                direction = ConntrackTable.REPLY;
                return s;
            }
        }
        misses++;
        return -1;
    }

    /** The direction of the packet of the last successful {@link #lookup}. */
    public int direction;

    public ConntrackRecord record(final int slot)
    {
        return records[slot];
    }

    /** Cache a connection just read from or written to the table (clean). Returns its slot. */
    public int admit(final ConntrackRecord record, final long nowMillis)
    {
        final int s = slot(record.originalAddresses(), record.originalPorts());
        if (valid[s])
        {
            final ConntrackRecord old = records[s];
            if (dirtySlot[s] && !(old.originalAddresses() == record.originalAddresses()
                && old.originalPorts() == record.originalPorts()))
            {
                table.update(old);
                flushes++;
            }
            final int oldReply = slot(old.replyAddresses(), old.replyPorts());
            if (replyIndex[oldReply] == s)
            {
                replyIndex[oldReply] = -1;
            }
        }
        records[s].copyFrom(record);
        valid[s] = true;
        dirtySlot[s] = false;
        writtenMillis[s] = nowMillis;
        replyIndex[slot(record.replyAddresses(), record.replyPorts())] = s;
        return s;
    }

    /** The slot's record was just written to the table. */
    public void written(final int slot, final long nowMillis)
    {
        dirtySlot[slot] = false;
        writtenMillis[slot] = nowMillis;
    }

    /** The slot's record changed only in counters or expiry. */
    public void dirty(final int slot)
    {
        dirtySlot[slot] = true;
    }

    /** Write the slot through if it has trailed for {@link #LAZY_WRITE_MILLIS}. */
    public void flushIfDue(final int slot, final long nowMillis)
    {
        if (dirtySlot[slot] && nowMillis - writtenMillis[slot] >= LAZY_WRITE_MILLIS)
        {
            table.update(records[slot]);
            flushes++;
            written(slot, nowMillis);
        }
    }

    /** Forget the slot (its connection was removed from the table). */
    public void invalidate(final int slot)
    {
        if (valid[slot])
        {
            final ConntrackRecord r = records[slot];
            final int reply = slot(r.replyAddresses(), r.replyPorts());
            if (replyIndex[reply] == slot)
            {
                replyIndex[reply] = -1;
            }
        }
        valid[slot] = false;
        dirtySlot[slot] = false;
    }

    /** The cached expiry of a connection by its original tuple, or -1 when it is not cached. */
    public long cachedExpiry(final long originalAddresses, final long originalPorts)
    {
        final int s = slot(originalAddresses, originalPorts);
        final ConntrackRecord r = records[s];
        return valid[s] && r.originalAddresses() == originalAddresses && r.originalPorts() == originalPorts
            ? r.expiryMillis() : -1;
    }

    /** Write every trailing entry through (before a shutdown, or a table read by another process). */
    public void flushAll(final long nowMillis)
    {
        for (int s = 0; s <= mask; s++)
        {
            if (valid[s] && dirtySlot[s])
            {
                table.update(records[s]);
                flushes++;
                written(s, nowMillis);
            }
        }
    }

    public long hits()
    {
        return hits;
    }

    public long misses()
    {
        return misses;
    }

    public long flushes()
    {
        return flushes;
    }
}
