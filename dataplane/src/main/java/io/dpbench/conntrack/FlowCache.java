package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

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
 * <p>
 * Layout, for a lookup that touches few cache lines: the tuples a lookup compares are kept apart from the records,
 * in flat blocks ({@code originalKeys}: a set's four ways are one 64-byte line), and the records lie back to back
 * in one block ({@link ConntrackRecord#LENGTH} bytes each) reached through one flyweight, with no object per
 * connection to chase. An empty slot's keys are zero, which no packet's tuple is (its protocol byte is never 0).
 */
public final class FlowCache
{
    /** The longest a connection's counters and expiry may trail in the table (notes: at most once a second). */
    public static final long LAZY_WRITE_MILLIS = 1_000;
    public static final int WAYS = 4;

    private final ConntrackTable table;
    private final int setMask;
    private final int size;
    /**
     * Per slot: original addresses, original ports (FlowKey packing; 16 bytes); zeros when empty. Off-heap and
     * aligned to a cache line, so that a set's four ways are one line (a {@code long[]}'s elements start 16 bytes
     * into the object, which put most sets across two).
     */
    private final UnsafeBuffer originalKeys;
    /** Per slot: reply addresses, reply ports (same layout). */
    private final UnsafeBuffer replyKeys;
    /**
     * The slots, {@value #STRIDE} bytes each (two cache lines): the record ({@link ConntrackRecord#LENGTH} bytes),
     * then the slot's write state (last write, dirty flag), which a hit's bookkeeping changes with the record.
     */
    private final UnsafeBuffer records;
    private static final int STRIDE = 128;
    private static final int KEY = 16;
    private static final int CACHE_LINE = 64;
    private static final int WRITTEN = ConntrackRecord.LENGTH;
    private static final int DIRTY = WRITTEN + 8;
    /**
     * Per slot, 8 bytes: when it was last used (the cache's tick, from 1), 0 when the slot is empty. Apart from the
     * records, so that choosing a victim among a set's four ways (and checking the slots a reply index names) reads
     * one small line instead of four records' lines.
     */
    private final UnsafeBuffer meta;
    /** What {@link #record} hands out; {@link #slotRecord} is the cache's own (eviction, flushes). */
    private final ConntrackRecord view;
    private final ConntrackRecord own;
    /** Reply-tuple index: per set of the reply tuple's hash, {@value #WAYS} slot numbers (-1 = empty). */
    private final int[] replyIndex;
    private long tick;
    private long hits;
    private long misses;
    private long flushes;

    /** @param capacity slots, rounded up to a power of two (at least 16) */
    public FlowCache(final ConntrackTable table, final int capacity)
    {
        size = Integer.highestOneBit(Math.max(16, capacity - 1)) << 1;
        this.table = table;
        this.setMask = size / WAYS - 1;
        originalKeys = new UnsafeBuffer(BufferUtil.allocateDirectAligned(KEY * size, CACHE_LINE));
        replyKeys = new UnsafeBuffer(BufferUtil.allocateDirectAligned(KEY * size, CACHE_LINE));
        // a slot is two cache lines (the record's hot fields and the slot's state), never three
        records = new UnsafeBuffer(BufferUtil.allocateDirectAligned(size * STRIDE, CACHE_LINE));
        meta = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8 * size, CACHE_LINE));
        view = new ConntrackRecord(records);
        own = new ConntrackRecord(records);
        replyIndex = new int[size];
        java.util.Arrays.fill(replyIndex, -1);
    }

    private int set(final long addresses, final long ports)
    {
        return ((int)FlowKey.hash(addresses, ports) & setMask) * WAYS;
    }

    private ConntrackRecord slotRecord(final int slot)
    {
        return own.wrap(slot * STRIDE);
    }

    /**
     * The cached connection a packet with this tuple belongs to: its slot ({@code >= 0}) with the packet's direction
     * in {@link #direction}, or -1 on a miss.
     */
    public int lookup(final long addresses, final long ports)
    {
        final int base = set(addresses, ports);
        final UnsafeBuffer keys = originalKeys;
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            if (keys.getLong(KEY * s) == addresses && keys.getLong(KEY * s + 8) == ports)
            {
                return hit(s, ConntrackTable.ORIGINAL);
            }
        }
        for (int w = 0; w < WAYS; w++)
        {
            final int s = replyIndex[base + w];
            if (s >= 0 && replyKeys.getLong(KEY * s) == addresses && replyKeys.getLong(KEY * s + 8) == ports)
            {
                return hit(s, ConntrackTable.REPLY);
            }
        }
        misses++;
        return -1;
    }

    private int hit(final int slot, final int packetDirection)
    {
        hits++;
        lastUsed(slot, ++tick);
        direction = packetDirection;
        return slot;
    }

    /** The direction of the packet of the last successful {@link #lookup}. */
    public int direction;

    /**
     * The slot's record, to read and change in place. One flyweight: valid until the next call of this method
     * (the cache's own work uses another).
     */
    public ConntrackRecord record(final int slot)
    {
        return view.wrap(slot * STRIDE);
    }

    /** Cache a connection just read from or written to the table (clean). Returns its slot. */
    public int admit(final ConntrackRecord record, final long nowMillis)
    {
        final long addresses = record.originalAddresses();
        final long ports = record.originalPorts();
        final int base = set(addresses, ports);
        int victim = -1;
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            if (valid(s) && originalKeys.getLong(KEY * s) == addresses && originalKeys.getLong(KEY * s + 8) == ports)
            {
                victim = s; // the same connection: refresh in place
                break;
            }
            if (!valid(s))
            {
                victim = victim >= 0 && !valid(victim) ? victim : s;
            }
            else if (victim < 0 || (valid(victim) && lastUsed(s) < lastUsed(victim)))
            {
                victim = s;
            }
        }
        if (valid(victim))
        {
            if (flag(victim, DIRTY) && !(originalKeys.getLong(KEY * victim) == addresses && originalKeys.getLong(KEY * victim + 8) == ports))
            {
                table.update(slotRecord(victim));
                flushes++;
            }
            unindexReply(victim);
        }
        slotRecord(victim).copyFrom(record);
        originalKeys.putLong(KEY * victim, addresses);
        originalKeys.putLong(KEY * victim + 8, ports);
        replyKeys.putLong(KEY * victim, record.replyAddresses());
        replyKeys.putLong(KEY * victim + 8, record.replyPorts());
                flag(victim, DIRTY, false);
        writtenMillis(victim, nowMillis);
        lastUsed(victim, ++tick);
        indexReply(victim);
        return victim;
    }

    private void indexReply(final int slot)
    {
        final int base = set(replyKeys.getLong(KEY * slot), replyKeys.getLong(KEY * slot + 8));
        int way = -1;
        for (int w = 0; w < WAYS && way < 0; w++)
        {
            final int s = replyIndex[base + w];
            if (s < 0 || !valid(s) || s == slot)
            {
                way = w;
            }
        }
        if (way < 0)
        {
            way = 0;
            for (int w = 1; w < WAYS; w++)
            {
                if (lastUsed(replyIndex[base + w]) < lastUsed(replyIndex[base + way]))
                {
                    way = w; // its connection stays cached; its replies find it through the table again
                }
            }
        }
        replyIndex[base + way] = slot;
    }

    private void unindexReply(final int slot)
    {
        final int base = set(replyKeys.getLong(KEY * slot), replyKeys.getLong(KEY * slot + 8));
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
        flag(slot, DIRTY, false);
        writtenMillis(slot, nowMillis);
    }

    /** The slot's record changed only in counters or expiry. */
    public void dirty(final int slot)
    {
        flag(slot, DIRTY, true);
    }

    /** Write the slot through if it has trailed for {@link #LAZY_WRITE_MILLIS}. */
    public void flushIfDue(final int slot, final long nowMillis)
    {
        if (flag(slot, DIRTY) && nowMillis - writtenMillis(slot) >= LAZY_WRITE_MILLIS)
        {
            table.update(slotRecord(slot));
            flushes++;
            written(slot, nowMillis);
        }
    }

    /** Forget the slot (its connection was removed from the table). */
    public void invalidate(final int slot)
    {
        if (valid(slot))
        {
            unindexReply(slot);
        }
        meta.putLong(8 * slot, 0);
        flag(slot, DIRTY, false);
        originalKeys.putLong(KEY * slot, 0);
        originalKeys.putLong(KEY * slot + 8, 0);
        replyKeys.putLong(KEY * slot, 0);
        replyKeys.putLong(KEY * slot + 8, 0);
    }

    /**
     * Forget every cached connection {@code stale} matches (kube-proxy's UDP cleanup, on the worker's thread, with
     * {@link ConntrackTable#removeStale} on its table view). Unwritten counters of those connections are dropped with
     * them: the connections are being deleted. Returns how many were forgotten.
     */
    public int invalidate(final StaleUdpFlows stale)
    {
        int n = 0;
        for (int s = 0; s < size; s++)
        {
            if (valid(s) && stale.matches(slotRecord(s)))
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
        final int s = slotOf(originalAddresses, originalPorts);
        return s < 0 ? -1 : slotRecord(s).expiryMillis();
    }

    /** The slot of a cached connection by its original tuple, or -1 (no hit counted, no use recorded). */
    public int slotOf(final long originalAddresses, final long originalPorts)
    {
        final int base = set(originalAddresses, originalPorts);
        for (int w = 0; w < WAYS; w++)
        {
            final int s = base + w;
            if (valid(s) && originalKeys.getLong(KEY * s) == originalAddresses
                && originalKeys.getLong(KEY * s + 8) == originalPorts)
            {
                return s;
            }
        }
        return -1;
    }

    /** Write every trailing entry through (before a shutdown, or a table read by another process). */
    public void flushAll(final long nowMillis)
    {
        for (int s = 0; s < size; s++)
        {
            if (valid(s) && flag(s, DIRTY))
            {
                table.update(slotRecord(s));
                flushes++;
                written(s, nowMillis);
            }
        }
    }

    private boolean valid(final int slot)
    {
        return meta.getLong(8 * slot) != 0;
    }

    private long lastUsed(final int slot)
    {
        return meta.getLong(8 * slot);
    }

    /** Mark a valid slot used at {@code tick} (from 1: a slot's meta is 0 only while it is empty). */
    private void lastUsed(final int slot, final long value)
    {
        meta.putLong(8 * slot, value);
    }

    private long writtenMillis(final int slot)
    {
        return records.getLong(slot * STRIDE + WRITTEN);
    }

    private void writtenMillis(final int slot, final long value)
    {
        records.putLong(slot * STRIDE + WRITTEN, value);
    }

    private boolean flag(final int slot, final int which)
    {
        return records.getByte(slot * STRIDE + which) != 0;
    }

    private void flag(final int slot, final int which, final boolean value)
    {
        records.putByte(slot * STRIDE + which, (byte)(value ? 1 : 0));
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
