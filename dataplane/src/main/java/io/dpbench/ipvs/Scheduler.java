package io.dpbench.ipvs;

/**
 * An IPVS scheduling algorithm, with the semantics of the Linux module of the same name (net/netfilter/ipvs/
 * ip_vs_NAME.c). One instance per virtual service (it may hold state: rr's position, wrr's current weight, the
 * sh/dh/mh lookup tables). Called only by the thread that owns the virtual service. {@link #schedule} must not
 * allocate.
 */
public interface Scheduler
{
    /** The module name: rr, wrr, lc, wlc, sed, nq, sh, dh, mh. */
    String name();

    /**
     * The destination list or a weight changed (the kernel's init_service / add_dest / del_dest / upd_dest):
     * rebuild whatever state depends on it. {@code destinations} is in the kernel's list order (the most recently
     * added server first, as {@code list_add_rcu} puts it at the head).
     */
    void update(RealServer[] destinations, int count);

    /**
     * Pick a destination for a new connection: an index into the array last passed to {@link #update}, or -1 when
     * no server is available (the kernel then reports "no destination available" and the packet is dropped).
     */
    int schedule(RealServer[] destinations, int count, int sourceAddress, int sourcePort, int destinationAddress,
        int destinationPort);

    /**
     * Load the state {@link #schedule} reads first and return something that depends on it: a batch calls this for
     * each of its flows before scheduling any, so that their cache misses overlap. No effect on scheduling.
     */
    default int touch()
    {
        return 0;
    }
}
