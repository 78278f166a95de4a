package io.dpbench.pipeline;

/**
 * One step of the packet path over a whole batch (a VPP graph node): it looks only at the batch's {@link
 * PacketBatch#live live} frames and may drop them, move them, route them or send them. Stages are single-purpose and
 * owned by one worker thread; they allocate nothing per packet.
 */
public interface Stage
{
    /** The name the stage chain is configured by (see {@link StageChain}). */
    String name();

    void process(PacketBatch batch);

    /**
     * The reasons this stage may drop a frame for ({@link PacketBatch#drop}), as a VPP node declares its error
     * counters: reports list them, and a test reaches each one. None by default.
     */
    default java.util.List<io.dpbench.packet.DropReason> dropReasons()
    {
        return java.util.List.of();
    }
}
