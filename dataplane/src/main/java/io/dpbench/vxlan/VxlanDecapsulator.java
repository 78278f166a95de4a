package io.dpbench.vxlan;

import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.InternetChecksum;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.UdpFlyweight;
import io.dpbench.packet.VxlanFlyweight;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * Decapsulation of frames that arrive on the underlay for this node's vxlan device: the outer headers are validated
 * in the order the kernel's receive path meets them (ip_rcv_core, udp_rcv, vxlan_rcv) and the inner frame is found
 * in place. Anything else is dropped and counted by reason; nothing here throws on packet bytes. Outer IPv4 options
 * are legal and stepped over. Like Linux's vxlan_rcv, a VXLAN header without the I flag, or with any reserved bit
 * set, is dropped (RFC 7348 says receivers ignore reserved bits; Linux treats them as unknown extensions). Outer
 * fragments are counted and dropped: the kernel would reassemble them first, dpbench does not. One owner thread; no
 * allocation.
 */
public final class VxlanDecapsulator
{
    private final VxlanConfig config;
    private final DropCounters drops = new DropCounters();
    /** Why the last frame {@link #decapsulate} refused was dropped (one of {@link DropReason.Where#DECAP}). */
    private DropReason lastDrop;
    private long decapsulated;
    private int innerLength;
    private int vni;

    public VxlanDecapsulator(final VxlanConfig config)
    {
        this.config = config;
    }

    /**
     * Decapsulate the frame at {@code [offset, offset + length)}: returns the offset of the inner Ethernet frame (its
     * length is then {@link #innerLength()}), or -1 when the frame is dropped, its reason counted.
     */
    public int decapsulate(final DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        final int ip = EthernetFlyweight.ipv4Offset(buffer, offset, length);
        if (ip == EthernetFlyweight.TRUNCATED)
        {
            return drop(DropReason.DECAP_TRUNCATED_OUTER_ETHERNET);
        }
        if (ip == EthernetFlyweight.NOT_IPV4)
        {
            return drop(DropReason.DECAP_NOT_IPV4);
        }
        if (ip + Ipv4Flyweight.MIN_HEADER_LENGTH > end)
        {
            return drop(DropReason.DECAP_TRUNCATED_OUTER_IPV4);
        }
        final int versionIhl = buffer.getByte(ip) & 0xFF;
        final int headerLength = (versionIhl & 0x0F) * 4;
        if ((versionIhl >>> 4) != 4 || headerLength < Ipv4Flyweight.MIN_HEADER_LENGTH)
        {
            return drop(DropReason.DECAP_BAD_OUTER_IP_HEADER);
        }
        if (ip + headerLength > end)
        {
            return drop(DropReason.DECAP_TRUNCATED_OUTER_IPV4);
        }
        if (InternetChecksum.fold(InternetChecksum.add(buffer, ip, headerLength, 0)) != 0xFFFF)
        {
            return drop(DropReason.DECAP_BAD_OUTER_IP_CHECKSUM);
        }
        final int totalLength = buffer.getShort(ip + Ipv4Flyweight.TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (totalLength < headerLength || ip + totalLength > end)
        {
            return drop(DropReason.DECAP_BAD_OUTER_IP_LENGTH);
        }
        final int fragment = buffer.getShort(ip + Ipv4Flyweight.FLAGS_FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((fragment & (Ipv4Flyweight.FLAG_MORE_FRAGMENTS | Ipv4Flyweight.FRAGMENT_OFFSET_MASK)) != 0)
        {
            return drop(DropReason.DECAP_OUTER_FRAGMENT);
        }
        if ((buffer.getByte(ip + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF) != Ipv4Flyweight.PROTOCOL_UDP)
        {
            return drop(DropReason.DECAP_NOT_UDP);
        }
        final int udp = ip + headerLength;
        final int ipEnd = ip + totalLength; // Ethernet padding beyond the IPv4 packet is not part of it
        if (udp + UdpFlyweight.HEADER_LENGTH > ipEnd)
        {
            return drop(DropReason.DECAP_TRUNCATED_UDP);
        }
        final int udpLength = buffer.getShort(udp + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (udpLength < UdpFlyweight.HEADER_LENGTH || udp + udpLength > ipEnd)
        {
            return drop(DropReason.DECAP_BAD_UDP_LENGTH);
        }
        if ((buffer.getShort(udp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF) != config.destinationPort())
        {
            return drop(DropReason.DECAP_NOT_VXLAN_PORT);
        }
        if (buffer.getShort(udp + 6) != 0)
        {
            final long sum = InternetChecksum.add(buffer, udp, udpLength, InternetChecksum.pseudoHeader(
                buffer.getInt(ip + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN),
                buffer.getInt(ip + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN),
                Ipv4Flyweight.PROTOCOL_UDP, udpLength));
            if (InternetChecksum.fold(sum) != 0xFFFF)
            {
                return drop(DropReason.DECAP_BAD_UDP_CHECKSUM);
            }
        }
        final int header = udp + UdpFlyweight.HEADER_LENGTH;
        final int udpEnd = udp + udpLength;
        final DropReason bad = checkVxlan(buffer, header, udpEnd);
        if (bad != null)
        {
            return drop(bad);
        }
        final int inner = header + VxlanFlyweight.HEADER_LENGTH;
        innerLength = udpEnd - inner;
        decapsulated++;
        return inner;
    }

    /**
     * The device's checks of a VXLAN header at {@code header} and the frame after it, up to {@code end} (the UDP
     * payload's end): room for the header and an inner Ethernet header, the I flag set and every reserved bit clear
     * (RFC 7348; Linux drops both), this device's VNI ({@link #vni} is then the header's). Returns null when they
     * pass, else the reason (not counted: the caller drops). The wire edge's receiver, whose datagrams start at the
     * VXLAN header (the kernel took the outer headers off), runs the same checks.
     */
    public DropReason checkVxlan(final DirectBuffer buffer, final int header, final int end)
    {
        if (header + VxlanFlyweight.HEADER_LENGTH > end)
        {
            return DropReason.DECAP_TRUNCATED_VXLAN;
        }
        final int flagsWord = buffer.getInt(header, ByteOrder.BIG_ENDIAN);
        final int vniWord = buffer.getInt(header + VxlanFlyweight.VNI_OFFSET, ByteOrder.BIG_ENDIAN);
        if (flagsWord != VxlanFlyweight.FLAG_VNI_VALID << 24 || (vniWord & 0xFF) != 0)
        {
            return DropReason.DECAP_BAD_VXLAN_FLAGS;
        }
        vni = vniWord >>> 8;
        if (vni != config.vni())
        {
            return DropReason.DECAP_UNKNOWN_VNI;
        }
        if (header + VxlanFlyweight.HEADER_LENGTH + EthernetFlyweight.HEADER_LENGTH > end)
        {
            return DropReason.DECAP_TRUNCATED_INNER;
        }
        return null;
    }

    /**
     * Whether the frame is addressed to the vxlan device at all, as the kernel's UDP socket lookup decides before
     * vxlan_rcv sees it: IPv4 (VLAN tags stepped over), UDP, to {@code localAddress} and the device's port. Frames
     * that are not go the normal way and are not decapsulation drops. Reads nothing past the frame; counts nothing.
     */
    public boolean addressedToDevice(final DirectBuffer buffer, final int offset, final int length, final int localAddress)
    {
        final int end = offset + length;
        final int ip = EthernetFlyweight.ipv4Offset(buffer, offset, length);
        if (ip < 0 || ip + Ipv4Flyweight.MIN_HEADER_LENGTH > end
            || (buffer.getByte(ip + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF) != Ipv4Flyweight.PROTOCOL_UDP
            || buffer.getInt(ip + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN) != localAddress)
        {
            return false;
        }
        final int udp = ip + (buffer.getByte(ip) & 0x0F) * 4;
        return udp + 4 <= end && (buffer.getShort(udp + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF) == config.destinationPort();
    }

    private int drop(final DropReason reason)
    {
        drops.count(reason);
        lastDrop = reason;
        innerLength = 0;
        return -1;
    }

    /** Length of the inner frame the last successful {@link #decapsulate} found. */
    public int innerLength()
    {
        return innerLength;
    }

    /** The VNI of the last frame whose VXLAN header was read. */
    public int vni()
    {
        return vni;
    }

    public long decapsulated()
    {
        return decapsulated;
    }

    public long drops(final DropReason reason)
    {
        return drops.get(reason);
    }

    /** The reason the last refused frame was dropped. */
    public DropReason lastDrop()
    {
        return lastDrop;
    }

    public long dropsTotal()
    {
        return drops.total();
    }
}
