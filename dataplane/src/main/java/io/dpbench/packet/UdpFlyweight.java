package io.dpbench.packet;

import java.nio.ByteOrder;

/**
 * UDP header (RFC 768).
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Length             |           Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * Over IPv4 a checksum of 0 means "not computed" and must stay 0 through NAT; a computed checksum of 0 is sent as
 * 0xFFFF (RFC 768; Linux's {@code CSUM_MANGLED_0}).
 */
public final class UdpFlyweight extends TransportFlyweight<UdpFlyweight>
{
    // the ports, at 0 and 2: TransportFlyweight
    public static final int LENGTH_OFFSET = 4;
    public static final int CHECKSUM_OFFSET = 6;
    public static final int HEADER_LENGTH = 8;

    /** A computed checksum of zero goes on the wire as all ones, because zero means "no checksum". */
    public static final int CHECKSUM_MANGLED_ZERO = 0xFFFF;

    /** Header plus payload length in bytes. */
    public int length()
    {
        return buffer.getShort(offset + LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public UdpFlyweight length(final int length)
    {
        buffer.putShort(offset + LENGTH_OFFSET, (short)length, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public UdpFlyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Recompute the checksum over pseudo-header + {@link #length()} bytes, mapping a computed 0 to 0xFFFF. */
    public UdpFlyweight updateChecksum(final int sourceAddress, final int destinationAddress)
    {
        final int length = length();
        checksum(0);
        final int computed = InternetChecksum.finish(InternetChecksum.add(buffer, offset, length,
            InternetChecksum.pseudoHeader(sourceAddress, destinationAddress, Ipv4Flyweight.PROTOCOL_UDP, length)));
        checksum(computed == 0 ? CHECKSUM_MANGLED_ZERO : computed);
        return this;
    }
}
