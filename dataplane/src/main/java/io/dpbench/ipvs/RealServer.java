package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.Destination;

/**
 * A real server (IPVS "destination") of a {@link VirtualService}: address, port, weight and the connection
 * counters the lc/wlc/sed/nq schedulers read. The dataplane (conntrack, issue 5) moves the counters as connections
 * start, become inactive and end; tests drive them directly. Weight 0 means "no new connections" (kube-proxy's
 * graceful termination); existing connections are not affected. Mutated by the owning worker only.
 */
public final class RealServer implements Destination
{
    private final int address;
    private final int port;
    private int weight;
    private int activeConnections;
    private int inactiveConnections;
    private boolean overloaded;
    /** The service whose list holds this server, told when its availability changes; null when none. */
    private VirtualService owner;

    public RealServer(final int address, final int port, final int weight)
    {
        if (weight < 0)
        {
            throw new IllegalArgumentException("weight " + weight + " below 0");
        }
        this.address = address;
        this.port = port;
        this.weight = weight;
    }

    @Override
    public int address()
    {
        return address;
    }

    @Override
    public int port()
    {
        return port;
    }

    @Override
    public int weight()
    {
        return weight;
    }

    void weight(final int weight)
    {
        this.weight = weight;
    }

    @Override
    public int activeConnections()
    {
        return activeConnections;
    }

    @Override
    public int inactiveConnections()
    {
        return inactiveConnections;
    }

    /** IP_VS_DEST_F_OVERLOAD: set when a connection threshold (-x/-y) is exceeded; schedulers skip it. */
    @Override
    public boolean overloaded()
    {
        return overloaded;
    }

    public void overloaded(final boolean overloaded)
    {
        this.overloaded = overloaded;
        if (owner != null)
        {
            owner.changed(); // availability is on the virtual-service table's line
        }
    }

    void owner(final VirtualService service)
    {
        this.owner = service;
    }

    VirtualService owner()
    {
        return owner;
    }

    @Override
    public String toString()
    {
        return io.dpbench.packet.Ipv4Address.toString(address) + ":" + port;
    }

    /** A connection to this server was established. */
    public void connectionStarted()
    {
        activeConnections++;
    }

    /** An established connection became inactive (e.g. TCP FIN_WAIT / TIME_WAIT). */
    public void connectionInactive()
    {
        activeConnections--;
        inactiveConnections++;
    }

    /** An inactive connection expired. */
    public void inactiveEnded()
    {
        inactiveConnections--;
    }

    /** An active connection ended without passing through inactive (e.g. reset). */
    public void activeEnded()
    {
        activeConnections--;
    }

    /** Test and benchmark hook: set both counters. */
    public void connections(final int active, final int inactive)
    {
        activeConnections = active;
        inactiveConnections = inactive;
    }

    /** ip_vs_dest_conn_overhead(): (active << 8) + inactive, what lc and wlc compare. */
    public long connectionOverhead()
    {
        return ((long)activeConnections << 8) + inactiveConnections;
    }
}
