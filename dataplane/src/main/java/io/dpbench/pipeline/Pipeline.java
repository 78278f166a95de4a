package io.dpbench.pipeline;

import io.dpbench.packet.Verdict;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.List;
import java.util.function.IntFunction;

/**
 * The node's dataplane over several worker threads. The caller's thread is rx (or several threads, each its own
 * {@link Rx} with its own rings, e.g. one per SO_REUSEPORT socket): {@link #submit} steers each frame to a worker ({@link FlowSteering}: both directions of a connection meet on one worker), copies it into that worker's
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
     * How idle threads wait: SPIN (busy-poll: dedicated cores), BACKOFF (shared cores: a worker spins, yields, then
     * sleeps until rx hands it a batch and wakes it; rx waiting for room spins, yields, then parks briefly), AUTO
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
    private final int maxFrame;
    private final Rx[] producers;
    private boolean closed;

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
        this(steering, chains, ringBatches, overflow, maxFrame, idle, 1);
    }

    /**
     * As above, with {@code rxThreads} producers: each its own {@link Rx} (e.g. one per SO_REUSEPORT socket), with
     * its own single-producer ring and batch pool towards every worker, so that no ring has two producers.
     */
    public Pipeline(final FlowSteering steering, final IntFunction<StageChain> chains, final int ringBatches,
        final Overflow overflow, final int maxFrame, final Idle idle, final int rxThreads)
    {
        if (rxThreads < 1)
        {
            throw new IllegalArgumentException("rx threads " + rxThreads + ": need at least 1");
        }
        this.steering = steering;
        this.maxFrame = maxFrame;
        this.overflow = overflow;
        final int n = steering.workers();
        // rx and every worker on a core of its own: spin (a dataplane's dedicated cores; a parked worker would let
        // its ring fill within its park time); else back off, yielding first, so that threads sharing a core run
        final boolean coreEach = idle == Idle.SPIN
            || idle == Idle.AUTO && n + rxThreads <= Runtime.getRuntime().availableProcessors();
        workers = new Worker[n];
        threads = new Thread[n];
        for (int i = 0; i < n; i++)
        {
            // on a dedicated core a worker busy-polls; sharing cores it spins briefly, then sleeps until rx wakes it
            workers[i] = new Worker(i, chains.apply(i), ringBatches, rxThreads,
                coreEach ? new BusySpinIdleStrategy() : null);
            for (int p = 0; p < rxThreads; p++)
            {
                for (int b = 0; b < ringBatches + 2; b++)
                {
                    workers[i].free[p].offer(new PacketBatch(maxFrame, p));
                }
            }
        }
        producers = new Rx[rxThreads];
        for (int p = 0; p < rxThreads; p++)
        {
            producers[p] = new Rx(p, coreEach ? new BusySpinIdleStrategy() : new BackoffIdleStrategy(20, 1_000, 1_000, 20_000));
        }
        for (int i = 0; i < n; i++)
        {
            threads[i] = new Thread(workers[i], "dpbench-worker-" + i);
            threads[i].setDaemon(true);
            workers[i].thread = threads[i];
            threads[i].start();
        }
    }

    /**
     * One producer (an rx thread): it steers frames, fills its batches and hands them over its own rings. Used by
     * one thread only; each Rx of a pipeline may be used by a different thread.
     */
    public final class Rx
    {
        private final int index;
        /** This producer's parse of each frame (its own parser: one per rx thread). */
        private final RxParse parse = new RxParse(steering.localVtep(), steering.vxlanConfig());
        private final PacketBatch[] filling = new PacketBatch[workers.length];
        private final long[] rxMissed = new long[workers.length];
        private long oversize;
        private long submitted;
        /**
         * How this rx waits (for room in WAIT mode, for the workers in {@link #awaitProcessed}): busy-spinning when
         * rx and the workers each have a core (a dataplane's dedicated cores); else spin briefly, then yield, then
         * park, so that a worker sharing this core can run.
         */
        private final IdleStrategy waiting;

        Rx(final int index, final IdleStrategy waiting)
        {
            this.index = index;
            this.waiting = waiting;
        }

        /**
         * One frame in. Returns false when it was refused (larger than a slot, counted as oversize) or dropped with
         * its batch (DROP mode, ring full, counted as rx-missed).
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
            final Verdict verdict = parse.parse(buffer, offset, length);
            final int w = steering.worker(parse.packet, verdict, buffer, offset, length);
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
            final int i = batch.size() - 1;
            batch.parsed(i, parse.packet, verdict, batch.offset(i), parse.tunnelled);
            return !batch.isFull() || handOver(w);
        }

        /**
         * One frame in without a copy: {@code length} bytes at native {@code address}, {@code headroom} writable
         * bytes before it (encapsulating whole frames in place needs {@link io.dpbench.vxlan.VxlanConfig#OVERHEAD},
         * the UDP payload only the VXLAN header's 8), owned by
         * {@code owner}. The pipeline always takes the frame over: {@code release.release(owner)} is called exactly
         * once, by a worker when it has finished with the frame's batch, or at once by this rx when the frame is
         * dropped (no free batch, DROP mode) or, with its batch, later (ring full). Returns false when it was dropped.
         */
        public boolean submitExternal(final long address, final int headroom, final int length, final Object owner,
            final FrameRelease release, final long timestampNanos, final long sequence)
        {
            submitted++;
            final Verdict verdict = parse.parse(address, length);
            steeringView.wrap(address, length);
            final int w = steering.worker(parse.packet, verdict, steeringView, 0, length);
            PacketBatch batch = filling[w];
            if (batch == null)
            {
                batch = takeFree(w);
                if (batch == null)
                {
                    rxMissed[w]++;
                    release.release(owner);
                    return false;
                }
                filling[w] = batch;
            }
            batch.addExternal(address, headroom, length, owner, release, timestampNanos, sequence);
            final int i = batch.size() - 1;
            batch.parsed(i, parse.packet, verdict, batch.offset(i), parse.tunnelled);
            return !batch.isFull() || handOver(w);
        }

        private final org.agrona.concurrent.UnsafeBuffer steeringView = new org.agrona.concurrent.UnsafeBuffer(0, 0);

        private PacketBatch takeFree(final int w)
        {
            PacketBatch batch = workers[w].free[index].poll();
            waiting.reset();
            while (batch == null && overflow == Overflow.WAIT)
            {
                checkWorker(w);
                waiting.idle();
                batch = workers[w].free[index].poll();
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
            if (!workers[w].rx[index].offer(batch))
            {
                if (overflow == Overflow.DROP)
                {
                    rxMissed[w] += batch.size();
                    batch.clear(); // stays the batch being filled (its external frames given back)
                    return false;
                }
                waiting.reset();
                while (!workers[w].rx[index].offer(batch))
                {
                    checkWorker(w);
                    waiting.idle();
                }
            }
            filling[w] = null;
            workers[w].wake(); // a sleeping worker (shared cores) is woken by its next batch
            return true;
        }

        /** Batches queued for a worker from which {@link #flushIdle} keeps its partial batch filling. */
        public static final int BACKLOG = 4;

        /**
         * At a pause in a live stream (the end of a receive burst, an idle turn): hand over the partial batches, so
         * that light traffic is not held back until 64 frames have gathered, except to a worker with a backlog
         * ({@value #BACKLOG} batches or more queued from this producer), whose batch keeps filling: it is busy with
         * earlier batches anyway, and a backlog then travels in full batches (rings count batches: a batch of one
         * frame per pause would exhaust a worker's ring within a few hundred frames while it is descheduled). A
         * worker with fewer batches queued is not held back: it may only be waking up. Returns true when a
         * partial batch was kept: call again soon (or {@link #flush}), as it leaves once its worker catches up.
         */
        public boolean flushIdle()
        {
            boolean kept = false;
            for (int w = 0; w < workers.length; w++)
            {
                final PacketBatch batch = filling[w];
                if (batch != null && batch.size() > 0)
                {
                    if (workers[w].rx[index].size() < BACKLOG)
                    {
                        handOver(w);
                    }
                    else
                    {
                        kept = true;
                    }
                }
            }
            return kept;
        }

        /**
         * Hand over every partial batch now (end of input); in DROP mode a full ring drops it, counted as rx-missed,
         * as it would any batch.
         */
        public void flush()
        {
            for (int w = 0; w < workers.length; w++)
            {
                handOver(w);
            }
        }
    }

    /** Producer p (0 is the one {@link #submit} and {@link #flush} use). */
    public Rx rx(final int p)
    {
        return producers[p];
    }

    public int rxThreads()
    {
        return producers.length;
    }

    /** Producer 0's {@link Rx#submit}: the single-rx-thread case. */
    public boolean submit(final DirectBuffer buffer, final int offset, final int length, final long timestampNanos,
        final long sequence)
    {
        return producers[0].submit(buffer, offset, length, timestampNanos, sequence);
    }

    private void checkWorker(final int w)
    {
        if (workers[w].finished)
        {
            throw new IllegalStateException("worker " + w + " stopped", workers[w].failure);
        }
    }

    /** Producer 0's {@link Rx#flush}. */
    public void flush()
    {
        producers[0].flush();
    }

    /**
     * Add every worker's drops, by {@link io.dpbench.packet.DropReason} ordinal, into {@code into}; then the
     * pipeline's own (rx-missed, oversize-frame). Exact once the workers have stopped, else as of their last batch.
     */
    public void addDrops(final long[] into)
    {
        for (final Worker w : workers)
        {
            w.processed.get(); // acquire: the counters of the batches it covers
            w.drops.addTo(into);
        }
        into[io.dpbench.packet.DropReason.RX_MISSED.ordinal()] += rxMissedTotal();
        into[io.dpbench.packet.DropReason.OVERSIZE_FRAME.ordinal()] += oversize();
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

    /**
     * Wait until every frame submitted and not refused has been processed; rethrows a worker's failure. For the
     * single-rx case (it flushes producer 0, from that producer's thread).
     */
    public void awaitProcessed()
    {
        flush();
        long submitted = 0;
        for (final Rx rx : producers)
        {
            submitted += rx.submitted;
        }
        final long target = submitted - oversize() - rxMissedTotal();
        final IdleStrategy waiting = producers[0].waiting;
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
            for (final Rx rx : producers)
            {
                rx.flush(); // every producer has stopped by now: its partial batches go from this thread
            }
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
            w.discardQueued(); // after a failure, batches left in its rings: their external frames given back
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

    /** The worker threads' ids (e.g. to read what they allocated). */
    public long[] workerThreadIds()
    {
        final long[] ids = new long[threads.length];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = threads[i].getId();
        }
        return ids;
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

    /** Frames dropped at rx for worker i (ring full), over every producer. */
    public long rxMissed(final int worker)
    {
        long sum = 0;
        for (final Rx rx : producers)
        {
            sum += rx.rxMissed[worker];
        }
        return sum;
    }

    public long rxMissedTotal()
    {
        long sum = 0;
        for (int w = 0; w < workers.length; w++)
        {
            sum += rxMissed(w);
        }
        return sum;
    }

    /** Frames rx parsed, over every producer (a frame is parsed once: tests count parses per frame). */
    long parses()
    {
        long sum = 0;
        for (final Rx rx : producers)
        {
            sum += rx.parse.parses();
        }
        return sum;
    }

    /** Frames refused at rx for being larger than a slot, over every producer. */
    public long oversize()
    {
        long sum = 0;
        for (final Rx rx : producers)
        {
            sum += rx.oversize;
        }
        return sum;
    }
}
