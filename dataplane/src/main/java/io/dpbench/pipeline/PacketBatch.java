package io.dpbench.pipeline;

import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A vector of up to {@value #CAPACITY} frames that the stages of a {@link Pipeline} pass along (VPP's frame of
 * buffers): one off-heap, cache-line aligned buffer of fixed slots, each frame {@value #HEADROOM} bytes into its slot
 * so that encapsulation can prepend headers in place. Per frame: where it starts and how long it is (stages move
 * both, e.g. decapsulation), its timestamp, its input sequence number, what has become of it, and what is known
 * about it: the parse rx made where the frame arrived ({@link #parsed}: offsets, the 5-tuple, TCP flags; its
 * {@link #verdict}; NAT keeps the tuple current), whether it is VXLAN for this node ({@link #tunnelled}), and the
 * next hop the route stage chose (an overlay node's index). A frame is parsed once: stages read these columns
 * instead of the frame's headers. A batch is owned by one thread at a time; the rings that hand it over publish its
 * contents.
 * <p>
 * A frame may also lie outside the slots, in memory the batch does not own ({@link #addExternal}: a socket's receive
 * buffer handed over without a copy, with room before the frame for encapsulation). Stages reach every frame through
 * {@link #buffer(int)}, which is the slots' buffer for a copied frame and a view of the external memory otherwise;
 * {@link #clear} gives external frames back to their owner.
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
    /** The overlay node a frame leaves for ({@link #LOCAL}: none, it stays on this node or leaves the overlay). */
    final int[] nextHop = new int[CAPACITY];
    /** The frame's parse, where rx made one (one object per slot, refilled: no allocation per frame). */
    private final ParsedPacket[] parsed = new ParsedPacket[CAPACITY];
    /** {@link Verdict} ordinal of the parse, or {@link #NOT_PARSED}. */
    private final byte[] verdict = new byte[CAPACITY];
    /** {@link DropReason} ordinal of a dropped frame. */
    private final byte[] dropReason = new byte[CAPACITY];
    /** 1 when the frame is VXLAN addressed to this node's VTEP (its parse is of the inner frame). */
    private final byte[] tunnelled = new byte[CAPACITY];

    /** {@link #nextHop} of a frame that is not sent over the overlay. */
    public static final int LOCAL = -1;
    private static final byte NOT_PARSED = -1;
    private static final Verdict[] VERDICTS = Verdict.values();
    /** Per external frame: its owner (null for a frame in a slot), the release to call, the view stages read. */
    private final Object[] owner = new Object[CAPACITY];
    private final FrameRelease[] release = new FrameRelease[CAPACITY];
    private final UnsafeBuffer[] views = new UnsafeBuffer[CAPACITY];
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
        for (int i = 0; i < CAPACITY; i++)
        {
            views[i] = new UnsafeBuffer(0, 0);
            parsed[i] = new ParsedPacket();
        }
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
        nextHop[i] = LOCAL;
        verdict[i] = NOT_PARSED;
        tunnelled[i] = 0;
        return true;
    }

    /**
     * Take a frame where it lies, without copying it (rx): {@code length} bytes at native {@code address}, with
     * {@code headroom} bytes before it that stages may write (encapsulation in place). The batch holds it until
     * {@link #clear}, which calls {@code release} with {@code owner}. False, and nothing taken, when the batch is
     * full (the caller still owns the frame).
     */
    public boolean addExternal(final long address, final int headroom, final int frameLength, final Object frameOwner,
        final FrameRelease frameRelease, final long timestampNanos, final long sequenceNumber)
    {
        if (size == CAPACITY || frameLength < 0 || headroom < 0 || frameOwner == null)
        {
            return false;
        }
        final int i = size++;
        views[i].wrap(address - headroom, headroom + frameLength);
        owner[i] = frameOwner;
        release[i] = frameRelease;
        offset[i] = headroom;
        length[i] = frameLength;
        timestamp[i] = timestampNanos;
        sequence[i] = sequenceNumber;
        state[i] = LIVE;
        nextHop[i] = LOCAL;
        verdict[i] = NOT_PARSED;
        tunnelled[i] = 0;
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

    /** Empty the batch, giving every external frame back to its owner. */
    public void clear()
    {
        final int n = size;
        size = 0;
        Throwable failure = null;
        for (int i = 0; i < n; i++)
        {
            final Object o = owner[i];
            if (o != null)
            {
                owner[i] = null;
                final FrameRelease r = release[i];
                release[i] = null;
                views[i].wrap(0, 0);
                try
                {
                    r.release(o);
                }
                catch (final RuntimeException | Error ex)
                {
                    failure = failure == null ? ex : failure; // the others are still given back
                }
            }
        }
        if (failure instanceof RuntimeException)
        {
            throw (RuntimeException)failure;
        }
        if (failure != null)
        {
            throw (Error)failure;
        }
    }

    /** The slots' buffer (frames that were copied in); a stage reads frame i through {@link #buffer(int)}. */
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** The buffer frame i lies in, at {@link #offset(int)}: the slots' buffer, or the view of its external memory. */
    public UnsafeBuffer buffer(final int i)
    {
        return owner[i] == null ? buffer : views[i];
    }

    /** Whether frame i lies in memory the batch does not own (handed over without a copy). */
    public boolean external(final int i)
    {
        return owner[i] != null;
    }

    /** The owner frame i was handed over with (null for a copied frame). */
    public Object owner(final int i)
    {
        return owner[i];
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

    /** Drop frame i for {@code reason} (the worker counts it once the batch has been through its stages). */
    public void drop(final int i, final DropReason reason)
    {
        state[i] = DROPPED;
        dropReason[i] = (byte)reason.ordinal();
    }

    /** Why frame i was dropped (valid when it was). */
    public DropReason dropReason(final int i)
    {
        return DropReason.ofOrdinal(dropReason[i]);
    }

    /** Count the batch's dropped frames into {@code counters}, by reason. */
    public void countDrops(final DropCounters counters)
    {
        for (int i = 0, n = size; i < n; i++)
        {
            if (state[i] == DROPPED)
            {
                counters.count(DropReason.ofOrdinal(dropReason[i]));
            }
        }
    }

    public void sent(final int i)
    {
        state[i] = SENT;
    }

    /** The overlay node frame i leaves for, or {@link #LOCAL}. */
    public int nextHop(final int i)
    {
        return nextHop[i];
    }

    public void nextHop(final int i, final int node)
    {
        nextHop[i] = node;
    }

    /** Frame i's parse (valid when {@link #verdict} is not null; {@link Verdict#OK}: every field). */
    public ParsedPacket parsed(final int i)
    {
        return parsed[i];
    }

    /** The verdict of frame i's parse, or null when it was not parsed (a stage then parses it itself). */
    public Verdict verdict(final int i)
    {
        final byte v = verdict[i];
        return v == NOT_PARSED ? null : VERDICTS[v];
    }

    /** Whether frame i is VXLAN for this node (rx's parse is then of its inner frame). */
    public boolean tunnelled(final int i)
    {
        return tunnelled[i] != 0;
    }

    /**
     * Frame i (just added) takes the parse rx made of it where it arrived: {@code from}, whose offsets are
     * {@code shift} bytes before the frame's in {@link #buffer(int)}.
     */
    public void parsed(final int i, final ParsedPacket from, final Verdict result, final int shift,
        final boolean vxlan)
    {
        parsed[i].copyFrom(from, buffer(i), shift);
        verdict[i] = (byte)result.ordinal();
        tunnelled[i] = (byte)(vxlan ? 1 : 0);
    }

    /** Frame i was parsed again (its window changed, e.g. decapsulation to a shorter inner frame). */
    public void reparsed(final int i, final Verdict result)
    {
        verdict[i] = (byte)result.ordinal();
    }
}
