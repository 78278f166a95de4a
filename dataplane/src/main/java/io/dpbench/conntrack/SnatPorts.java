package io.dpbench.conntrack;

/**
 * Which source-NAT ports a worker owns when a node runs several: ports are striped over the workers (port mod W),
 * so that a masqueraded reply, whose destination port is the SNAT port, names the worker that created its connection
 * (FD.io VPP's NAT44 gives each worker its own port range for the same reason). Steering sends such replies by
 * this rule; the conntrack/NAT engine picks SNAT ports by it.
 */
public final class SnatPorts
{
    private SnatPorts()
    {
    }

    /** Whether {@code worker} of {@code workers} may use {@code port} as a SNAT source port. */
    public static boolean owns(final int worker, final int workers, final int port)
    {
        return port % workers == worker;
    }

    /** The worker of {@code workers} that owns {@code port}. */
    public static int owner(final int port, final int workers)
    {
        return port % workers;
    }
}
