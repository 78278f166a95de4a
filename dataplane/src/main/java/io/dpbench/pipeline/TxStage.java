package io.dpbench.pipeline;

/** Every frame still live leaves as it is (local delivery, or the node's own uplink): to the worker's output. */
public final class TxStage implements Stage
{
    private final FrameOutput output;
    private long sent;

    public TxStage(final FrameOutput output)
    {
        this.output = output;
    }

    @Override
    public String name()
    {
        return "tx";
    }

    @Override
    public void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            if (batch.live(i))
            {
                output.frame(batch, i, batch.buffer(i), batch.offset(i), batch.length(i));
                batch.sent(i);
                sent++;
            }
        }
    }

    /** Frames sent as they were (not encapsulated). */
    public long sent()
    {
        return sent;
    }
}
