package io.dpbench.pipeline;

import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PipelineTest
{
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);

    private int udp(final String source, final int sourcePort, final String destination, final int destinationPort)
    {
        return new FrameBuilder().addresses(Ipv4Address.parse(source), Ipv4Address.parse(destination))
            .udp(sourcePort, destinationPort).build(frame, 0);
    }

    /**
     * Both directions of a connection meet on one worker: a DNATed one (request to the VIP, reply from the backend),
     * a masqueraded one (reply to the node's address on the SNAT port its worker picked), and plain pod-to-pod traffic.
     * A client's connections all go to one worker, and clients spread over the workers.
     */
    @Test
    void bothDirectionsOfAConnectionMeetOnOneWorker()
    {
        final org.agrona.collections.LongHashSet frontends = new org.agrona.collections.LongHashSet();
        final org.agrona.collections.LongHashSet backends = new org.agrona.collections.LongHashSet();
        frontends.add(FlowSteering.key(17, Ipv4Address.parse("10.96.0.1"), 80));
        frontends.add(FlowSteering.key(17, Ipv4Address.parse("10.96.0.2"), 80));
        backends.add(FlowSteering.key(17, Ipv4Address.parse("10.244.3.7"), 8080));
        final String node = "192.168.0.10";
        final FlowSteering steering = new FlowSteering(4, frontends, backends, new int[]{Ipv4Address.parse(node)}, 0);
        final int[] perWorker = new int[4];
        for (int c = 0; c < 400; c++)
        {
            final String client = Ipv4Address.toString(Ipv4Address.parse("10.244.0.2") + c);
            final int port = 40000 + c;
            final int request = steering.worker(frame, 0, udp(client, port, "10.96.0.1", 80));
            perWorker[request]++;
            assertThat(steering.worker(frame, 0, udp(client, port + 1, "10.96.0.2", 80))).as("same client").isEqualTo(request);
            assertThat(steering.worker(frame, 0, udp("10.244.3.7", 8080, client, port))).as("DNAT reply").isEqualTo(request);
            int snat = 32768 + c;
            while (!FlowSteering.ownsPort(request, 4, snat))
            {
                snat++;
            }
            assertThat(steering.worker(frame, 0, udp("10.244.3.7", 8080, node, snat))).as("masqueraded reply")
                .isEqualTo(request);
            assertThat(steering.worker(frame, 0, udp(client, port, "10.244.3.7", 8080))).as("straight to a backend pod")
                .isEqualTo(steering.worker(frame, 0, udp("10.244.3.7", 8080, client, port)));
            assertThat(steering.worker(frame, 0, udp(node, port, "10.244.3.7", 8080))).as("the node straight to a pod")
                .isEqualTo(steering.worker(frame, 0, udp("10.244.3.7", 8080, node, port)));
            assertThat(steering.worker(frame, 0, udp(client, port, "10.244.9.9", 5000))).as("plain traffic, symmetric")
                .isEqualTo(steering.worker(frame, 0, udp("10.244.9.9", 5000, client, port)));
        }
        for (final int n : perWorker)
        {
            assertThat(n).as("clients per worker, of 400").isBetween(60, 140);
        }
    }

    /** From a cluster: its ClusterIPs are frontends, its endpoints backends. */
    @Test
    void aClustersFrontendsAndBackendsSteerAsRequestsAndReplies()
    {
        final io.dpbench.model.ClusterModel cluster = SyntheticCluster.generate(20, 2, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final FlowSteering steering = FlowSteering.of(cluster, NodeConfig.defaults(), 8, 0);
        final io.dpbench.model.Service service = cluster.services().get(0);
        final String vip = service.clusterIP();
        final int servicePort = service.ports().get(0).port();
        final int protocol = service.ports().get(0).protocol().number();
        assertThat(protocol).isEqualTo(6);
        final UnsafeBuffer b = frame;
        for (int c = 0; c < 50; c++)
        {
            final int client = Ipv4Address.parse("10.244.0.2") + c;
            final int w = steering.worker(b, 0, new FrameBuilder().addresses(client, Ipv4Address.parse(vip))
                .tcp(30000, servicePort, 0x02).build(b, 0));
            for (int p = 30001; p < 30010; p++)
            {
                assertThat(steering.worker(b, 0, new FrameBuilder().addresses(client, Ipv4Address.parse(vip))
                    .tcp(p, servicePort, 0x02).build(b, 0))).isEqualTo(w);
            }
        }
    }

    @Test
    void stageChainsAreBuiltFromTheirNamesAndCheckedAtOnce()
    {
        final StageChain chain = StageChain.build("conntrack,tx", null, null, (s, t, b, o, l) -> { });
        assertThat(chain.toString()).isEqualTo("conntrack -> tx");
        assertThatThrownBy(() -> StageChain.build("conntrack", null, null, (s, t, b, o, l) -> { }))
            .hasMessageContaining("must end in tx");
        assertThatThrownBy(() -> StageChain.build("tx,tx", null, null, (s, t, b, o, l) -> { }))
            .hasMessageContaining("appears twice");
        assertThatThrownBy(() -> StageChain.build("decap,conntrack,tx", null, null, (s, t, b, o, l) -> { }))
            .hasMessageContaining("needs an overlay topology");
    }

    /** A full ring drops and counts (rx missed); what was taken is processed; close drains it all. */
    @Test
    void aFullRingDropsAndCountsAndCloseDrains() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final List<Long> seen = new ArrayList<>();
        final Stage gate = gated(release, batch ->
        {
            for (int i = 0; i < batch.size(); i++)
            {
                seen.add(batch.sequence(i));
            }
        });
        final FlowSteering one = new FlowSteering(1, new org.agrona.collections.LongHashSet(),
            new org.agrona.collections.LongHashSet(), new int[0], 0);
        final Pipeline pipeline = new Pipeline(one, w -> StageChain.of(gate), 2, Pipeline.Overflow.DROP);
        final int length = udp("10.244.0.2", 1000, "10.244.0.3", 2000);
        int taken = 0;
        final int offered = PacketBatch.CAPACITY * 10;
        for (int i = 0; i < offered; i++)
        {
            taken += pipeline.submit(frame, 0, length, i, i) ? 1 : 0;
        }
        pipeline.flush();
        final long missed = pipeline.rxMissedTotal();
        assertThat(missed).as("dropped at rx").isPositive();
        release.countDown();
        pipeline.close();
        assertThat(pipeline.processed()).isEqualTo(offered - missed);
        assertThat(seen).hasSize((int)(offered - missed));
        assertThat(taken).isGreaterThanOrEqualTo((int)(offered - missed));
        assertThat(seen).isSorted(); // one worker keeps input order
    }

    /**
     * Two rx threads, each its own producer (rings of its own to every worker): every frame reaches the worker
     * steering names, none is lost, close drains both producers' rings.
     */
    @Test
    void twoProducersFeedTwoWorkers() throws Exception
    {
        final org.agrona.collections.LongHashSet none = new org.agrona.collections.LongHashSet();
        final FlowSteering steering = new FlowSteering(2, none, none, new int[0], 0);
        final java.util.concurrent.atomic.AtomicLong[] seen = {new java.util.concurrent.atomic.AtomicLong(),
            new java.util.concurrent.atomic.AtomicLong()};
        final java.util.concurrent.atomic.AtomicLong misrouted = new java.util.concurrent.atomic.AtomicLong();
        final Pipeline pipeline = new Pipeline(steering, w -> StageChain.of(new Stage()
        {
            @Override
            public String name()
            {
                return "count";
            }

            @Override
            public void process(final PacketBatch batch)
            {
                for (int i = 0; i < batch.size(); i++)
                {
                    if (steering.worker(batch.buffer(), batch.offset(i), batch.length(i)) != w)
                    {
                        misrouted.incrementAndGet();
                    }
                }
                seen[w].addAndGet(batch.size());
            }
        }), 4, Pipeline.Overflow.WAIT, 2048, Pipeline.Idle.BACKOFF, 2);
        final Thread[] rx = new Thread[2];
        for (int p = 0; p < 2; p++)
        {
            final Pipeline.Rx producer = pipeline.rx(p);
            final int base = p;
            rx[p] = new Thread(() ->
            {
                final UnsafeBuffer f = new UnsafeBuffer(new byte[256]);
                for (int i = 0; i < 20_000; i++)
                {
                    final int length = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.2") + base * 1000 + i % 500,
                        Ipv4Address.parse("10.244.1.2")).udp(1000 + i, 53).build(f, 0);
                    producer.submit(f, 0, length, i, i);
                }
                producer.flush();
            });
            rx[p].start();
        }
        for (final Thread t : rx)
        {
            t.join();
        }
        pipeline.close();
        assertThat(seen[0].get() + seen[1].get()).isEqualTo(40_000);
        assertThat(seen[0].get()).as("both workers busy").isPositive();
        assertThat(seen[1].get()).isPositive();
        assertThat(misrouted.get()).isZero();
        assertThat(pipeline.processed()).isEqualTo(40_000);
    }

    @Test
    void framesLargerThanASlotAreRefusedAndCounted()
    {
        final FlowSteering one = new FlowSteering(1, new org.agrona.collections.LongHashSet(),
            new org.agrona.collections.LongHashSet(), new int[0], 0);
        final List<Long> seen = new ArrayList<>();
        final Stage record = new Stage()
        {
            @Override
            public String name()
            {
                return "record";
            }

            @Override
            public void process(final PacketBatch batch)
            {
                for (int i = 0; i < batch.size(); i++)
                {
                    seen.add((long)batch.length(i));
                }
            }
        };
        final Pipeline pipeline = new Pipeline(one, w -> StageChain.of(record), 2, Pipeline.Overflow.WAIT, 9000);
        final UnsafeBuffer big = new UnsafeBuffer(new byte[20_000]);
        assertThat(pipeline.submit(big, 0, 9000, 0, 0)).isTrue();
        assertThat(pipeline.submit(big, 0, 9001, 0, 1)).isFalse();
        pipeline.close();
        assertThat(pipeline.oversize()).isEqualTo(1);
        assertThat(seen).containsExactly(9000L);
    }

    /**
     * Frames handed over without a copy ({@link Pipeline.Rx#submitExternal}): stages read them where they lie and
     * may write in their headroom; each is given back to its owner exactly once, whether it was processed, dropped at
     * rx with a full ring, or left behind by a worker that failed.
     */
    @Test
    void externalFramesAreReadInPlaceAndGivenBackExactlyOnce() throws Exception
    {
        final int frames = PacketBatch.CAPACITY * 12;
        final int slot = 256;
        final int headroom = 64;
        final UnsafeBuffer memory = new UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(frames * slot, 64));
        final int length = udp("10.244.0.2", 1000, "10.244.0.3", 2000);
        for (int i = 0; i < frames; i++)
        {
            memory.putBytes(i * slot + headroom, frame, 0, length);
            memory.putShort(i * slot + headroom + 14 + 4, (short)i); // the frame's number in its IPv4 identification
        }
        for (final boolean fail : new boolean[]{false, true})
        {
            final java.util.concurrent.atomic.AtomicIntegerArray released = new java.util.concurrent.atomic.AtomicIntegerArray(frames);
            final FrameRelease release = owner -> released.incrementAndGet((Integer)owner);
            final CountDownLatch open = new CountDownLatch(1);
            final List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            final Stage check = gated(open, batch ->
            {
                for (int i = 0; i < batch.size(); i++)
                {
                    assertThat(batch.external(i)).isTrue();
                    final UnsafeBuffer b = batch.buffer(i);
                    final int n = b.getShort(batch.offset(i) + 14 + 4) & 0xFFFF;
                    assertThat(batch.owner(i)).isEqualTo(n);
                    assertThat(batch.length(i)).isEqualTo(length);
                    b.putLong(batch.offset(i) - 50, 0x0102_0304_0506_0708L); // in its headroom, in place
                    seen.add(n);
                }
                if (fail)
                {
                    throw new IllegalStateException("stage failed on purpose");
                }
            });
            final FlowSteering one = new FlowSteering(1, new org.agrona.collections.LongHashSet(),
                new org.agrona.collections.LongHashSet(), new int[0], 0);
            final Pipeline pipeline = new Pipeline(one, w -> StageChain.of(check), 2, Pipeline.Overflow.DROP);
            for (int i = 0; i < frames; i++)
            {
                pipeline.rx(0).submitExternal(memory.addressOffset() + i * slot + headroom, headroom, length, i, release,
                    i, i);
            }
            pipeline.flush();
            assertThat(pipeline.rxMissedTotal()).as("dropped at rx: ring full").isPositive();
            open.countDown();
            if (fail)
            {
                assertThatThrownBy(pipeline::close).hasStackTraceContaining("stage failed on purpose");
            }
            else
            {
                pipeline.close();
                assertThat(seen).hasSize((int)(frames - pipeline.rxMissedTotal())).isSorted();
                for (final int n : seen)
                {
                    assertThat(memory.getLong(n * slot + headroom - 50)).as("written in place").isEqualTo(0x0102_0304_0506_0708L);
                }
            }
            for (int i = 0; i < frames; i++)
            {
                assertThat(released.get(i)).as("frame %d given back once (failing stage: %s)", i, fail).isEqualTo(1);
            }
        }
    }

    /**
     * At a pause, a partial batch goes at once to a worker with nothing queued, and is kept filling for a worker that
     * is still busy with queued batches (so a backlog travels in full batches, not one batch per frame); it leaves
     * when the worker has caught up.
     */
    @Test
    void aPauseHandsPartialBatchesOnlyToWorkersWithNothingQueued() throws Exception
    {
        final CountDownLatch open = new CountDownLatch(1);
        final List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
        final Stage gate = gated(open, batch -> sizes.add(batch.size()));
        final FlowSteering one = new FlowSteering(1, new org.agrona.collections.LongHashSet(),
            new org.agrona.collections.LongHashSet(), new int[0], 0);
        final Pipeline pipeline = new Pipeline(one, w -> StageChain.of(gate), 8, Pipeline.Overflow.DROP);
        final int length = udp("10.244.0.2", 1000, "10.244.0.3", 2000);
        final Pipeline.Rx rx = pipeline.rx(0);
        rx.submit(frame, 0, length, 0, 0);
        assertThat(rx.flushIdle()).as("nothing queued: handed over").isFalse();
        // the worker holds batches at the gate; single-frame batches go until a backlog has formed in its ring
        final long deadline = System.nanoTime() + 10_000_000_000L;
        boolean kept = false;
        int handedOver = 1;
        long seq = 1;
        while (!kept && System.nanoTime() < deadline)
        {
            rx.submit(frame, 0, length, seq, seq++);
            kept = rx.flushIdle();
            handedOver += kept ? 0 : 1;
        }
        assertThat(kept).as("a backlog queued: the partial batch is kept").isTrue();
        assertThat(handedOver).as("batches handed over before the backlog formed")
            .isBetween(Pipeline.Rx.BACKLOG, Pipeline.Rx.BACKLOG + 1);
        for (int i = 0; i < 10; i++)
        {
            rx.submit(frame, 0, length, seq, seq++);
            assertThat(rx.flushIdle()).isTrue();
        }
        open.countDown();
        while (rx.flushIdle() && System.nanoTime() < deadline)
        {
            Thread.onSpinWait(); // leaves once the worker has emptied its ring
        }
        pipeline.close();
        assertThat(pipeline.rxMissedTotal()).isZero();
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo((int)pipeline.processed());
        assertThat(sizes.get(sizes.size() - 1)).as("the kept batch gathered the frames of 11 pauses").isGreaterThanOrEqualTo(11);
    }

    @Test
    void aWorkersFailureIsRethrown()
    {
        final Stage boom = new Stage()
        {
            @Override
            public String name()
            {
                return "boom";
            }

            @Override
            public void process(final PacketBatch batch)
            {
                throw new IllegalStateException("stage failed on purpose");
            }
        };
        final FlowSteering one = new FlowSteering(1, new org.agrona.collections.LongHashSet(),
            new org.agrona.collections.LongHashSet(), new int[0], 0);
        final Pipeline pipeline = new Pipeline(one, w -> StageChain.of(boom), 2, Pipeline.Overflow.WAIT);
        final int length = udp("10.244.0.2", 1000, "10.244.0.3", 2000);
        assertThatThrownBy(() ->
        {
            for (int i = 0; i < 10_000; i++)
            {
                pipeline.submit(frame, 0, length, i, i);
            }
            pipeline.close();
        }).hasStackTraceContaining("stage failed on purpose");
    }

    /** A stage that holds each batch until {@code open} opens (at most 30 s), then hands it to {@code then}. */
    private static Stage gated(final CountDownLatch open, final java.util.function.Consumer<PacketBatch> then)
    {
        return new Stage()
        {
            @Override
            public String name()
            {
                return "gate";
            }

            @Override
            public void process(final PacketBatch batch)
            {
                try
                {
                    open.await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                then.accept(batch);
            }
        };
    }
}
