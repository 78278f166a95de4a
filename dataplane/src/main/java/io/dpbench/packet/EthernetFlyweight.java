package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Ethernet II header, with up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88A8) stepped over.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination MAC (48)                       |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                      Source MAC (48)                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   EtherType or TPID 0x8100    | [PCP|DEI|VID, then EtherType] |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * MAC addresses are carried as the low 48 bits of a {@code long}, first octet highest.
 */
public final class EthernetFlyweight extends HeaderFlyweight<EthernetFlyweight>
{
    public static final int DESTINATION_OFFSET = 0;
    public static final int SOURCE_OFFSET = 6;
    public static final int ETHER_TYPE_OFFSET = 12;
    public static final int HEADER_LENGTH = 14;
    public static final int VLAN_TAG_LENGTH = 4;
    public static final int MAX_VLAN_TAGS = 2;

    public static final int ETHER_TYPE_IPV4 = 0x0800;
    public static final int ETHER_TYPE_ARP = 0x0806;
    public static final int ETHER_TYPE_IPV6 = 0x86DD;
    public static final int ETHER_TYPE_VLAN = 0x8100;
    public static final int ETHER_TYPE_QINQ = 0x88A8;

    public long destination()
    {
        return readMac(buffer, offset + DESTINATION_OFFSET);
    }

    public EthernetFlyweight destination(final long mac)
    {
        writeMac(buffer, offset + DESTINATION_OFFSET, mac);
        return this;
    }

    public long source()
    {
        return readMac(buffer, offset + SOURCE_OFFSET);
    }

    public EthernetFlyweight source(final long mac)
    {
        writeMac(buffer, offset + SOURCE_OFFSET, mac);
        return this;
    }

    /** The outermost EtherType/TPID field (0x8100 when the frame is VLAN tagged). */
    public int outerEtherType()
    {
        return buffer.getShort(offset + ETHER_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public EthernetFlyweight outerEtherType(final int etherType)
    {
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)etherType, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** True for the TPIDs whose 4-byte tag the parser steps over. */
    public static boolean isVlanTpid(final int etherType)
    {
        return etherType == ETHER_TYPE_VLAN || etherType == ETHER_TYPE_QINQ;
    }

    /**
     * Where the IPv4 header of the frame at {@code [offset, offset + length)} starts, stepping over up to
     * {@link #MAX_VLAN_TAGS} VLAN tags: the offset, or {@link #TRUNCATED} when the frame ends inside its Ethernet
     * header or tags, or {@link #NOT_IPV4} when the EtherType after them is not IPv4. Reads nothing past the frame.
     */
    public static int ipv4Offset(final org.agrona.DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        int at = offset + ETHER_TYPE_OFFSET;
        if (at + 2 > end)
        {
            return TRUNCATED;
        }
        int etherType = buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        for (int tags = 0; isVlanTpid(etherType) && tags < MAX_VLAN_TAGS; tags++)
        {
            at += VLAN_TAG_LENGTH;
            if (at + 2 > end)
            {
                return TRUNCATED;
            }
            etherType = buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        return etherType == ETHER_TYPE_IPV4 ? at + 2 : NOT_IPV4;
    }

    /** {@link #ipv4Offset}: the frame ends inside its Ethernet header or VLAN tags. */
    public static final int TRUNCATED = -1;
    /** {@link #ipv4Offset}: the EtherType is not IPv4. */
    public static final int NOT_IPV4 = -2;

    public static long readMac(final MutableDirectBuffer buffer, final int index)
    {
        return ((buffer.getShort(index, ByteOrder.BIG_ENDIAN) & 0xFFFFL) << 32)
            | (buffer.getInt(index + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL);
    }

    public static void writeMac(final MutableDirectBuffer buffer, final int index, final long mac)
    {
        buffer.putShort(index, (short)(mac >>> 32), ByteOrder.BIG_ENDIAN);
        buffer.putInt(index + 2, (int)mac, ByteOrder.BIG_ENDIAN);
    }

    public static String macToString(final long mac)
    {
        final StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            final int octet = (int)(mac >>> shift) & 0xFF;
            sb.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
            if (shift > 0)
            {
                sb.append(':');
            }
        }
        return sb.toString();
    }
}
