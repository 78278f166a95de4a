package io.dpbench.pipeline;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.List;
import java.util.function.IntFunction;

/**
 * The node's dataplane over several worker threads. The caller's thread is rx: {@link #submit} steers each frame to
 * a worker ({@link FlowSteering}: both directions of a connection meet on one worker), copies it into that worker's
 * batch being filled, and hands full batches over the worker's single-producer single-consumer ring (JCTools); each
 * worker runs its own {@link StageChain} over them. No locks on the packet path: the rings are lock-free, each
 * worker owns its stages, its conntrack cache and its proxy state (its own rr cursors, its own SNAT ports), and the
 * only shared structure is the conntrack table (Chronicle Map, whose segment locks are taken per access).
 * <p>
 * When a worker's ring is full, {@link Overflow#DROP} drops the batch and counts its frames as rx-missed (a NIC's
 * rx_missed_errors: traffic does not wait), {@link Overflow#WAIT} waits for room (a replay, which must not lose
 * frames). {@link #close} hands over the partial batches, lets every worker drain its ring, and joins them; a
 * worker's failure is rethrown there (and from {@code submit} in WAIT mode, which would otherwise wait forever).
 */
public final class Pipeline implements AutoCloseable
{
    public enum Overflow
    {
        DROP, WAIT
    }

    /**
     * How idle threads wait: SPIN (busy-poll: dedicated cores), BACKOFF (spin, yield, then park: shared cores), AUTO
     * (SPIN when rx and every worker can have a core of their own, else BACKOFF).
     */
    public enum Idle
    {
        SPIN, BACKOFF, AUTO
    }

    /** Batches in flight per worker ring. */
    public static final int DEFAULT_RING_BATCHES = 8;

    private final Worker[] workers;
    private final Thread[] threads;
    private final FlowSteering steering;
    private final Overflow overflow;
    private final PacketBatch[] filling;
    private final long[] rxMissed;
    private long oversize;
    private final int maxFrame;
    private long submitted;
    private boolean closed;
    /**
     * How rx waits (for room in WAIT mode, for the workers in {@link #awaitProcessed}): busy-spinning when rx and the
     * workers each have a core (a dataplane's dedicated cores); else spin briefly, then yield, then park, so that a
     * worker sharing this core can run.
     */
    private final IdleStrategy waiting;

    /**
     * Start {@code steering.workers()} workers, worker i running {@code chains.apply(i)} (a new chain per worker).
     */
    public Pipeline(final FlowSteering steering, final IntFunction<StageChain> chains, final int ringBatches,
        final Overflow overflow)
    {
        this(steering, chains, ringBatches, overflow, PacketBatch.MAX_FRAME);
    }

    /**
     * As above, with slots for frames of up to {@code maxFrame} bytes (memory: 64 slots per batch, ringBatches + 2
     * batches per worker; e.g. 64 KiB frames take ~42 MiB per worker with 8-batch rings).
     */
    public Pipeline(final FlowSteering steering, final IntFunction<StageChain> chains, final int ringBatches,
        final Overflow overflow, final int maxFrame)
    {
        this(steering, chains, ringBatches, overflow, maxFrame, Idle.AUTO);
    }

    /** As above, with the idle policy of rx and the workers. */
    public Pipeline(final FlowSteering steering, final IntFunction<StageChain> chains, final int ringBatches,
        final Overflow overflow, final int maxFrame, final Idle idle)
    {
        this.steering = steering;
        this.maxFrame = maxFrame;
        this.overflow = overflow;
        final int n = steering.workers();
        // rx and every worker on a core of its own: spin (a dataplane's dedicated cores; a parked worker would let
        // its ring fill within its park time); else back off, yielding first, so that threads sharing a core run
        final boolean coreEach = idle == Idle.SPIN
            || idle == Idle.AUTO && n + 1 <= Runtime.getRuntime().availableProcessors();
        waiting = coreEach ? new BusySpinIdleStrategy() : new BackoffIdleStrategy(20, 1_000, 1_000, 20_000);
        workers = new Worker[n];
        threads = new Thread[n];
        filling = new PacketBatch[n];
        rxMissed = new long[n];
        for (int i = 0; i < n; i++)
        {
            workers[i] = new Worker(i, chains.apply(i), ringBatches,
                coreEach ? new BusySpinIdleStrategy() : new BackoffIdleStrategy(100, 1_000, 1_000, 100_000));
            for (int b = 0; b < ringBatches + 2; b++)
            {
                workers[i].free.offer(new PacketBatch(maxFrame));
            }
        }
        for (int i = 0; i < n; i++)
        {
            threads[i] = new Thread(workers[i], "dpbench-worker-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
    }

    /**
     * rx: one frame in. Returns false when it was refused (larger than a slot, counted as oversize) or dropped with its
     * batch (DROP mode, ring full, counted as rx-missed).
     */
    public boolean submit(final DirectBuffer buffer, final int offset, final int length, final long timestampNanos,
        final long sequence)
    {
        submitted++;
        if (length > maxFrame)
        {
            oversize++;
            return false;
        }
        final int w = steering.worker(buffer, offset, length);
        PacketBatch batch = filling[w];
        if (batch == null)
        {
            batch = takeFree(w);
            if (batch == null)
            {
                rxMissed[w]++;
                return false;
            }
            filling[w] = batch;
        }
        batch.add(buffer, offset, length, timestampNanos, sequence);
        return !batch.isFull() || handOver(w);
    }

    private PacketBatch takeFree(final int w)
    {
        PacketBatch batch = workers[w].free.poll();
        waiting.reset();
        while (batch == null && overflow == Overflow.WAIT)
        {
            checkWorker(w);
            waiting.idle();
            batch = workers[w].free.poll();
        }
        return batch;
    }

    /** Hand worker w's batch over; false when DROP mode dropped it (ring full; its frames counted as rx-missed). */
    private boolean handOver(final int w)
    {
        final PacketBatch batch = filling[w];
        if (batch == null || batch.size() == 0)
        {
            return true;
        }
        if (!workers[w].rx.offer(batch))
        {
            if (overflow == Overflow.DROP)
            {
                rxMissed[w] += batch.size();
                batch.clear(); // stays the batch being filled
                return false;
            }
            waiting.reset();
            while (!workers[w].rx.offer(batch))
            {
                checkWorker(w);
                waiting.idle();
            }
        }
        filling[w] = null;
        return true;
    }

    private void checkWorker(final int w)
    {
        if (workers[w].finished)
        {
            throw new IllegalStateException("worker " + w + " stopped", workers[w].failure);
        }
    }

    /**
     * Hand over every partial batch now (end of input, or a pause in a live stream); in DROP mode a full ring drops
     * it, counted as rx-missed, as it would any batch.
     */
    public void flush()
    {
        for (int w = 0; w < workers.length; w++)
        {
            handOver(w);
        }
    }

    /** Frames the workers have finished with, all of them (for a caller waiting for its frames to pass). */
    public long processed()
    {
        long sum = 0;
        for (final Worker w : workers)
        {
            sum += w.processed.get();
        }
        return sum;
    }

    /** Wait until every frame submitted and not refused has been processed; rethrows a worker's failure. */
    public void awaitProcessed()
    {
        flush();
        final long target = submitted - oversize - rxMissedTotal();
        waiting.reset();
        while (processed() < target)
        {
            for (int w = 0; w < workers.length; w++)
            {
                checkWorker(w);
            }
            waiting.idle();
        }
    }

    /** Drain and stop the workers; rethrows the first worker failure. Idempotent. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        RuntimeException flushFailure = null;
        try
        {
            flush();
        }
        catch (final RuntimeException ex)
        {
            flushFailure = ex; // a worker failed: still stop and join the others before anything is closed
        }
        for (final Worker w : workers)
        {
            w.stop();
        }
        boolean interrupted = false;
        for (final Thread t : threads)
        {
            while (t.isAlive())
            {
                try
                {
                    t.join();
                }
                catch (final InterruptedException ex)
                {
                    interrupted = true;
                }
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
        for (final Worker w : workers)
        {
            if (w.failure != null)
            {
                throw new IllegalStateException("worker " + w.index + " failed", w.failure);
            }
        }
        if (flushFailure != null)
        {
            throw flushFailure;
        }
    }

    public int workers()
    {
        return workers.length;
    }

    /** Worker i's stage chain (read its stages' counters after {@link #close}). */
    public StageChain chain(final int worker)
    {
        return workers[worker].chain;
    }

    public List<StageChain> chains()
    {
        final StageChain[] c = new StageChain[workers.length];
        for (int i = 0; i < c.length; i++)
        {
            c[i] = workers[i].chain;
        }
        return List.of(c);
    }

    /** Frames worker i processed. */
    public long processed(final int worker)
    {
        return workers[worker].processed.get();
    }

    public long rxMissed(final int worker)
    {
        return rxMissed[worker];
    }

    public long rxMissedTotal()
    {
        long sum = 0;
        for (final long m : rxMissed)
        {
            sum += m;
        }
        return sum;
    }

    /** Frames refused at rx for being larger than a slot. */
    public long oversize()
    {
        return oversize;
    }
}
