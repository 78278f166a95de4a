package io.dpbench.wire;

import io.dpbench.vxlan.OverlayTopology;

import java.net.InetSocketAddress;

/**
 * Where wire mode's nodes and pods are (ISSUE-NOTES, issue 8: loopback only): node k's VTEP is 127.0.1.k on the VXLAN
 * port (8472 by default), this node is node 0 and listens there (or on another loopback address of its own,
 * {@code listenHost}, e.g. 127.0.0.1); the pods of this node are reached at 127.0.2.0 on the same port (a userspace
 * node has no veth: its local pods are a socket too).
 */
public record WireAddresses(OverlayTopology topology, int port, String listenHost)
{
    public WireAddresses(final OverlayTopology topology, final int port)
    {
        this(topology, port, "127.0.1.0");
    }

    public WireAddresses
    {
        final int host = parseLoopback(listenHost);
        if (host >>> 8 == (127 << 16 | 1) && (host & 0xFF) != 0 && (host & 0xFF) < topology.nodes()
            || host == (127 << 24 | 2 << 8))
        {
            throw new IllegalArgumentException("listen address " + listenHost + " is another node's VTEP (127.0.1.K, K < "
                + topology.nodes() + ") or the local pods' address (127.0.2.0)");
        }
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("VXLAN port " + port + " outside 1..65535");
        }
        if (topology.nodes() > 254)
        {
            throw new IllegalArgumentException("wire mode addresses nodes as 127.0.1.K: at most 254 nodes, got " + topology.nodes());
        }
    }

    /** Node 0's socket: its VTEP, or the address given to listen on. */
    public InetSocketAddress listen()
    {
        return new InetSocketAddress(listenHost, port);
    }

    /** An IPv4 loopback literal (127.x.y.z) as an int; anything else is refused with the reason. */
    private static int parseLoopback(final String host)
    {
        final String[] p = host == null ? new String[0] : host.split("\\.", -1);
        int v = 0;
        boolean ok = p.length == 4;
        for (int i = 0; ok && i < 4; i++)
        {
            ok = p[i].matches("[0-9]{1,3}") && Integer.parseInt(p[i]) <= 255;
            v = ok ? v << 8 | Integer.parseInt(p[i]) : v;
        }
        if (!ok || v >>> 24 != 127)
        {
            throw new IllegalArgumentException("listen address must be an IPv4 loopback address (127.x.y.z), got '" + host
                + "' (wire mode runs on loopback only)");
        }
        return v;
    }

    public InetSocketAddress vtep(final int node)
    {
        return new InetSocketAddress("127.0.1." + node, port);
    }

    public InetSocketAddress pods()
    {
        return new InetSocketAddress("127.0.2.0", port);
    }
}
