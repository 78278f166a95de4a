package io.dpbench.pipeline;

import org.agrona.concurrent.IdleStrategy;
import org.jctools.queues.SpscArrayQueue;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One worker thread: takes batches from its rx ring (single producer: the dispatcher; single consumer: this
 * thread), runs its stage chain over each, and returns the emptied batch on its free ring. When its ring is empty it
 * idles as the pipeline chose (busy-spinning on a dedicated core, else backing off to yield and park); on {@link #stop} it drains what is queued, then ends. A stage that throws ends the worker and
 * the failure is kept for the pipeline to rethrow.
 */
final class Worker implements Runnable
{
    final int index;
    final StageChain chain;
    final SpscArrayQueue<PacketBatch> rx;
    final SpscArrayQueue<PacketBatch> free;
    /** Frames processed, published (ordered store) after each batch. */
    final AtomicLong processed = new AtomicLong();
    private volatile boolean stopping;
    volatile Throwable failure;
    volatile boolean finished;

    private final IdleStrategy idle;

    Worker(final int index, final StageChain chain, final int ringBatches, final IdleStrategy idle)
    {
        this.idle = idle;
        this.index = index;
        this.chain = chain;
        this.rx = new SpscArrayQueue<>(ringBatches);
        this.free = new SpscArrayQueue<>(ringBatches + 2);
    }

    void stop()
    {
        stopping = true;
    }

    @Override
    public void run()
    {
        try
        {
            while (true)
            {
                final PacketBatch batch = rx.poll();
                if (batch != null)
                {
                    chain.process(batch);
                    processed.lazySet(processed.get() + batch.size());
                    batch.clear();
                    free.offer(batch); // never full: it holds every batch this worker has
                    idle.reset();
                }
                else if (stopping)
                {
                    if (rx.isEmpty())
                    {
                        break;
                    }
                }
                else
                {
                    idle.idle();
                }
            }
        }
        catch (final Throwable t)
        {
            failure = t;
        }
        finally
        {
            finished = true;
        }
    }
}
