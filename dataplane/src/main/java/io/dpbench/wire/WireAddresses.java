package io.dpbench.wire;

import io.dpbench.vxlan.OverlayTopology;

import java.net.InetSocketAddress;

/**
 * Where wire mode's nodes and pods are (ISSUE-NOTES, issue 8: loopback only): node k's VTEP is 127.0.1.k on the VXLAN
 * port (8472 by default), this node is node 0 and listens there; the pods of this node are reached at
 * 127.0.2.0 on the same port (a userspace node has no veth: its local pods are a socket too).
 */
public record WireAddresses(OverlayTopology topology, int port)
{
    public WireAddresses
    {
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("VXLAN port " + port + " outside 1..65535");
        }
        if (topology.nodes() > 254)
        {
            throw new IllegalArgumentException("wire mode addresses nodes as 127.0.1.K: at most 254 nodes, got " + topology.nodes());
        }
    }

    public InetSocketAddress listen()
    {
        return vtep(0);
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
