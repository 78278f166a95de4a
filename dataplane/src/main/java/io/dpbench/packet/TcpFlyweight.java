package io.dpbench.packet;

import java.nio.ByteOrder;

/**
 * TCP header (RFC 9293).
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * The checksum covers the IPv4 pseudo-header, the header and the payload.
 */
public final class TcpFlyweight extends TransportFlyweight<TcpFlyweight>
{
    // the ports, at 0 and 2: TransportFlyweight
    public static final int SEQUENCE_OFFSET = 4;
    public static final int ACKNOWLEDGMENT_OFFSET = 8;
    public static final int DATA_OFFSET_OFFSET = 12;
    public static final int FLAGS_OFFSET = 13;
    public static final int WINDOW_OFFSET = 14;
    public static final int CHECKSUM_OFFSET = 16;
    public static final int URGENT_POINTER_OFFSET = 18;
    public static final int MIN_HEADER_LENGTH = 20;

    /** The flag bits, as in byte 13 of the header ({@link #FLAGS_OFFSET}). */
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    public long sequence()
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    public TcpFlyweight sequence(final long sequence)
    {
        buffer.putInt(offset + SEQUENCE_OFFSET, (int)sequence, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public long acknowledgment()
    {
        return buffer.getInt(offset + ACKNOWLEDGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    public TcpFlyweight acknowledgment(final long acknowledgment)
    {
        buffer.putInt(offset + ACKNOWLEDGMENT_OFFSET, (int)acknowledgment, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Data offset in 32-bit words (5 to 15). */
    public int dataOffset()
    {
        return (buffer.getByte(offset + DATA_OFFSET_OFFSET) & 0xF0) >>> 4;
    }

    public int headerLength()
    {
        return dataOffset() << 2;
    }

    public TcpFlyweight dataOffset(final int words)
    {
        buffer.putByte(offset + DATA_OFFSET_OFFSET, (byte)(words << 4));
        return this;
    }

    /** The eight flag bits CWR..FIN. */
    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public TcpFlyweight flags(final int flags)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        return this;
    }

    public int window()
    {
        return buffer.getShort(offset + WINDOW_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public TcpFlyweight window(final int window)
    {
        buffer.putShort(offset + WINDOW_OFFSET, (short)window, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public TcpFlyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int urgentPointer()
    {
        return buffer.getShort(offset + URGENT_POINTER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public TcpFlyweight urgentPointer(final int pointer)
    {
        buffer.putShort(offset + URGENT_POINTER_OFFSET, (short)pointer, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Recompute the checksum over pseudo-header + {@code segmentLength} bytes of header and payload. */
    public TcpFlyweight updateChecksum(final int sourceAddress, final int destinationAddress, final int segmentLength)
    {
        checksum(0);
        checksum(InternetChecksum.finish(InternetChecksum.add(buffer, offset, segmentLength,
            InternetChecksum.pseudoHeader(sourceAddress, destinationAddress, Ipv4Flyweight.PROTOCOL_TCP, segmentLength))));
        return this;
    }

    public static String flagsToString(final int flags)
    {
        final StringBuilder sb = new StringBuilder(8);
        final String names = "FSRPAUEC";
        for (int bit = 0; bit < 8; bit++)
        {
            if ((flags & (1 << bit)) != 0)
            {
                sb.append(names.charAt(bit));
            }
        }
        return sb.length() == 0 ? "." : sb.toString();
    }
}
