package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;

/**
 * A worker's cache of hot connections in front of the {@link ConntrackTable}: a lookup by either tuple touches two
 * plain arrays and one record instead of a Chronicle Map query (~0.3-0.7 us and 192 bytes of garbage each, measured),
 * and a packet that changes nothing but counters and expiry does not rewrite the entry.
 * <p>
 * 4-way set-associative: a connection lives in one of the {@value #WAYS} slots of the set its original tuple hashes
 * to (a newcomer takes a free way or evicts the least recently used, flushing it first if it has unwritten changes);
 * a second 4-way index maps the reply tuple's set to the slot. Each hit is checked against the record's own tuples. The table stays the source of truth: the caller writes every state, status and NAT
 * change through at once ({@link #written}); counters and expiry may trail by up to
 * {@link #LAZY_WRITE_MILLIS} ({@link #dirty}, flushed by {@link #flushIfDue}, on eviction, or by {@link #flushAll}).
 * One owner thread; allocation-free after construction.
 */
public final class FlowCache
{
    /** The longest a connection's counters and expiry may trail in the table (notes: at most once a second). */
    public static final long LAZY_WRITE_MILLIS = 1_000;
    public static final int WAYS = 4;

    private final ConntrackTable table;
    private final int setMask;
    private final ConntrackRecord[] records;
    private final boolean[] valid;
    private final boolean[] dirtySlot;
    private final long[] writtenMillis;
    private final long[] lastUsed;
    /** Reply-tuple index: per set of the reply tuple's hash, {@value #WAYS} slot numbers (-1 = empty). */
    private final int[] replyIndex;
    private long tick;
    private long hits;
    private long misses;
    private long flushes;

    /** @param capacity slots, rounded up to a power of two (at least 16) */
    public FlowCache(final ConntrackTable table, final int capacity)
    {
        final int size = Integer.highestOneBit(Math.max(16, capacity - 1)) << 1;
        this.table = table;
        this.setMask = size / WAYS - 1;
        records = new ConntrackRecord[size];
        for (int i = 0; i < size; i++)
        {
            records[i] = new ConntrackRecord();
        }
        valid = new boolean[size];
        dirtySlot = new boolean[size];
        writtenMillis = new long[size];
        lastUsed = new long[size];
        replyIndex = new int[size];
        java.util.Arrays.fill(replyIndex, -1);
    }

    private int set(final long addresses, final long ports)
    {
        return ((int)FlowKey.hash(addresses, ports) & setMask) * WAYS;
    }

    /**
     * The cached connection a packet with this tuple belongs to: its slot ({@code >= 0}) with the packet's direction
     * in {@link #direction}, or -1 on a miss.
     */
    public int lookup(final long addresses, final long ports)
    {
        final int base = set(addresses, ports);
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            if (valid[s])
            {
                final ConntrackRecord r = records[s];
                if (r.originalAddresses() == addresses && r.originalPorts() == ports)
                {
                    hits++;
                    lastUsed[s] = ++tick;
                    direction = ConntrackTable.ORIGINAL;
                    return s;
                }
            }
        }
        for (int w = 0; w < WAYS; w++)
        {
            final int s = replyIndex[base + w];
            if (s >= 0 && valid[s])
            {
                final ConntrackRecord r = records[s];
                if (r.replyAddresses() == addresses && r.replyPorts() == ports)
                {
                    hits++;
                    lastUsed[s] = ++tick;
                    direction = ConntrackTable.REPLY;
                    return s;
                }
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
        final int base = set(record.originalAddresses(), record.originalPorts());
        int victim = -1;
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            if (valid[s] && records[s].originalAddresses() == record.originalAddresses()
                && records[s].originalPorts() == record.originalPorts())
            {
                victim = s; // the same connection: refresh in place
                break;
            }
            if (!valid[s])
            {
                victim = victim >= 0 && !valid[victim] ? victim : s;
            }
            else if (victim < 0 || (valid[victim] && lastUsed[s] < lastUsed[victim]))
            {
                victim = s;
            }
        }
        if (valid[victim])
        {
            final ConntrackRecord old = records[victim];
            if (dirtySlot[victim] && !(old.originalAddresses() == record.originalAddresses()
                && old.originalPorts() == record.originalPorts()))
            {
                table.update(old);
                flushes++;
            }
            unindexReply(victim);
        }
        records[victim].copyFrom(record);
        valid[victim] = true;
        dirtySlot[victim] = false;
        writtenMillis[victim] = nowMillis;
        lastUsed[victim] = ++tick;
        indexReply(victim);
        return victim;
    }

    private void indexReply(final int slot)
    {
        final ConntrackRecord r = records[slot];
        final int base = set(r.replyAddresses(), r.replyPorts());
        int way = -1;
        for (int w = 0; w < WAYS && way < 0; w++)
        {
            final int s = replyIndex[base + w];
            if (s < 0 || !valid[s] || s == slot)
            {
                way = w;
            }
        }
        if (way < 0)
        {
            way = 0;
            for (int w = 1; w < WAYS; w++)
            {
                if (lastUsed[replyIndex[base + w]] < lastUsed[replyIndex[base + way]])
                {
                    way = w; // its connection stays cached; its replies find it through the table again
                }
            }
        }
        replyIndex[base + way] = slot;
    }

    private void unindexReply(final int slot)
    {
        final ConntrackRecord r = records[slot];
        final int base = set(r.replyAddresses(), r.replyPorts());
        for (int w = 0; w < WAYS; w++)
        {
            if (replyIndex[base + w] == slot)
            {
                replyIndex[base + w] = -1;
            }
        }
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
            unindexReply(slot);
        }
        valid[slot] = false;
        dirtySlot[slot] = false;
    }

    /**
     * Forget every cached connection {@code stale} matches (kube-proxy's UDP cleanup, on the worker's thread, with
     * {@link ConntrackTable#removeStale} on its table view). Unwritten counters of those connections are dropped with
     * them: the connections are being deleted. Returns how many were forgotten.
     */
    public int invalidate(final StaleUdpFlows stale)
    {
        int n = 0;
        for (int s = 0; s < records.length; s++)
        {
            if (valid[s] && stale.matches(records[s]))
            {
                invalidate(s);
                n++;
            }
        }
        return n;
    }

    /** The cached expiry of a connection by its original tuple, or -1 when it is not cached. */
    public long cachedExpiry(final long originalAddresses, final long originalPorts)
    {
        final int base = set(originalAddresses, originalPorts);
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            final ConntrackRecord r = records[s];
            if (valid[s] && r.originalAddresses() == originalAddresses && r.originalPorts() == originalPorts)
            {
                return r.expiryMillis();
            }
        }
        return -1;
    }

    /** Write every trailing entry through (before a shutdown, or a table read by another process). */
    public void flushAll(final long nowMillis)
    {
        for (int s = 0; s < records.length; s++)
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
