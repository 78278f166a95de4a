package io.dpbench.vxlan;

import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Flyweight;

/**
 * The outer UDP source port, as Linux's {@code udp_flow_src_port()} picks it: a hash of the inner flow, "obfuscated"
 * ({@code hash ^= hash << 16}) and scaled into the port range ({@code ((u64) hash * (max - min)) >> 32) + min}, so
 * ports run from min to max - 1). The kernel's flow hash ({@code skb_get_hash}) is symmetric (both directions of a
 * flow hash alike) and covers ports only for TCP, UDP and SCTP packets that are not fragments; dpbench hashes the
 * same fields with its own symmetric hash, because the kernel seeds its hash at random per boot: the port of a flow
 * cannot match a node's, only its range, stability and symmetry can.
 */
public final class VxlanSourcePort
{
    private VxlanSourcePort()
    {
    }

    /** The port for a 32-bit flow hash. */
    public static int fromHash(final int hash, final int min, final int max)
    {
        final int h = hash ^ (hash << 16);
        return (int)(((h & 0xFFFF_FFFFL) * (max - min)) >>> 32) + min;
    }

    /** The flow hash of an inner IPv4 packet's fields: ports only when the kernel's flow dissector would use them. */
    public static int flowHash(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort, final boolean fragment)
    {
        final boolean ports = !fragment && (protocol == Ipv4Flyweight.PROTOCOL_TCP
            || protocol == Ipv4Flyweight.PROTOCOL_UDP || protocol == Ipv4Flyweight.PROTOCOL_SCTP);
        final long hash = FlowKey.symmetricHash(protocol, sourceAddress, ports ? sourcePort : 0, destinationAddress,
            ports ? destinationPort : 0);
        return (int)(hash ^ (hash >>> 32));
    }
}
