package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Address and port rewrite (DNAT, SNAT) of a parsed frame with RFC 1624 incremental checksum updates: the IPv4
 * header checksum for the address, and the TCP/UDP checksum for the address (it is in the pseudo-header) and the
 * port. ICMP echo has no pseudo-header; its identifier stands for the port (as in Linux's nf_nat ICMP handling),
 * so only an identifier change touches the ICMP checksum.
 * <p>
 * A UDP checksum of 0 ("none") stays 0; a UDP checksum that comes out 0 is written 0xFFFF, as Linux's
 * {@code udp_manip_pkt} does ({@code CSUM_MANGLED_0}).
 * <p>
 * Stateless and allocation-free; the {@link ParsedPacket} must come from an {@link Verdict#OK} parse and is updated
 * to the new addresses and ports.
 */
public final class NatRewriter
{
    private NatRewriter()
    {
    }

    /** DNAT: rewrite the destination address and port (the ICMP identifier for ICMP echo). */
    public static void rewriteDestination(final ParsedPacket p, final int newAddress, final int newPort)
    {
        rewrite(p, true, newAddress, newPort);
    }

    /** SNAT / MASQUERADE: rewrite the source address and port (the ICMP identifier for ICMP echo). */
    public static void rewriteSource(final ParsedPacket p, final int newAddress, final int newPort)
    {
        rewrite(p, false, newAddress, newPort);
    }

    /**
     * Rewrite one side's address and port, the checksums, and {@code p}. ICMP echo's identifier is both of the
     * parsed packet's ports, so for ICMP the other side's port changes with it.
     */
    private static void rewrite(final ParsedPacket p, final boolean destination, final int newAddress, final int newPort)
    {
        final boolean icmp = p.protocol == Ipv4Flyweight.PROTOCOL_ICMP;
        if (destination)
        {
            rewrite(p, Ipv4Flyweight.DESTINATION_OFFSET, p.destinationAddress, newAddress,
                icmp ? IcmpFlyweight.IDENTIFIER_OFFSET : TcpFlyweight.DESTINATION_PORT_OFFSET, p.destinationPort, newPort);
            p.destinationAddress = newAddress;
        }
        else
        {
            rewrite(p, Ipv4Flyweight.SOURCE_OFFSET, p.sourceAddress, newAddress,
                icmp ? IcmpFlyweight.IDENTIFIER_OFFSET : TcpFlyweight.SOURCE_PORT_OFFSET, p.sourcePort, newPort);
            p.sourceAddress = newAddress;
        }
        if (destination || icmp)
        {
            p.destinationPort = newPort;
        }
        if (!destination || icmp)
        {
            p.sourcePort = newPort;
        }
    }

    private static void rewrite(
        final ParsedPacket p,
        final int addressOffset,
        final int oldAddress,
        final int newAddress,
        final int portOffset,
        final int oldPort,
        final int newPort)
    {
        final MutableDirectBuffer buffer = p.buffer;
        final int l3 = p.l3Offset;
        final int l4 = p.l4Offset;

        buffer.putInt(l3 + addressOffset, newAddress, ByteOrder.BIG_ENDIAN);
        final int ipChecksumAt = l3 + Ipv4Flyweight.CHECKSUM_OFFSET;
        buffer.putShort(ipChecksumAt, (short)InternetChecksum.update32(
            buffer.getShort(ipChecksumAt, ByteOrder.BIG_ENDIAN) & 0xFFFF, oldAddress, newAddress), ByteOrder.BIG_ENDIAN);

        switch (p.protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
            {
                final int at = l4 + TcpFlyweight.CHECKSUM_OFFSET;
                int checksum = buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                checksum = InternetChecksum.update32(checksum, oldAddress, newAddress);
                checksum = InternetChecksum.update16(checksum, oldPort, newPort);
                buffer.putShort(l4 + portOffset, (short)newPort, ByteOrder.BIG_ENDIAN);
                buffer.putShort(at, (short)checksum, ByteOrder.BIG_ENDIAN);
                break;
            }
            case Ipv4Flyweight.PROTOCOL_UDP:
            {
                final int at = l4 + UdpFlyweight.CHECKSUM_OFFSET;
                final int checksum = buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                buffer.putShort(l4 + portOffset, (short)newPort, ByteOrder.BIG_ENDIAN);
                if (checksum != 0)
                {
                    int updated = InternetChecksum.update32(checksum, oldAddress, newAddress);
                    updated = InternetChecksum.update16(updated, oldPort, newPort);
                    buffer.putShort(at, (short)(updated == 0 ? UdpFlyweight.CHECKSUM_MANGLED_ZERO : updated),
                        ByteOrder.BIG_ENDIAN);
                }
                break;
            }
            case Ipv4Flyweight.PROTOCOL_ICMP:
            {
                if (oldPort != newPort)
                {
                    final int at = l4 + IcmpFlyweight.CHECKSUM_OFFSET;
                    final int checksum = buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                    buffer.putShort(l4 + portOffset, (short)newPort, ByteOrder.BIG_ENDIAN);
                    buffer.putShort(at, (short)InternetChecksum.update16(checksum, oldPort, newPort), ByteOrder.BIG_ENDIAN);
                }
                break;
            }
            default:
                break;
        }
    }
}
