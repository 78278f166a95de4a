package io.dpbench.pipeline;

import io.dpbench.packet.DropCounters;
import org.agrona.concurrent.Agent;

import org.agrona.concurrent.IdleStrategy;
import org.jctools.queues.SpscArrayQueue;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker thread: takes batches from its rx ring (single producer: the dispatcher; single consumer: this
 * thread), runs its stage chain over each, and returns the emptied batch on its free ring. When its rings are empty it
 * idles as the pipeline chose: busy-spinning on a dedicated core; else it spins briefly, yields a few times, and then
 * sleeps until a producer that hands it a batch wakes it ({@link #wake}), so that an idle worker leaves the core to
 * the threads it shares it with (at a few microseconds of wake-up when traffic resumes). On {@link #stop} it drains
 * what is queued, then ends. A stage that throws ends the worker and
 * the failure is kept for the pipeline to rethrow.
 */
final class Worker implements Runnable, Agent
{
    final int index;
    final StageChain chain;
    /** Per producer: its ring of batches to process, and the ring its emptied batches go back on. */
    final SpscArrayQueue<PacketBatch>[] rx;
    final SpscArrayQueue<PacketBatch>[] free;
    /** Frames processed, published (ordered store) after each batch. */
    final AtomicLong processed = new AtomicLong();
    private volatile boolean stopping;
    volatile Throwable failure;
    volatile boolean finished;

    /** Busy-polling (a dedicated core); null: spin, yield, then sleep until woken. */
    private final IdleStrategy idle;
    /** Set by the worker just before it sleeps; producers wake it when they see it. */
    private volatile boolean sleeping;
    /** The worker's thread (set before it starts). */
    volatile Thread thread;
    private int idleRounds;
    private static final int SPINS = 200;
    private static final int YIELDS = 10;
    /** Longest sleep: a wake-up missed to a race would cost at most this (none is known; a safety net). */
    private static final long MAX_SLEEP_NANOS = 1_000_000;

    @SuppressWarnings("unchecked")
    Worker(final int index, final StageChain chain, final int ringBatches, final int producers, final IdleStrategy idle)
    {
        this.idle = idle;
        this.index = index;
        this.chain = chain;
        this.rx = new SpscArrayQueue[producers];
        this.free = new SpscArrayQueue[producers];
        for (int p = 0; p < producers; p++)
        {
            rx[p] = new SpscArrayQueue<>(ringBatches);
            free[p] = new SpscArrayQueue<>(ringBatches + 2);
        }
    }

    /** The next batch from any producer's ring, taking them in turn; null when all are empty. */
    private PacketBatch next()
    {
        final int n = rx.length;
        for (int i = 0; i < n; i++)
        {
            final PacketBatch batch = rx[turn].poll();
            turn = turn + 1 == n ? 0 : turn + 1;
            if (batch != null)
            {
                return batch;
            }
        }
        return null;
    }

    private int turn;

    private boolean allEmpty()
    {
        for (final SpscArrayQueue<PacketBatch> q : rx)
        {
            if (!q.isEmpty())
            {
                return false;
            }
        }
        return true;
    }

    /** The batch being processed (to give its frames back if a stage fails). */
    private PacketBatch current;

    /**
     * After the thread has ended (joined): empty whatever is still queued in its rings, so that frames handed over
     * without a copy are given back even when the worker failed before reaching them.
     */
    void discardQueued()
    {
        for (final SpscArrayQueue<PacketBatch> q : rx)
        {
            PacketBatch batch;
            while ((batch = q.poll()) != null)
            {
                batch.clear();
            }
        }
    }

    void stop()
    {
        stopping = true;
        final Thread t = thread;
        if (t != null)
        {
            LockSupport.unpark(t);
        }
    }

    /**
     * A producer has just handed this worker a batch: wake it if it sleeps. The full fence orders the producer's
     * store of the batch into the ring before its load of {@code sleeping}; the worker stores {@code sleeping} (a
     * volatile store) before it looks at its rings a last time, so one of the two always sees the other.
     */
    void wake()
    {
        if (idle == null)
        {
            VarHandle.fullFence();
            if (sleeping)
            {
                LockSupport.unpark(thread);
            }
        }
    }

    /** Nothing to do: the pipeline's idle policy. */
    private void idle()
    {
        if (idle != null)
        {
            idle.idle();
            return;
        }
        final int round = idleRounds++;
        if (round < SPINS)
        {
            Thread.onSpinWait();
        }
        else if (round < SPINS + YIELDS)
        {
            Thread.yield();
        }
        else
        {
            sleeping = true;
            if (allEmpty() && !stopping)
            {
                LockSupport.parkNanos(this, MAX_SLEEP_NANOS);
            }
            sleeping = false;
        }
    }

    private void busy()
    {
        if (idle != null)
        {
            idle.reset();
        }
        idleRounds = 0;
    }

    /**
     * One duty cycle (an Agrona agent's): the next batch from the rings, through the stages, its drops counted, then
     * back to its producer's free ring. Returns the frames processed, 0 when there was nothing to do; how to wait
     * then is the caller's ({@link #run}'s idle policy, or a test calling this on its own thread).
     */
    @Override
    public int doWork()
    {
        final PacketBatch batch = next();
        if (batch == null)
        {
            return 0;
        }
        final int frames = batch.size();
        current = batch;
        chain.process(batch);
        batch.countDrops(drops);
        processed.lazySet(processed.get() + frames); // publishes the batch's counters with it
        current = null;
        batch.clear(); // external frames go back to their owner here
        free[batch.producer()].offer(batch); // never full: it holds every batch of that producer
        return frames;
    }

    @Override
    public String roleName()
    {
        return "dpbench-worker-" + index;
    }

    /** Frames this worker dropped, by reason (read after {@link #processed}, which publishes them). */
    final DropCounters drops = new DropCounters();

    @Override
    public void run()
    {
        try
        {
            while (true)
            {
                if (doWork() > 0)
                {
                    busy();
                }
                else if (stopping)
                {
                    if (allEmpty())
                    {
                        break;
                    }
                }
                else
                {
                    idle();
                }
            }
        }
        catch (final Throwable t)
        {
            failure = t;
            if (current != null)
            {
                try
                {
                    current.clear(); // the batch a stage failed on still gives its external frames back
                }
                catch (final Throwable ignored)
                {
                    // the first failure is the one to report
                }
            }
        }
        finally
        {
            finished = true;
        }
    }
}
