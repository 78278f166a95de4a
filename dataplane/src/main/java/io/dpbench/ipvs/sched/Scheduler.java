package io.dpbench.ipvs.sched;

/**
 * An IPVS scheduling algorithm, with the semantics of the Linux module of the same name (net/netfilter/ipvs/
 * ip_vs_NAME.c). One instance per virtual service (it may hold state: rr's position, wrr's current weight, the
 * sh/dh/mh lookup tables). Called only by the thread that owns the virtual service. {@link #schedule} must not
 * allocate.
 * <p>
 * A virtual-service table may make a new flow's choice itself, from its own copy of the destinations, instead of
 * calling {@link #schedule}: {@link #lookup} says whether this scheduler allows that and which state it needs
 * ({@link #cursor()} for rr, {@link #lookupTable()} and {@link #flags()} for mh).
 */
public interface Scheduler
{
    /** How a first choice can be made without calling {@link #schedule}. */
    enum Lookup
    {
        /** Only {@link #schedule} chooses. */
        SCHEDULE,
        /**
         * rr: the first available destination after {@link #cursor()} ({@link RoundRobinScheduler#HEAD} for the
         * list head), wrapping once through the head up to and including the cursor, which then points at the
         * choice. Whoever chooses so keeps the cursor and hands it back with {@link #cursor(int)} before the next
         * {@link #update}.
         */
        ROUND_ROBIN,
        /**
         * mh: the destination index in {@link #lookupTable()} at {@link MaglevScheduler#firstSlot} of the source
         * (with its port when {@link #flags()} has {@code port}), none when {@link MaglevScheduler#EMPTY}; when that
         * destination is unavailable, {@link #schedule} (with {@code fallback}) or nothing (without) decides.
         */
        MAGLEV
    }

    /** The module name: rr, wrr, lc, wlc, sed, nq, sh, dh, mh. */
    String name();

    /**
     * The destination list or a weight changed (the kernel's init_service / add_dest / del_dest / upd_dest):
     * rebuild whatever state depends on it. {@code destinations} is in the kernel's list order (the most recently
     * added server first, as {@code list_add_rcu} puts it at the head).
     */
    void update(Destination[] destinations, int count);

    /**
     * Pick a destination for a new connection: an index into the array last passed to {@link #update}, or -1 when
     * no server is available (the kernel then reports "no destination available" and the packet is dropped).
     */
    int schedule(Destination[] destinations, int count, int sourceAddress, int sourcePort, int destinationAddress,
        int destinationPort);

    /**
     * Load the state {@link #schedule} reads first and return something that depends on it: a batch calls this for
     * each of its flows before scheduling any, so that their cache misses overlap. No effect on scheduling.
     */
    default int touch()
    {
        return 0;
    }

    /** Whether and how a first choice can be made without {@link #schedule}; {@link Lookup#SCHEDULE} by default. */
    default Lookup lookup()
    {
        return Lookup.SCHEDULE;
    }

    /** The -b flags this scheduler was created with (only sh and mh have any). */
    default SchedulerFlags flags()
    {
        return SchedulerFlags.NONE;
    }

    /** {@link Lookup#ROUND_ROBIN}: the index of the last destination chosen, or {@link RoundRobinScheduler#HEAD}. */
    default int cursor()
    {
        throw new UnsupportedOperationException(name() + " has no round-robin cursor");
    }

    /** {@link Lookup#ROUND_ROBIN}: restore the cursor (a copy kept elsewhere, moved on). */
    default void cursor(final int cursor)
    {
        throw new UnsupportedOperationException(name() + " has no round-robin cursor");
    }

    /**
     * {@link Lookup#MAGLEV}: slot to destination index ({@link MaglevScheduler#EMPTY} when empty), the same array for
     * the scheduler's life, rewritten by {@link #update}.
     */
    default char[] lookupTable()
    {
        throw new UnsupportedOperationException(name() + " has no Maglev lookup table");
    }
}
