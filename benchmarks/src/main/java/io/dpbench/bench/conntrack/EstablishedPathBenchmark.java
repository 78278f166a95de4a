package io.dpbench.bench.conntrack;

import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSelector;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.conntrack.ConntrackNatEngine;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The established path of {@link ConntrackNatEngine}, per packet: parse and validate, conntrack lookup (Chronicle
 * Map), TCP state tracking, write-through of the entry, DNAT rewrite with incremental checksums. Data packets of
 * {@code flows} established connections to 100 Services, in random order; each packet is copied from a pristine
 * pool into the working buffer first (it is rewritten in place), which is part of the figure (~100-byte copy).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class EstablishedPathBenchmark
{
    static final int POOL = 4096;
    static final int STRIDE = 128;

    @Param({"10000", "100000"})
    public int flows;

    private ConntrackTable table;
    private ConntrackNatEngine dataplane;
    private final UnsafeBuffer pristine = new UnsafeBuffer(ByteBuffer.allocateDirect(POOL * STRIDE));
    private final UnsafeBuffer work = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
    private final int[] lengths = new int[POOL];
    private int cursor;
    private long now = 1_000_000_000L;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(100, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final NodeConfig node = NodeConfig.defaults();
        table = ConntrackTable.inMemory(flows + 1024);
        dataplane = new ConntrackNatEngine(new IptablesSelector(new Classifier(ChainEngine.compile(
            NodeRules.assemble(KubeProxyRenderer.render(cluster, node, KubeProxyRenderer.Options.production()), "b"),
            "b", node.nodeIPs(), IpSets.EMPTY), 1, Ipv4Address.parse(node.primaryNodeIP()))), table,
            ConntrackTimeouts.kubernetesNode());
        final FrameBuilder builder = new FrameBuilder();
        final SplittableRandom random = new SplittableRandom(5);
        final int[] client = new int[flows];
        final int[] port = new int[flows];
        final int[] vip = new int[flows];
        for (int i = 0; i < flows; i++)
        {
            // clients in the pod CIDR but never an endpoint (synthetic pods use low host numbers): no hairpin SNAT
            client[i] = Ipv4Address.parse("10.244.0.200") + ((i >>> 14) << 8);
            port[i] = 10_000 + (i & 0x3FFF);
            vip[i] = Ipv4Address.parse("10.96.0.1") + random.nextInt(100);
            // the handshake: client SYN, backend SYN/ACK (to what the SYN became), client ACK -> ESTABLISHED
            builder.addresses(client[i], vip[i]).tcp(port[i], 80, TcpFlyweight.SYN).payload(new byte[0], 0);
            int length = builder.build(work, 0);
            check(dataplane.process(work, 0, length, now), i);
            // the reply goes to what the SYN became (its source after any SNAT)
            final int backend = work.getInt(14 + 16, java.nio.ByteOrder.BIG_ENDIAN);
            final int backendPort = work.getShort(14 + 20 + 2, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
            final int replyTo = work.getInt(14 + 12, java.nio.ByteOrder.BIG_ENDIAN);
            final int replyPort = work.getShort(14 + 20, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
            builder.addresses(backend, replyTo).tcp(backendPort, replyPort, TcpFlyweight.SYN | TcpFlyweight.ACK);
            length = builder.build(work, 0);
            check(dataplane.process(work, 0, length, now), i);
            builder.addresses(client[i], vip[i]).tcp(port[i], 80, TcpFlyweight.ACK);
            length = builder.build(work, 0);
            check(dataplane.process(work, 0, length, now), i);
        }
        final byte[] payload = new byte[40];
        for (int k = 0; k < POOL; k++)
        {
            final int i = random.nextInt(flows);
            builder.addresses(client[i], vip[i]).tcp(port[i], 80, TcpFlyweight.ACK | TcpFlyweight.PSH)
                .payload(payload, payload.length);
            lengths[k] = builder.build(pristine, k * STRIDE);
        }
    }

    private static void check(final boolean passed, final int flow)
    {
        if (!passed)
        {
            throw new IllegalStateException("setup of flow " + flow + " was dropped");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        table.close();
    }

    @Benchmark
    public boolean establishedPacket()
    {
        final int k = cursor++ & (POOL - 1);
        work.putBytes(0, pristine, k * STRIDE, lengths[k]);
        now += 1_000;
        if (!dataplane.process(work, 0, lengths[k], now))
        {
            throw new IllegalStateException("an established packet was dropped");
        }
        return true;
    }
}
