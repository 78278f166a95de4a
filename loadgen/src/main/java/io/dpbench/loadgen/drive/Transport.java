package io.dpbench.loadgen.drive;

import org.agrona.MutableDirectBuffer;

import java.util.Map;

/**
 * How the load generator reaches the node: in-process (straight into the pipeline's rings) or over UDP (VXLAN
 * datagrams to {@code dpbench run}). Frames are the pods' Ethernet frames; the transport wraps and unwraps what the
 * node's network adds. Called from the generator's thread only.
 */
interface Transport extends AutoCloseable
{
    /** Receives a frame the node delivered to a pod. */
    @FunctionalInterface
    interface FrameHandler
    {
        void frame(MutableDirectBuffer buffer, int offset, int length);
    }

    /**
     * Send a pod's frame, from a pod on overlay node {@code node} (0: the node under test's own pods). Returns false
     * only when the transport is closed and nothing was sent; a frame it refuses at a full queue counts as sent and
     * as a counted drop.
     */
    boolean send(MutableDirectBuffer buffer, int offset, int length, int node);

    /** Hand up to {@code limit} frames the node sent out to {@code handler}; returns how many. */
    int poll(FrameHandler handler, int limit);

    /** Nothing more to send right now (hand over partial batches, flush sends). */
    void idle();

    /**
     * The run is over: let what is in flight come back through {@code handler} (at most {@code quietNanos} of
     * nothing arriving), then stop the node side. {@code sent} is how many frames the generator sent.
     */
    void drain(FrameHandler handler, java.util.function.LongSupplier sent, long quietNanos);

    /** Frames dropped with a counted reason so far (progress lines). */
    long dropsSoFar();

    /** Every counted drop by reason, added to {@code into}; returns their total. */
    long drops(Map<String, Long> into);

    /** Whether the node's own pods (node 0) are clients here; else clients are on node 1. */
    int clientNode();

    @Override
    void close();
}
