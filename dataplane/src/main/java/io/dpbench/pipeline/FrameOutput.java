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
}
