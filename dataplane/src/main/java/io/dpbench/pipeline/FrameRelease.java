package io.dpbench.pipeline;

/**
 * Gives back the memory of a frame that was handed to the pipeline without a copy (a receive buffer of the socket
 * layer, say): called once per such frame, by the thread that finished with it (a worker, or rx when it dropped the
 * frame), with the owner object the frame was submitted with.
 */
@FunctionalInterface
public interface FrameRelease
{
    void release(Object owner);
}
