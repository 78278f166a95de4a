package io.dpbench.bench.pipeline;

import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.IpvsSelector;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.pipeline.FlowSteering;
import io.dpbench.pipeline.FrameOutput;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.pipeline.SingleThreadDataplane;
import io.dpbench.pipeline.StageChain;
import io.dpbench.vxlan.OverlayTopology;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The whole node pipeline on established flows with encapsulation: {@value #FLOWS} UDP flows from this node's pods to
 * the UDP ports of {@value #SERVICES} Services of the realistic mix (IPVS rr, 4 endpoints each, spread over 4 nodes,
 * so about three flows in four are DNATed to another node's pod and leave VXLAN-encapsulated), frames of 64 and 594
 * bytes (2:1). Each operation is one packet: rx (the benchmark thread steers it
 * and copies it into a worker's batch, as a NIC's DMA would), then on the worker decap check, conntrack (the worker's
 * flow cache: the flows were created in setup), NAT, route, encap, tx (counted). The benchmark waits until every
 * packet it offered has been processed at the end of each iteration, so the time is the pipeline's sustained rate:
 * packets per second = 1e9 / (ns/op). {@code workers} = 1 or 2; on a 2-core machine the rx thread shares the cores with the workers.
 * Allocation per packet: none on the workers; JMH's gc profiler sees only the benchmark thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PipelineBenchmark
{
    static final int FLOWS = 4096;
    static final int STRIDE = 1024;
    static final int NODES = 4;

    @Param({"1", "2"})
    public int workers;

    /** Services, 4 endpoints each (4 nodes' /24s hold at most 1,012 pods); not a parameter, so that a profile's
     * {@code -p services=...} for the scaling benchmarks leaves it alone. */
    static final int SERVICES = 200;

    private Pipeline pipeline;
    private ConntrackTable table;
    private UnsafeBuffer frames;
    private final int[] lengths = new int[FLOWS];
    private long sequence;
    private CountingOutput[] outputs;

    /** tx: counts what leaves (one per worker, so no sharing). */
    static final class CountingOutput implements FrameOutput
    {
        long frames;
        long bytes;

        @Override
        public void frame(final long seq, final long timestampNanos, final DirectBuffer buffer, final int offset,
            final int length)
        {
            frames++;
            bytes += length + buffer.getByte(offset + length - 1); // reads the frame's last byte
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        final ClusterModel model = SyntheticCluster.generate(SERVICES, 4, 1, SyntheticCluster.Mix.REALISTIC, NODES);
        // the flows go to the UDP service ports (DNS-like, ~15% of the mix): every packet after a flow's first is
        // established without a handshake
        final java.util.List<long[]> targets = new java.util.ArrayList<>();
        for (final io.dpbench.model.Service service : model.services())
        {
            for (final io.dpbench.model.ServicePort port : service.ports())
            {
                if (service.hasClusterIP() && port.protocol() == io.dpbench.model.Protocol.UDP)
                {
                    targets.add(new long[]{Ipv4Address.parse(service.clusterIP()), port.port()});
                }
            }
        }
        final NodeConfig node = NodeConfig.defaults();
        final OverlayTopology topology = OverlayTopology.generate(NODES);
        table = ConntrackTable.inMemory(1 << 16);
        final FlowSteering steering = FlowSteering.of(model, node, workers, topology.local().address());
        outputs = new CountingOutput[workers];
        pipeline = new Pipeline(steering, w ->
        {
            final SingleThreadDataplane dataplane = new SingleThreadDataplane(
                new IpvsSelector(new IpvsProxier(node, "rr", SchedulerFlags.NONE).syncAll(model)),
                workers == 1 ? table : table.view(steering.owner(w)), ConntrackTimeouts.kubernetesNode())
                .natPorts(w, workers);
            outputs[w] = new CountingOutput();
            return StageChain.build(StageChain.OVERLAY, dataplane, topology, outputs[w]);
        }, Pipeline.DEFAULT_RING_BATCHES, Pipeline.Overflow.WAIT);
        frames = new UnsafeBuffer(BufferUtil.allocateDirectAligned(FLOWS * STRIDE, 64));
        final SplittableRandom random = new SplittableRandom(3);
        final byte[] payload = new byte[594];
        for (int i = 0; i < FLOWS; i++)
        {
            final int size = random.nextInt(3) == 0 ? 594 : 64;
            final long[] target = targets.get(random.nextInt(targets.size()));
            lengths[i] = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.2") + random.nextInt(250),
                (int)target[0]).udp(32768 + i, (int)target[1]).payload(payload, size - 42).build(frames, i * STRIDE);
        }
        offerAll(); // the flows' first packets: conntrack entries and the workers' caches
        pipeline.awaitProcessed();
        long sent = 0;
        for (final CountingOutput o : outputs)
        {
            sent += o.frames; // visible: awaitProcessed read the workers' counters, published after their batches
        }
        if (sent != FLOWS || processedAndEncapsulated()[1] < FLOWS / 2)
        {
            throw new IllegalStateException(sent + " of " + FLOWS + " first packets left the pipeline, "
                + processedAndEncapsulated()[1] + " encapsulated");
        }
    }

    private void offerAll()
    {
        final long now = System.nanoTime();
        for (int i = 0; i < FLOWS; i++)
        {
            pipeline.submit(frames, i * STRIDE, lengths[i], now, sequence++);
        }
    }

    /**
     * Offers the flows' next packets; rx waits whenever a worker's ring is full, so over an iteration the rate is the
     * workers' sustained rate (at most the rings' 8 batches per worker are still in flight when it ends).
     */
    @Benchmark
    @OperationsPerInvocation(FLOWS)
    public long established()
    {
        offerAll();
        return sequence;
    }

    @TearDown(Level.Iteration)
    public void drain()
    {
        pipeline.awaitProcessed();
    }

    /** Frames the workers processed, and of those, how many left encapsulated (for tests; after {@link #drain}). */
    long[] processedAndEncapsulated()
    {
        long encapsulated = 0;
        for (final io.dpbench.pipeline.StageChain chain : pipeline.chains())
        {
            encapsulated += chain.stage(io.dpbench.pipeline.EncapStage.class).forwarder()
                .count(io.dpbench.vxlan.OverlayForwarder.Counter.ENCAPSULATED);
        }
        return new long[]{pipeline.processed(), encapsulated};
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        pipeline.close();
        long sent = 0;
        for (final CountingOutput o : outputs)
        {
            sent += o.frames;
        }
        if (sent < pipeline.processed())
        {
            throw new IllegalStateException("frames were lost: " + sent + " sent of " + pipeline.processed());
        }
        table.close();
    }
}
