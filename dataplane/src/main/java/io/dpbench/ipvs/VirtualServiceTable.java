package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.MaglevScheduler;
import io.dpbench.ipvs.sched.RoundRobinScheduler;
import io.dpbench.ipvs.sched.Scheduler;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.packet.FlowKey;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * The virtual services of a node in an open-addressing hash table keyed by (protocol, address, port) packed into a
 * long ({@link VirtualService#key}): one probe per new flow, whatever the number of Services (IPVS's
 * ip_vs_service_find). Linear probing at a load factor of at most 1/2, backward-shift deletion (no tombstones), no
 * boxing.
 * <p>
 * Each slot is one 64-byte cache line of an off-heap, line-aligned slab that holds what a new flow's decision reads:
 * the key, the service's kind, its destination count, the first {@value #INLINE_DESTINATIONS} destinations (address,
 * port, available) and, for rr without persistence and with at most that many destinations, rr's cursor itself. So
 * a new flow to an rr service reads one line, found by hashing, instead of following references from the slot to the
 * service, its scheduler, its server list and the servers (about six lines, which for thousands of active Services
 * spill out of the core's L2 cache: the cost then grew with N). For mh a parallel array holds the service's lookup
 * table, so its first choice costs the line and one table slot. Other schedulers keep their state in their objects
 * ({@link #valueAt}); they still read the chosen server's address from the line. The line is a copy the table keeps
 * current: a {@link VirtualService} in a table reports every change of its servers ({@link #refresh}), and rr's cursor
 * moves between the line and the scheduler object around each change ({@link #pullCursor}), so the kernel's rr
 * semantics (cursor kept across adds and removes) hold whichever side owns it.
 * <p>
 * {@link #findBatch} looks up a batch in two passes, first touching every flow's slot, then resolving them, so
 * that the cache misses of many flows overlap instead of following one another (DPDK's bulk lookups, VPP's
 * prefetching pipeline). Owned by one thread; changes are incremental.
 */
public final class VirtualServiceTable
{
    /** Destinations whose (address, port, available) the slot line holds. */
    public static final int INLINE_DESTINATIONS = 5;

    private static final int SLOT_BYTES = 64;
    private static final int KEY = 0;
    /** int: {@link #INLINE_RR} | kind << 8. */
    private static final int FLAGS = 8;
    private static final int COUNT = 12;
    private static final int CURSOR = 16;
    /** INLINE_DESTINATIONS longs: address << 32 | port << 16 | available. */
    private static final int DESTINATIONS = 24;
    private static final int INLINE_RR = 1;
    /** mh without persistence: its lookup table is {@link #state}[slot], its flags below. */
    private static final int INLINE_MH = 2;
    private static final int MH_PORT = 4;
    private static final int MH_FALLBACK = 8;
    private static final int INITIAL_CAPACITY = 16;

    /**
     * Test hook, never for use: with {@code -Ddpbench.test.linearIpvsLookup=true} every lookup scans the whole table
     * instead of hashing, an O(N) slip planted so that the regression gate can be shown to catch one. Read once; a
     * constant false costs nothing after JIT compilation.
     */
    static final boolean LINEAR_SCAN_HOOK = Boolean.getBoolean("dpbench.test.linearIpvsLookup");

    private UnsafeBuffer slots;
    private VirtualService[] values;
    /** Per slot, the scheduler state a line cannot hold but a decision reads first: mh's lookup table. */
    private Object[] state;
    private int mask;
    private int size;

    public VirtualServiceTable()
    {
        allocate(INITIAL_CAPACITY);
    }

    private void allocate(final int capacity)
    {
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * SLOT_BYTES, SLOT_BYTES));
        values = new VirtualService[capacity];
        state = new Object[capacity];
        mask = capacity - 1;
    }

    private static int home(final long key, final int mask)
    {
        return (int)FlowKey.mix64(key) & mask;
    }

    private long keyAt(final int slot)
    {
        return slots.getLong(slot * SLOT_BYTES + KEY);
    }

    /** Adds or replaces the service with the same key; returns the one replaced, or null. */
    public VirtualService put(final VirtualService service)
    {
        if (service.owner() != null)
        {
            throw new IllegalStateException(service + " is already in a table");
        }
        final long key = service.key();
        int i = home(key, mask);
        long at;
        while ((at = keyAt(i)) != 0)
        {
            if (at == key)
            {
                final VirtualService old = values[i];
                pullCursor(i); // the replaced service leaves with its rr state
                old.unbind();
                values[i] = service;
                service.bind(this, i);
                refresh(i);
                return old;
            }
            i = (i + 1) & mask;
        }
        slots.putLong(i * SLOT_BYTES + KEY, key);
        values[i] = service;
        service.bind(this, i);
        refresh(i);
        if (++size * 2 > values.length)
        {
            resize(values.length * 2);
        }
        return null;
    }

    public VirtualService remove(final int protocol, final int address, final int port)
    {
        final int i = slotOf(VirtualService.key(protocol, address, port));
        if (i < 0)
        {
            return null;
        }
        final VirtualService old = values[i];
        pullCursor(i);
        deleteAt(i);
        size--;
        old.unbind();
        return old;
    }

    /** Backward-shift deletion: move later members of the probe run back so lookups never stop early. */
    private void deleteAt(final int hole)
    {
        int gap = hole;
        int i = (hole + 1) & mask;
        long at;
        while ((at = keyAt(i)) != 0)
        {
            final int home = home(at, mask);
            // move entry i into the gap when its home is not cyclically within (gap, i]
            if (((i - home) & mask) >= ((i - gap) & mask))
            {
                slots.putBytes(gap * SLOT_BYTES, slots, i * SLOT_BYTES, SLOT_BYTES);
                values[gap] = values[i];
                state[gap] = state[i];
                values[gap].bind(this, gap);
                gap = i;
            }
            i = (i + 1) & mask;
        }
        slots.setMemory(gap * SLOT_BYTES, SLOT_BYTES, (byte)0);
        values[gap] = null;
        state[gap] = null;
    }

    public VirtualService find(final int protocol, final int address, final int port)
    {
        final int slot = slotOf(VirtualService.key(protocol, address, port));
        return slot < 0 ? null : values[slot];
    }

    /** The slot holding this key, or -1. */
    public int slotOf(final long key)
    {
        if (LINEAR_SCAN_HOOK)
        {
            return slotByScan(key);
        }
        int i = home(key, mask);
        long at;
        while ((at = keyAt(i)) != 0)
        {
            if (at == key)
            {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** The {@link #LINEAR_SCAN_HOOK} lookup: every slot in order, O(capacity). */
    int slotByScan(final long key)
    {
        int found = -1;
        for (int i = 0; i < values.length; i++)
        {
            if (keyAt(i) == key)
            {
                found = i;
            }
        }
        return found;
    }

    VirtualService findByScan(final long key)
    {
        final int slot = slotByScan(key);
        return slot < 0 ? null : values[slot];
    }

    /** Slots a lookup of this key reads (1 = found or absent at its home slot); for tests and reports. */
    public int probes(final int protocol, final int address, final int port)
    {
        final long key = VirtualService.key(protocol, address, port);
        int i = home(key, mask);
        int probes = 1;
        long at;
        while ((at = keyAt(i)) != 0 && at != key)
        {
            i = (i + 1) & mask;
            probes++;
        }
        return probes;
    }

    /**
     * Look up {@code n} packed keys; {@code slotsOut[j]} receives key j's slot or -1. Returns a value that depends on
     * every slot read, so that the first pass is not optimised away.
     */
    public long findBatch(final long[] packedKeys, final int n, final int[] slotsOut)
    {
        final UnsafeBuffer s = slots;
        final int m = mask;
        long touched = 0;
        for (int j = 0; j < n; j++)
        {
            final int home = home(packedKeys[j], m);
            slotsOut[j] = home;
            touched += s.getLong(home * SLOT_BYTES + KEY); // independent loads: their misses overlap
        }
        for (int j = 0; j < n; j++)
        {
            final long key = packedKeys[j];
            if (LINEAR_SCAN_HOOK)
            {
                slotsOut[j] = slotByScan(key);
                continue;
            }
            int i = slotsOut[j];
            long at;
            int found = -1;
            while ((at = s.getLong(i * SLOT_BYTES + KEY)) != 0)
            {
                if (at == key)
                {
                    found = i;
                    break;
                }
                i = (i + 1) & m;
            }
            slotsOut[j] = found;
        }
        return touched;
    }

    /** The service in a slot that {@link #slotOf} returned. */
    public VirtualService valueAt(final int slot)
    {
        return values[slot];
    }

    /** The service's {@link KubeServiceKind} bits, from the slot line. */
    public int kindAt(final int slot)
    {
        return slots.getInt(slot * SLOT_BYTES + FLAGS) >>> 8;
    }

    /**
     * Schedule a new connection on the service in this slot: rr on the line when it is there, else the service's own
     * scheduler ({@link VirtualService#schedule}). Returns the destination index, or -1.
     */
    public int schedule(final int slot, final int sourceAddress, final int sourcePort, final long nowNanos)
    {
        final int o = slot * SLOT_BYTES;
        final int flags = slots.getInt(o + FLAGS);
        if ((flags & INLINE_MH) != 0)
        {
            // ip_vs_mh_schedule's first choice from the table and the line; its fallback walk (rare) on the object
            final char[] lookup = (char[])state[slot];
            final int dest = lookup[MaglevScheduler.firstSlot(sourceAddress, (flags & MH_PORT) != 0 ? sourcePort & 0xFFFF : 0,
                lookup.length)];
            if (dest == MaglevScheduler.EMPTY)
            {
                return -1;
            }
            if (available(slot, dest))
            {
                return dest;
            }
            return (flags & MH_FALLBACK) != 0 ? values[slot].scheduleObject(sourceAddress, sourcePort, nowNanos) : -1;
        }
        if ((flags & INLINE_RR) == 0)
        {
            return values[slot].scheduleObject(sourceAddress, sourcePort, nowNanos);
        }
        // ip_vs_rr_schedule over the line: on from the entry after the cursor, then from the head up to the cursor
        final int count = slots.getInt(o + COUNT);
        final int cursor = slots.getInt(o + CURSOR);
        final int last = cursor < count ? cursor : RoundRobinScheduler.HEAD;
        for (int i = last + 1; i < count; i++)
        {
            if ((slots.getLong(o + DESTINATIONS + 8 * i) & 1) != 0)
            {
                slots.putInt(o + CURSOR, i);
                return i;
            }
        }
        for (int i = 0; i <= last; i++)
        {
            if ((slots.getLong(o + DESTINATIONS + 8 * i) & 1) != 0)
            {
                slots.putInt(o + CURSOR, i);
                return i;
            }
        }
        return -1;
    }

    private boolean available(final int slot, final int index)
    {
        if (index < INLINE_DESTINATIONS)
        {
            return (slots.getLong(slot * SLOT_BYTES + DESTINATIONS + 8 * index) & 1) != 0;
        }
        return !values[slot].destination(index).unavailable();
    }

    /**
     * Load what {@link #schedule} reads after the line and return something that depends on it: a batch calls this
     * for each flow before scheduling any, so that their misses overlap.
     */
    public int touch(final int slot)
    {
        final int flags = slots.getInt(slot * SLOT_BYTES + FLAGS);
        if ((flags & INLINE_MH) != 0)
        {
            return ((char[])state[slot]).length;
        }
        return (flags & INLINE_RR) != 0 ? 0 : values[slot].scheduler().touch();
    }

    /** Destination {@code index}'s address of the service in this slot. */
    public int destinationAddress(final int slot, final int index)
    {
        if (index < INLINE_DESTINATIONS)
        {
            return (int)(slots.getLong(slot * SLOT_BYTES + DESTINATIONS + 8 * index) >>> 32);
        }
        return values[slot].destination(index).address();
    }

    /** Destination {@code index}'s port of the service in this slot. */
    public int destinationPort(final int slot, final int index)
    {
        if (index < INLINE_DESTINATIONS)
        {
            return (int)(slots.getLong(slot * SLOT_BYTES + DESTINATIONS + 8 * index) >>> 16) & 0xFFFF;
        }
        return values[slot].destination(index).port();
    }

    /** Before the service in this slot hands a changed list to its scheduler: the line's rr cursor goes back to it. */
    void pullCursor(final int slot)
    {
        final int o = slot * SLOT_BYTES;
        if ((slots.getInt(o + FLAGS) & INLINE_RR) != 0)
        {
            values[slot].scheduler().cursor(slots.getInt(o + CURSOR));
        }
    }

    /** Rewrite the slot line from its service (after any change to its kind, servers, weights or overload flags). */
    void refresh(final int slot)
    {
        final VirtualService vs = values[slot];
        final int o = slot * SLOT_BYTES;
        final int count = vs.destinationCount();
        final Scheduler scheduler = vs.scheduler();
        final Scheduler.Lookup lookup = vs.persistenceSeconds() == 0 ? scheduler.lookup() : Scheduler.Lookup.SCHEDULE;
        final boolean inlineRr = lookup == Scheduler.Lookup.ROUND_ROBIN && count <= INLINE_DESTINATIONS;
        int flags = (vs.kind() << 8) | (inlineRr ? INLINE_RR : 0);
        state[slot] = null;
        if (lookup == Scheduler.Lookup.MAGLEV)
        {
            final SchedulerFlags mhFlags = scheduler.flags();
            flags |= INLINE_MH | (mhFlags.port() ? MH_PORT : 0) | (mhFlags.fallback() ? MH_FALLBACK : 0);
            state[slot] = scheduler.lookupTable();
        }
        slots.putInt(o + FLAGS, flags);
        slots.putInt(o + COUNT, count);
        slots.putInt(o + CURSOR, inlineRr ? scheduler.cursor() : 0);
        for (int i = 0; i < INLINE_DESTINATIONS; i++)
        {
            long word = 0;
            if (i < count)
            {
                final RealServer d = vs.destination(i);
                word = ((long)d.address() << 32) | ((long)d.port() << 16) | (d.unavailable() ? 0 : 1);
            }
            slots.putLong(o + DESTINATIONS + 8 * i, word);
        }
    }

    /** Whether the service in this slot is scheduled on its line (rr fits there). */
    public boolean scheduledInline(final int slot)
    {
        return (slots.getInt(slot * SLOT_BYTES + FLAGS) & INLINE_RR) != 0;
    }

    private void resize(final int capacity)
    {
        final UnsafeBuffer oldSlots = slots;
        final VirtualService[] oldValues = values;
        final Object[] oldState = state;
        allocate(capacity);
        for (int j = 0; j < oldValues.length; j++)
        {
            if (oldValues[j] != null)
            {
                final long key = oldSlots.getLong(j * SLOT_BYTES + KEY);
                int i = home(key, mask);
                while (keyAt(i) != 0)
                {
                    i = (i + 1) & mask;
                }
                slots.putBytes(i * SLOT_BYTES, oldSlots, j * SLOT_BYTES, SLOT_BYTES);
                values[i] = oldValues[j];
                state[i] = oldState[j];
                values[i].bind(this, i);
            }
        }
    }

    public int size()
    {
        return size;
    }

    /** Snapshot of all services (control plane: rendering, reports). */
    public List<VirtualService> all()
    {
        final List<VirtualService> out = new ArrayList<>(size);
        for (final VirtualService v : values)
        {
            if (v != null)
            {
                out.add(v);
            }
        }
        return out;
    }
}
