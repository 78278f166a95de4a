package io.dpbench.pipeline;

import io.dpbench.vxlan.RemoteVtep;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A vector of up to {@value #CAPACITY} frames that the stages of a {@link Pipeline} pass along (VPP's frame of
 * buffers): one off-heap, cache-line aligned buffer of fixed slots, each frame {@value #HEADROOM} bytes into its slot
 * so that encapsulation can prepend headers in place. Per frame: where it starts and how long it is (stages move
 * both, e.g. decapsulation), its timestamp, its input sequence number, what has become of it, and the remote VTEP the
 * route stage chose. A batch is owned by one thread at a time; the rings that hand it over publish its contents.
 */
public final class PacketBatch
{
    public static final int CAPACITY = 64;
    /** Room before each frame: VXLAN's 50 bytes of outer headers, rounded up to a cache line. */
    public static final int HEADROOM = 64;
    /** The default largest frame a slot takes (jumbo frames included); larger ones are refused at rx and counted. */
    public static final int MAX_FRAME = 16_384;
    /** The largest frame any slot may be sized for: an IPv4 packet's 65,535 bytes with Ethernet and two VLAN tags. */
    public static final int LARGEST_FRAME = 65_535 + 14 + 8;

    /** Still travelling through the stages. */
    public static final byte LIVE = 0;
    /** Dropped by a stage (which counted why). */
    public static final byte DROPPED = 1;
    /** Left the node (a stage handed it, or what it became, to the output). */
    public static final byte SENT = 2;

    private final int slot;
    private final int maxFrame;
    private final UnsafeBuffer buffer;
    final int[] offset = new int[CAPACITY];
    final int[] length = new int[CAPACITY];
    final long[] timestamp = new long[CAPACITY];
    final long[] sequence = new long[CAPACITY];
    final byte[] state = new byte[CAPACITY];
    final RemoteVtep[] remote = new RemoteVtep[CAPACITY];
    private int size;

    /** The rx producer whose pool the batch belongs to (a worker returns it there). */
    private final int producer;

    public PacketBatch()
    {
        this(MAX_FRAME);
    }

    /** Slots for frames of up to {@code maxFrame} bytes (at most {@link #LARGEST_FRAME}). */
    public PacketBatch(final int maxFrame)
    {
        this(maxFrame, 0);
    }

    PacketBatch(final int maxFrame, final int producer)
    {
        this.producer = producer;
        if (maxFrame < 64 || maxFrame > LARGEST_FRAME)
        {
            throw new IllegalArgumentException("maxFrame " + maxFrame + " outside 64.." + LARGEST_FRAME);
        }
        this.maxFrame = maxFrame;
        this.slot = (HEADROOM + maxFrame + 63) & ~63;
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(CAPACITY * slot, 64));
    }

    /** Copy a frame in (rx); false when the batch is full or the frame is larger than its slots. */
    public boolean add(final DirectBuffer src, final int srcOffset, final int frameLength, final long timestampNanos,
        final long sequenceNumber)
    {
        if (size == CAPACITY || frameLength > maxFrame || frameLength < 0)
        {
            return false;
        }
        final int i = size++;
        offset[i] = i * slot + HEADROOM;
        length[i] = frameLength;
        buffer.putBytes(offset[i], src, srcOffset, frameLength);
        timestamp[i] = timestampNanos;
        sequence[i] = sequenceNumber;
        state[i] = LIVE;
        remote[i] = null;
        return true;
    }

    public int size()
    {
        return size;
    }

    int producer()
    {
        return producer;
    }

    public boolean isFull()
    {
        return size == CAPACITY;
    }

    public void clear()
    {
        size = 0;
    }

    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    public int offset(final int i)
    {
        return offset[i];
    }

    public int length(final int i)
    {
        return length[i];
    }

    public long timestamp(final int i)
    {
        return timestamp[i];
    }

    public long sequence(final int i)
    {
        return sequence[i];
    }

    public byte state(final int i)
    {
        return state[i];
    }

    public boolean live(final int i)
    {
        return state[i] == LIVE;
    }

    /** The frame now lies at {@code [offset, offset + length)} of its slot (after decapsulation, say). */
    public void moved(final int i, final int newOffset, final int newLength)
    {
        offset[i] = newOffset;
        length[i] = newLength;
    }

    public void drop(final int i)
    {
        state[i] = DROPPED;
    }

    public void sent(final int i)
    {
        state[i] = SENT;
    }

    public RemoteVtep remote(final int i)
    {
        return remote[i];
    }

    public void remote(final int i, final RemoteVtep vtep)
    {
        remote[i] = vtep;
    }
}
