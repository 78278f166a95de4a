package io.dpbench.packet;

import java.nio.ByteOrder;

/**
 * A transport header that starts with the two 16-bit ports, source then destination, as TCP (RFC 9293), UDP
 * (RFC 768) and SCTP (RFC 9260) headers do.
 *
 * @param <T> the concrete flyweight
 */
public abstract class TransportFlyweight<T extends TransportFlyweight<T>> extends HeaderFlyweight<T>
{
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;

    TransportFlyweight()
    {
    }

    public final int sourcePort()
    {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public final T sourcePort(final int port)
    {
        buffer.putShort(offset + SOURCE_PORT_OFFSET, (short)port, ByteOrder.BIG_ENDIAN);
        return self();
    }

    public final int destinationPort()
    {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public final T destinationPort(final int port)
    {
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)port, ByteOrder.BIG_ENDIAN);
        return self();
    }
}
