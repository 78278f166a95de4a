package io.dpbench.vxlan;

import io.dpbench.packet.Ipv4Address;

/**
 * A generated flannel overlay of K nodes: node k owns the pod network 10.244.k.0/24, has the underlay address
 * 192.168.0.(10 + k) with the MAC 02:00 followed by that address, and a vxlan device whose MAC is 0a:00:00:00:00:(k+1);
 * this node is node 0 (its pod-network gateway 10.244.0.1). {@link #remoteFor} is flannel's route plus FDB entry:
 * the VTEP that a packet to a pod address must be encapsulated to, or null when the address is this node's pod or
 * outside the overlay.
 */
public final class OverlayTopology
{
    public static final int POD_NETWORK = Ipv4Address.parse("10.244.0.0");
    public static final int FIRST_NODE_ADDRESS = Ipv4Address.parse("192.168.0.10");

    private final int nodes;
    private final LocalVtep local;
    private final RemoteVtep[] remotes;

    private OverlayTopology(final int nodes)
    {
        this.nodes = nodes;
        this.local = new LocalVtep(nodeAddress(0), underlayMac(0), vtepMac(0), POD_NETWORK + 1);
        this.remotes = new RemoteVtep[nodes];
        for (int k = 1; k < nodes; k++)
        {
            remotes[k] = new RemoteVtep(nodeAddress(k), underlayMac(k), vtepMac(k));
        }
    }

    /** K nodes, 1 to 245 (the underlay addresses stay within 192.168.0.0/24). */
    public static OverlayTopology generate(final int nodes)
    {
        if (nodes < 1 || nodes > 245)
        {
            throw new IllegalArgumentException("--nodes " + nodes + " outside 1..245");
        }
        return new OverlayTopology(nodes);
    }

    public int nodes()
    {
        return nodes;
    }

    public LocalVtep local()
    {
        return local;
    }

    /** Node k's VTEP (k from 1). */
    public RemoteVtep remote(final int node)
    {
        return remotes[node];
    }

    /** The VTEP for a packet to {@code address}, or null when it stays on this node or leaves the overlay. */
    public RemoteVtep remoteFor(final int address)
    {
        final int offset = address - POD_NETWORK;
        if (offset < 0 || offset >= nodes << 8)
        {
            return null;
        }
        return remotes[offset >>> 8];
    }

    /** The node a packet to {@code address} is sent to over the overlay, or -1 when it stays here or leaves it. */
    public int nodeFor(final int address)
    {
        final int offset = address - POD_NETWORK;
        if (offset < 0 || offset >= nodes << 8)
        {
            return -1;
        }
        return remotes[offset >>> 8] == null ? -1 : offset >>> 8;
    }

    /** The node whose VTEP has this underlay address, or -1. */
    public int nodeOfAddress(final int underlayAddress)
    {
        final int k = underlayAddress - FIRST_NODE_ADDRESS;
        return k >= 0 && k < nodes ? k : -1;
    }

    static int nodeAddress(final int node)
    {
        return FIRST_NODE_ADDRESS + node;
    }

    static long underlayMac(final int node)
    {
        return 0x0200_0000_0000L | (nodeAddress(node) & 0xFFFF_FFFFL);
    }

    static long vtepMac(final int node)
    {
        return 0x0a00_0000_0000L | (node + 1);
    }
}
