package io.dpbench.pipeline;

import org.agrona.DirectBuffer;

/** Where frames that leave the node go (tx): one per worker, called only by its thread. */
@FunctionalInterface
public interface FrameOutput
{
    /**
     * A frame leaves: {@code sequence} is the input frame's number it came from (one input may yield several frames,
     * e.g. fragments or an ICMP error), {@code timestampNanos} its time.
     */
    void frame(long sequence, long timestampNanos, DirectBuffer buffer, int offset, int length);

    /**
     * A frame leaves that came from frame {@code index} of {@code batch} (the stages call this one): an output that
     * can send a frame's own memory without copying it needs to know which frame, and what owns its memory
     * ({@link PacketBatch#owner}). By default, the frame as above.
     */
    default void frame(final PacketBatch batch, final int index, final DirectBuffer buffer, final int offset,
        final int length)
    {
        frame(batch.sequence(index), batch.timestamp(index), buffer, offset, length);
    }

    /**
     * A frame leaves encapsulated for overlay node {@code batch.nextHop(index)}: frame {@code index} of
     * {@code batch}, or a fragment of it, as the encap stage's {@link io.dpbench.vxlan.Encapsulation} wrote it (the
     * encap stage calls this one; every other frame that leaves comes through the method above, an ICMP error the
     * encap stage answers a frame with too). An output that sends to the overlay's nodes itself takes the next hop
     * from the batch instead of from the frame's bytes; by default, a frame like any other (a replay logs it whole).
     */
    default void encapsulated(final PacketBatch batch, final int index, final DirectBuffer buffer, final int offset,
        final int length)
    {
        frame(batch, index, buffer, offset, length);
    }
}
