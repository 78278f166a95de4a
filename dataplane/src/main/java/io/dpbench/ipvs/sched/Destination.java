package io.dpbench.ipvs.sched;

/**
 * What a scheduler reads of a real server (the kernel's {@code struct ip_vs_dest}): its address and port, its
 * weight, the connection counters lc/wlc/sed/nq compare and the overload flag. A read-only view: the server's owner
 * (the virtual service) changes weights and flags and then calls {@link Scheduler#update}; the dataplane moves the
 * counters. Schedulers keep no other reference to the servers than these views (rr and mh track them by identity).
 */
public interface Destination
{
    int address();

    int port();

    /** 0 means "no new connections" (kube-proxy's graceful termination). */
    int weight();

    int activeConnections();

    int inactiveConnections();

    /** IP_VS_DEST_F_OVERLOAD: set when a connection threshold (-x/-y) is exceeded; schedulers skip it. */
    boolean overloaded();

    /** The kernel's is_unavailable(): weight <= 0 or overloaded. */
    default boolean unavailable()
    {
        return weight() <= 0 || overloaded();
    }
}
