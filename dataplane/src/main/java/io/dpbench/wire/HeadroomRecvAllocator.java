package io.dpbench.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;

/**
 * The receive buffers of one socket, laid out so that every datagram has room before it: Netty's batched receive
 * (recvmmsg) reads datagram k of a burst at the buffer's writer index + k x the maximum datagram payload, so this
 * allocator starts each buffer's writer index {@code headroom} bytes in. Datagram 0 then has those bytes before it,
 * and datagram k the unused tail of segment k-1, as long as datagrams are at most {@code segment - headroom} bytes
 * (longer ones must be dropped). A userspace dataplane can then encapsulate a received frame in place and hand the
 * pipeline the receive buffer itself: a NIC driver's rx headroom.
 * <p>
 * {@link #owns} tells, for a datagram's address, whether it sits where this layout puts it in the buffer last
 * allocated, so that a change in Netty's layout falls back to copying rather than writing outside a datagram.
 * Used from the socket's event loop only.
 */
final class HeadroomRecvAllocator extends DefaultMaxMessagesRecvByteBufAllocator
{
    private final int headroom;
    private final int segment;
    private final int bufferSize;
    private long base;
    private int capacity;

    /** Buffers for {@code datagrams} datagrams of {@code segment} bytes each (the maximum datagram payload). */
    HeadroomRecvAllocator(final int headroom, final int segment, final int datagrams)
    {
        if (headroom < 0 || segment <= headroom || datagrams < 2)
        {
            throw new IllegalArgumentException("headroom " + headroom + ", segment " + segment + ", datagrams " + datagrams);
        }
        this.headroom = headroom;
        this.segment = segment;
        this.bufferSize = headroom + segment * datagrams;
    }

    @Override
    public Handle newHandle()
    {
        return new MaxMessageHandle()
        {
            @Override
            public int guess()
            {
                return bufferSize;
            }

            @Override
            public ByteBuf allocate(final ByteBufAllocator alloc)
            {
                final ByteBuf buffer = alloc.directBuffer(bufferSize);
                buffer.writerIndex(headroom).readerIndex(headroom);
                if (buffer.hasMemoryAddress())
                {
                    base = buffer.memoryAddress();
                    capacity = buffer.capacity();
                }
                else
                {
                    base = 0;
                    capacity = 0;
                }
                return buffer;
            }
        };
    }

    /**
     * Whether a datagram of up to {@code segment - headroom} bytes at native {@code address} lies at a segment
     * start of the buffer last allocated: then {@code headroom} bytes before it are free to write.
     */
    boolean owns(final long address)
    {
        final long at = address - base - headroom;
        return base != 0 && at >= 0 && at % segment == 0 && at + segment <= capacity - headroom;
    }

    int headroom()
    {
        return headroom;
    }
}
