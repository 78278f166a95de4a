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
}
