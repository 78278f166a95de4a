package io.dpbench.conntrack;

import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapAbsentEntry;
import net.openhft.chronicle.map.MapEntry;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connection-tracking table in Chronicle Map: off-heap (or in a file, surviving a {@code kill -9}), fixed-size
 * 16-byte keys (a packed tuple) and {@value ConntrackRecord#LENGTH}-byte values, read and written through reused
 * arrays and Chronicle's query contexts, so no entry is serialized into new objects.
 * <p>
 * Each connection is one map entry, under its original tuple; its reply tuple (the reverse direction, with the NAT
 * binding applied: a DNATed connection's reply comes from the backend) is found through a {@link ReplyIndex} in the
 * writing process's memory, derived from the entries (built again when the table is opened), so a packet finds its
 * connection from either direction, as Linux hashes both tuples of a conntrack, and a new connection costs one map
 * write. (Tables written before kept the reply tuple as a second, index entry; opening one for writing removes those,
 * and a reader still follows them.) A {@link TupleFilter} answers most lookups of tuples the map does not hold.
 * At most {@code maxEntries} connections (nf_conntrack_max). When full, an unassured connection among the oldest
 * few inserted is evicted to admit the new one (the kernel's early_drop also evicts only unassured entries, from a
 * bounded number of buckets); when none is found the new connection is refused and counted by the caller.
 * <p>
 * Keys and values go to the map as {@link Data} wrapped once per array ({@link ArrayData}): through
 * {@code queryContext(byte[])} and {@code wrapValueAsData(byte[])}, Chronicle Map 3.25ea6 wraps the array anew at each
 * call (~200 bytes each; ~1 KB a new connection). So a query allocates nothing once its thread's context exists
 * (issue 17). Established flows' packets are still served by a per-worker cache in front (issue 5's design), with
 * every state and NAT change written through to this table.
 * <p>
 * One writer thread per table region is assumed by callers (workers own their flows); Chronicle Map's segment locks
 * make concurrent access from another process (e.g. {@code conntrack list}) safe.
 */
public final class ConntrackTable implements AutoCloseable
{
    /** How many recent insertions early drop looks at. */
    public static final int EARLY_DROP_SCAN = 8;

    private static final int RECENT_RING = 1 << 14;

    public static final int NOT_FOUND = -1;

    /** {@link #insert} outcomes. */
    public static final int INSERTED = 0;
    public static final int FULL = 1;
    public static final int CLASH = 2;
    public static final int ORIGINAL = 0;
    public static final int REPLY = 1;

    private final ChronicleMap<byte[], byte[]> map;
    private final int maxEntries;
    private final byte[] key = new byte[16];
    private final UnsafeBuffer keyBuffer = new UnsafeBuffer(key);
    /** {@link #key} as Chronicle {@link Data}, wrapped once (see {@link ArrayData}). */
    private final ArrayData keyData = new ArrayData(key);
    /** Values handed to the map as {@link Data}, each array wrapped once (see {@link ArrayData}). */
    private final ArrayData.Cache values = new ArrayData.Cache(ConntrackRecord.LENGTH);
    private final ConntrackRecord scratch = new ConntrackRecord();
    private final long[] recentAddresses = new long[RECENT_RING];
    private final long[] recentPorts = new long[RECENT_RING];
    private long recentHead;
    private long recentTail;
    private long earlyDrops;
    /** False for a {@link #view}: closing it leaves the map open. */
    private final boolean ownsMap;
    /** The writer's lock of a persisted table, released at close; null otherwise. */
    private TableFile writer;
    private boolean recovered;
    /** Which connections this table's {@link #reap} may remove (a worker's own); null: all. */
    private Owner owner;

    /** Whether a connection, named by its original tuple, belongs to the caller (a worker of a pipeline). */
    @FunctionalInterface
    public interface Owner
    {
        boolean owns(long originalAddresses, long originalPorts);
    }

    /**
     * Connections in the map, kept by the inserts and removals of this table and its views (shared by them): the
     * map's own size sums every segment's header under its lock (measured: ~45% of a new connection's cost when it
     * was asked at each insert). Null for a table {@link #attach}ed to another process's file, which counts the map.
     */
    private final AtomicLong connections;

    /**
     * The tuples (original and reply) the table may hold, shared like {@link #connections}: a lookup of a tuple it
     * rules out (every new connection's first packet) asks neither the map nor the reply index. Null for an attached
     * table.
     */
    private final TupleFilter filter;
    /** Reply tuple -> original tuple for every connection in the map, shared like {@link #connections}. */
    private final ReplyIndex replies;
    private final long[] originalOfReply = new long[2];

    private ConntrackTable(final ChronicleMap<byte[], byte[]> map, final int maxEntries, final boolean ownsMap,
        final AtomicLong connections, final TupleFilter filter, final ReplyIndex replies)
    {
        this.map = map;
        this.maxEntries = maxEntries;
        this.ownsMap = ownsMap;
        this.connections = connections;
        this.filter = filter;
        this.replies = replies;
    }

    /**
     * A table on {@code map}: its reply index built (and, for a writer, its filter filled and its connections
     * counted) in one pass over the entries; a writer also removes the index entries of an older table's layout.
     */
    private static ConntrackTable open(final ChronicleMap<byte[], byte[]> map, final int maxEntries, final boolean writer)
    {
        // entries beyond maxEntries (a table written with a larger limit) still need their place in the index
        final long size = Math.max(maxEntries, map.longSize());
        final ConntrackTable table = new ConntrackTable(map, maxEntries, true, writer ? new AtomicLong() : null,
            writer ? new TupleFilter(2 * size) : null, new ReplyIndex(size));
        final java.util.List<byte[]> oldIndexEntries = new java.util.ArrayList<>();
        forEachRecord(map, (e, r) ->
        {
            if (r.kind() == ConntrackRecord.KIND_ENTRY)
            {
                table.replies.putIfAbsent(r.replyAddresses(), r.replyPorts(), r.originalAddresses(), r.originalPorts());
                if (writer)
                {
                    table.filter.add(r.originalAddresses(), r.originalPorts());
                    table.filter.add(r.replyAddresses(), r.replyPorts());
                    table.connections.incrementAndGet();
                }
            }
            else if (r.kind() == ConntrackRecord.KIND_REPLY_INDEX && writer)
            {
                oldIndexEntries.add(e.key().get().clone());
            }
        });
        for (final byte[] k : oldIndexEntries)
        {
            map.remove(k);
        }
        return table;
    }

    /** Map entries for {@code maxEntries} connections (one each), the clock, and room for early drop to work in. */
    private static long entries(final int maxEntries)
    {
        return Math.max(1024, (long)maxEntries + 1024);
    }

    /**
     * Another handle on the same map for another thread (a pipeline worker): its own key buffer, scratch record and
     * early-drop ring, so that threads share only the map, whose segment locks make concurrent access safe. Its
     * {@link #reap} removes only connections {@code owner} accepts, so that a worker never reaps a connection whose
     * fresher expiry sits in another worker's cache. Closing a view does not close the map.
     */
    public ConntrackTable view(final Owner owner)
    {
        final ConntrackTable view = new ConntrackTable(map, maxEntries, false, connections, filter, replies);
        view.owner = owner;
        return view;
    }

    /** The map's configuration (package-private for tests: a file written through Chronicle's own data access). */
    static net.openhft.chronicle.map.ChronicleMapBuilder<byte[], byte[]> builder(final int maxEntries)
    {
        return ChronicleMap.of(byte[].class, byte[].class)
            .name("dpbench-conntrack")
            // the map is closed by its owner, after the workers stopped (run's SIGTERM hook waits for that): Chronicle's
            // own exit hook closed it under the stopping node, which then lost its final counters line
            .skipCloseOnExitHook(true)
            .entries(entries(maxEntries))
            .constantKeySizeBySample(new byte[16])
            .constantValueSizeBySample(new byte[ConntrackRecord.LENGTH]);
    }

    /** An in-memory table of at most {@code maxEntries} connections. */
    public static ConntrackTable inMemory(final int maxEntries)
    {
        return open(builder(maxEntries).create(), maxEntries, true);
    }

    /**
     * A table persisted in {@code file}: created, or reopened with its entries and recovered (Chronicle's recovery
     * after a process died holding it, e.g. by SIGKILL). Only for the one dataplane that owns the file.
     */
    public static ConntrackTable persisted(final Path file, final int maxEntries) throws IOException
    {
        final TableFile writer = TableFile.lockForWriting(file); // fails at once when another process writes it
        try
        {
            final boolean exists = Files.exists(file) && Files.size(file) > 0;
            if (exists)
            {
                TableFile.checkHeader(file, true);
            }
            // recovery only after a writer died holding the table: it is not a way of opening a map (Chronicle's
            // own warning), and a table closed cleanly opens as it is
            final boolean recover = exists && !writer.lastCloseClean();
            if (recover)
            {
                // recovery rebuilds whatever it finds, a cut file included (its entries lost without a word): open
                // it plainly first, so that a damaged table is named as such instead
                try (ChronicleMap<byte[], byte[]> probe = builder(maxEntries).createPersistedTo(file.toFile()))
                {
                    probe.size();
                }
                catch (final IOException | RuntimeException ex)
                {
                    throw new TableFile.TableFileException(file + ": damaged: " + ex.getMessage());
                }
            }
            final ChronicleMap<byte[], byte[]> map = recover
                ? builder(maxEntries).createOrRecoverPersistedTo(file.toFile())
                : builder(maxEntries).createPersistedTo(file.toFile());
            withoutExitHook(map);
            final ConntrackTable table = open(map, maxEntries, true);
            table.writer = writer;
            table.recovered = recover;
            return table;
        }
        catch (final IOException | RuntimeException ex)
        {
            writer.abandon();
            throw ex;
        }
    }

    /**
     * Takes the map off Chronicle's exit hook, which closes every open map when the JVM exits, concurrently with the
     * owner's own shutdown (run's SIGTERM hook drains the workers, then closes the table, then prints its counters):
     * the builder's {@code skipCloseOnExitHook} is honoured when a file is created but not when an existing one is
     * opened (Chronicle Map 3.25ea6), so the map is removed from the hook's registry by reflection. If that fails (a
     * later Chronicle), the hook stays: the old behaviour, not an error.
     */
    private static void withoutExitHook(final ChronicleMap<byte[], byte[]> map)
    {
        try
        {
            final Class<?> hook = Class.forName("net.openhft.chronicle.hash.impl.ChronicleHashCloseOnExitHook");
            final Class<?> hash = Class.forName("net.openhft.chronicle.hash.impl.VanillaChronicleHash");
            if (hash.isInstance(map))
            {
                final java.lang.reflect.Method remove = hook.getDeclaredMethod("remove", hash);
                remove.setAccessible(true);
                remove.invoke(null, map);
            }
        }
        catch (final ReflectiveOperationException | RuntimeException ignored)
        {
            // keep Chronicle's hook
        }
    }

    /** True when opening the table ran Chronicle's recovery: its last writer died holding it (e.g. kill -9). */
    public boolean recovered()
    {
        return recovered;
    }

    /**
     * Attach to a table file another process may be using (no recovery), e.g. for {@code conntrack list}: never
     * creates a table, and a file that is not one (empty, damaged) is named as such at once.
     */
    public static ConntrackTable attach(final Path file, final int maxEntries) throws IOException
    {
        TableFile.checkHeader(file, false);
        return open(builder(maxEntries).createPersistedTo(file.toFile()), maxEntries, false);
    }

    /**
     * The map key of a tuple, as {@link Data} over this table's one key array (so {@code map.queryContext(key(..))}
     * takes {@code queryContext(Data)}, which allocates nothing, not {@code queryContext(byte[])}, which wraps the
     * array anew at every query). Not a {@code byte[]}: the map's {@code Object}-typed methods ({@code get},
     * {@code containsKey}, {@code remove}) would take it and fail at run time; use a query context.
     */
    private Data<byte[]> key(final long addresses, final long portsAndProtocol)
    {
        keyBuffer.putLong(0, addresses, ByteOrder.LITTLE_ENDIAN);
        keyBuffer.putLong(8, portsAndProtocol, ByteOrder.LITTLE_ENDIAN);
        return keyData;
    }

    /**
     * A value to store ({@code record.bytes()}), as {@link Data} wrapped once per array instead of
     * {@code context.wrapValueAsData}, which wraps it anew at every call; same bytes stored.
     */
    private Data<byte[]> value(final byte[] bytes)
    {
        return values.of(bytes);
    }

    /**
     * Find the connection a packet with this tuple belongs to; fills {@code out} with the connection's record and
     * returns {@link #ORIGINAL} or {@link #REPLY} (the packet's direction), or {@link #NOT_FOUND}.
     */
    public int lookup(final long addresses, final long portsAndProtocol, final ConntrackRecord out)
    {
        if (!mayHold(addresses, portsAndProtocol))
        {
            return NOT_FOUND;
        }
        // the in-memory index first: a reply tuple then costs one map read, not a miss and a read (no tuple is both
        // a connection's original and another's reply: inserts refuse a tuple taken either way)
        if (replies.original(addresses, portsAndProtocol, originalOfReply))
        {
            // NOT_FOUND: an index naming no entry (its connection is being removed by another worker)
            return read(key(originalOfReply[0], originalOfReply[1]), out) ? REPLY : NOT_FOUND;
        }
        if (read(key(addresses, portsAndProtocol), out))
        {
            if (out.kind() == ConntrackRecord.KIND_ENTRY)
            {
                return ORIGINAL;
            }
            // an index entry of the older layout (a reader of a table written before): it names the original
            return read(key(out.originalAddresses(), out.originalPorts()), out) ? REPLY : NOT_FOUND;
        }
        return NOT_FOUND;
    }

    /** Whether the map holds an entry under this tuple (a query context: no allocation). */
    private boolean holds(final long addresses, final long portsAndProtocol)
    {
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(addresses, portsAndProtocol)))
        {
            c.readLock().lock();
            return c.entry() != null;
        }
    }

    /** False when the map certainly holds no entry under this tuple (the filter's answer; a reader has none). */
    private boolean mayHold(final long addresses, final long portsAndProtocol)
    {
        return filter == null || filter.mayContain(addresses, portsAndProtocol);
    }

    /** Copy the value under {@code k} into {@code out} through a query context (no deserialization objects). */
    private boolean read(final Data<byte[]> k, final ConntrackRecord out)
    {
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(k))
        {
            c.readLock().lock();
            final MapEntry<byte[], byte[]> entry = c.entry();
            if (entry == null)
            {
                return false;
            }
            final Data<byte[]> value = entry.value();
            value.bytes().read(value.offset(), out.bytes(), 0, ConntrackRecord.LENGTH);
            out.readFromBytes();
            return true;
        }
    }

    /**
     * Insert a new connection (its original and reply tuples filled in). Returns true when inserted; false when the
     * table is full and no unassured connection could be evicted, or when either tuple is already taken.
     */
    public boolean insert(final ConntrackRecord record)
    {
        return tryInsert(record) == INSERTED;
    }

    /**
     * As {@link #insert}, telling why not: {@link #FULL} (nothing could be evicted) or {@link #CLASH} (a tuple is
     * taken: the caller may pick another NAT source port, as nf_nat_get_unique_tuple does).
     */
    public int tryInsert(final ConntrackRecord record)
    {
        if (primaryCount() >= maxEntries && !earlyDrop())
        {
            return FULL;
        }
        record.kind(ConntrackRecord.KIND_ENTRY);
        final long originalAddresses = record.originalAddresses();
        final long originalPorts = record.originalPorts();
        final long replyAddresses = record.replyAddresses();
        final long replyPorts = record.replyPorts();
        // a tuple is taken when it is any connection's original or reply tuple (nf_nat_get_unique_tuple's test); the
        // filter answers most of these questions without a probe (it gains each tuple before the table does, and
        // loses it after), and taking the reply tuple's index settles a race with another worker
        final boolean replyMayBeTaken = mayHold(replyAddresses, replyPorts);
        if (replyMayBeTaken && replies.contains(replyAddresses, replyPorts))
        {
            return CLASH;
        }
        if (originalAddresses == replyAddresses && originalPorts == replyPorts
            || mayHold(originalAddresses, originalPorts) && replies.contains(originalAddresses, originalPorts)
            || replyMayBeTaken && holds(replyAddresses, replyPorts))
        {
            return CLASH;
        }
        filter(replyAddresses, replyPorts, true);
        if (!replies.putIfAbsent(replyAddresses, replyPorts, originalAddresses, originalPorts))
        {
            filter(replyAddresses, replyPorts, false); // another worker took it since the check
            return CLASH;
        }
        filter(originalAddresses, originalPorts, true);
        boolean inserted = false;
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(originalAddresses, originalPorts)))
        {
            c.writeLock().lock();
            final MapAbsentEntry<byte[], byte[]> absent = c.absentEntry();
            if (absent != null)
            {
                absent.doInsert(value(record.bytes()));
                inserted = true;
            }
        }
        if (!inserted)
        {
            // another worker took the original tuple since the caller's lookup
            filter(originalAddresses, originalPorts, false);
            replies.remove(replyAddresses, replyPorts, originalAddresses, originalPorts);
            filter(replyAddresses, replyPorts, false);
            return CLASH;
        }
        remember(record.originalAddresses(), record.originalPorts());
        if (connections != null)
        {
            connections.incrementAndGet();
        }
        return INSERTED;
    }

    /** Write a connection's record back (state, status, expiry, counters): every change goes to the map at once. */
    public void update(final ConntrackRecord record)
    {
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(record.originalAddresses(), record.originalPorts())))
        {
            c.writeLock().lock();
            final MapEntry<byte[], byte[]> entry = c.entry();
            final Data<byte[]> value = value(record.bytes());
            if (entry != null)
            {
                entry.doReplaceValue(value);
            }
        }
    }

    /** Remove a connection (both of its tuples). */
    public boolean remove(final ConntrackRecord record)
    {
        final boolean removed = removeEntry(record.originalAddresses(), record.originalPorts());
        if (removed)
        {
            if (replies.remove(record.replyAddresses(), record.replyPorts(), record.originalAddresses(),
                record.originalPorts()))
            {
                filter(record.replyAddresses(), record.replyPorts(), false);
            }
            if (connections != null)
            {
                connections.decrementAndGet();
            }
        }
        return removed;
    }

    /** Remove the map entry keyed by this tuple, under its segment's write lock; false when there was none. */
    private boolean removeEntry(final long addresses, final long portsAndProtocol)
    {
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(addresses, portsAndProtocol)))
        {
            c.writeLock().lock();
            final MapEntry<byte[], byte[]> entry = c.entry();
            if (entry == null)
            {
                return false;
            }
            entry.doRemove();
        }
        filter(addresses, portsAndProtocol, false); // after the entry went: the filter covers the map throughout
        return true;
    }

    /** Add a tuple to the filter (before the table holds it) or take it out (after); a reader has no filter. */
    private void filter(final long addresses, final long portsAndProtocol, final boolean add)
    {
        if (filter != null)
        {
            if (add)
            {
                filter.add(addresses, portsAndProtocol);
            }
            else
            {
                filter.remove(addresses, portsAndProtocol);
            }
        }
    }

    /** Connections in the table. */
    public long primaryCount()
    {
        return connections != null ? connections.get() : countedConnections();
    }

    /** Connections counted from the map (a reader's count: the entries of either layout, one pass). */
    private long countedConnections()
    {
        final long[] n = new long[1];
        map.forEachEntry(e ->
        {
            final Data<byte[]> v = e.value();
            if (v.bytes().readInt(v.offset() + 52) == ConntrackRecord.KIND_ENTRY)
            {
                n[0]++;
            }
        });
        return n[0];
    }

    /**
     * Record the table's clock: the time of the last packet for a table written by {@code replay} (pcap time), so
     * that {@code conntrack list} from another process shows remaining timeouts against it. Stored under the
     * all-zero key, which no packet has.
     */
    public void clock(final long nowMillis)
    {
        scratch.clear().kind(KIND_CLOCK).expiryMillis(nowMillis);
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(0, 0)))
        {
            c.writeLock().lock();
            final MapEntry<byte[], byte[]> entry = c.entry();
            if (entry != null)
            {
                entry.doReplaceValue(value(scratch.bytes()));
            }
            else
            {
                c.absentEntry().doInsert(value(scratch.bytes()));
            }
        }
    }

    /** The clock stored by {@link #clock(long)}, or -1. */
    public long clock()
    {
        return read(key(0, 0), scratch) ? scratch.expiryMillis() : -1;
    }

    /** Visit every connection (not index or clock records); control plane only (allocates). */
    public void forEachConnection(final java.util.function.Consumer<ConntrackRecord> visitor)
    {
        forEachRecord(map, (e, r) ->
        {
            if (r.kind() == ConntrackRecord.KIND_ENTRY)
            {
                visitor.accept(r);
            }
        });
    }

    /** Every entry of the map (connections, an older layout's index entries, the clock) with its record read. */
    private static void forEachRecord(final ChronicleMap<byte[], byte[]> map,
        final java.util.function.BiConsumer<MapEntry<byte[], byte[]>, ConntrackRecord> visitor)
    {
        final ConntrackRecord r = new ConntrackRecord();
        map.forEachEntry(e ->
        {
            final Data<byte[]> v = e.value();
            v.bytes().read(v.offset(), r.bytes(), 0, ConntrackRecord.LENGTH);
            r.readFromBytes();
            visitor.accept(e, r);
        });
    }

    private static final int KIND_CLOCK = 2;

    /**
     * Remove connections whose timeout passed, looking at {@code segments} of the map's segments from where the
     * previous call stopped (bounded work per tick, never a stop-the-world scan on the packet path; a full pass takes
     * {@code segments()} / segments calls). Returns how many connections were removed.
     */
    public int reap(final long nowMillis, final int segments)
    {
        return reap(nowMillis, segments, null);
    }

    /**
     * As {@link #reap(long, int)}, consulting a worker's {@link FlowCache}: a connection whose cached expiry (which
     * may be ahead of the table's, see {@link FlowCache#LAZY_WRITE_MILLIS}) has not passed is kept.
     */
    public int reap(final long nowMillis, final int segments, final FlowCache cache)
    {
        int removed = 0;
        final int total = map.segments();
        for (int n = 0; n < segments && n < total; n++)
        {
            final int segment = reapCursor++ % total;
            final LongArrayList expired = found; // original tuples, two longs each, reused across turns
            expired.clear();
            try (net.openhft.chronicle.map.MapSegmentContext<byte[], byte[], ?> context = map.segmentContext(segment))
            {
                context.forEachSegmentEntry(entry ->
                {
                    final Data<byte[]> v = entry.value();
                    final long kindAndExpiry = v.bytes().readLong(v.offset() + 32);
                    final int kind = v.bytes().readInt(v.offset() + 52);
                    if (kind == ConntrackRecord.KIND_ENTRY && kindAndExpiry < nowMillis)
                    {
                        expired.addLong(v.bytes().readLong(v.offset()));
                        expired.addLong(v.bytes().readLong(v.offset() + 8));
                    }
                });
            }
            for (int i = 0; i < expired.size(); i += 2)
            {
                final long[] k = tuple;
                k[0] = expired.getLong(i);
                k[1] = expired.getLong(i + 1);
                if (cache != null && cache.cachedExpiry(k[0], k[1]) >= nowMillis
                    || owner != null && !owner.owns(k[0], k[1]))
                {
                    continue;
                }
                if (lookup(k[0], k[1], scratch) == ORIGINAL && scratch.expiryMillis() < nowMillis)
                {
                    remove(scratch);
                    removed++;
                }
            }
        }
        return removed;
    }

    private int reapCursor;
    /** What a reap or a stale-flow walk found in one segment (original tuples, two longs each), reused. */
    private final LongArrayList found = new LongArrayList();
    private final long[] tuple = new long[2];

    /** The map's segments: what {@link #removeStale(StaleUdpFlows, int, int)} walks, one at a time. */
    public int segments()
    {
        return map.segments();
    }

    /**
     * kube-proxy's conntrack cleanup for UDP Services: remove every connection {@code stale} matches (see
     * {@link StaleUdpFlows}) among those this table may touch (a {@link #view}'s own; all for the table itself).
     * Walks the whole map; returns how many connections were removed. A worker's {@link FlowCache} must drop the
     * same connections ({@link FlowCache#invalidate(StaleUdpFlows)}), or it keeps translating them.
     */
    public int removeStale(final StaleUdpFlows stale)
    {
        return removeStale(stale, 0, map.segments());
    }

    /**
     * As {@link #removeStale(StaleUdpFlows)} over segments {@code first} to {@code first + count - 1} only (bounded
     * work between a worker's batches: a full pass is {@link #segments()} segments). Returns how many were removed.
     */
    public int removeStale(final StaleUdpFlows stale, final int first, final int count)
    {
        int removed = 0;
        final int end = Math.min(map.segments(), first + count);
        final LongArrayList matched = found;
        for (int segment = Math.max(0, first); segment < end; segment++)
        {
            matched.clear();
            try (net.openhft.chronicle.map.MapSegmentContext<byte[], byte[], ?> context = map.segmentContext(segment))
            {
                context.forEachSegmentEntry(entry ->
                {
                    final Data<byte[]> v = entry.value();
                    final long o = v.offset();
                    if (v.bytes().readInt(o + 52) == ConntrackRecord.KIND_ENTRY
                        && stale.matches(v.bytes().readLong(o), v.bytes().readLong(o + 8), v.bytes().readLong(o + 16)))
                    {
                        matched.addLong(v.bytes().readLong(o));
                        matched.addLong(v.bytes().readLong(o + 8));
                    }
                });
            }
            for (int i = 0; i < matched.size(); i += 2)
            {
                final long[] k = tuple;
                k[0] = matched.getLong(i);
                k[1] = matched.getLong(i + 1);
                if (owner != null && !owner.owns(k[0], k[1]))
                {
                    continue; // another worker's connection: it cleans its own
                }
                if (lookup(k[0], k[1], scratch) == ORIGINAL && stale.matches(scratch))
                {
                    remove(scratch);
                    removed++;
                }
            }
        }
        return removed;
    }

    public long earlyDrops()
    {
        return earlyDrops;
    }

    public int maxEntries()
    {
        return maxEntries;
    }

    private void remember(final long addresses, final long ports)
    {
        if (recentHead - recentTail == RECENT_RING)
        {
            recentTail++;
        }
        final int i = (int)(recentHead++ & (RECENT_RING - 1));
        recentAddresses[i] = addresses;
        recentPorts[i] = ports;
    }

    /** Evict one unassured connection among the oldest recent insertions; true when one was evicted. */
    private boolean earlyDrop()
    {
        for (int n = 0; n < EARLY_DROP_SCAN && recentTail < recentHead; n++)
        {
            final int i = (int)(recentTail++ & (RECENT_RING - 1));
            final int direction = lookup(recentAddresses[i], recentPorts[i], scratch);
            if (direction == ORIGINAL && !scratch.assured())
            {
                remove(scratch);
                earlyDrops++;
                return true;
            }
        }
        return false;
    }

    @Override
    public void close()
    {
        if (ownsMap)
        {
            map.close();
            if (writer != null)
            {
                try
                {
                    writer.close();
                }
                catch (final IOException ex)
                {
                    throw new java.io.UncheckedIOException(writer + ": cannot mark the table closed: " + ex, ex);
                }
            }
        }
    }
}
