package io.dpbench.bench.conntrack;

import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.control.ClusterSync;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.TcpFlyweight;
import org.agrona.BufferUtil;
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
 * A new connection end to end, per connection: parse, conntrack miss (worker cache, then the table), the proxy
 * mode's selection (iptables chains walked, IPVS's hash and scheduler, or nftables' verdict maps and numgen), the
 * insert of everything the connection needs (both tuples), DNAT of the packet. Into a table that already holds {@code fill} connections: each
 * measured invocation sends {@value #BURST} TCP SYNs of new connections to random ClusterIP Services, and the
 * iteration's teardown deletes them again, so every invocation starts from the fill its figure names (no removals
 * inside the measured loop, as between two reaps of the kernel's gc). The table is sized for the largest fill
 * ({@value #MAX_CONNTRACK} connections, as {@code --max-conntrack} would be) whatever the fill, so that only the fill
 * changes. The packets are copied from a pristine pool into the working buffer first (~60-byte copy).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, batchSize = 1)
@Measurement(iterations = 10, batchSize = 1)
@Fork(1)
public class NewConnectionBenchmark
{
    /** New connections per measured invocation. */
    static final int BURST = 10_000;
    static final int MAX_CONNTRACK = 1_100_000;
    static final int STRIDE = 128;

    @Param({"iptables", "ipvs", "nftables"})
    public String mode;

    @Param({"10", "10000"})
    public int services;

    @Param({"10000", "100000", "1000000"})
    public int fill;

    private ConntrackTable table;
    private ConntrackNatEngine engine;
    private UnsafeBuffer pristine;
    private final UnsafeBuffer work = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
    private final int[] lengths = new int[BURST];
    private final long[] burstAddresses = new long[BURST];
    private final long[] burstPorts = new long[BURST];
    private long now = 1_000_000_000L;

    @Setup(Level.Trial)
    public void setUp()
    {
        final ClusterModel cluster = SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final int[] vips = new int[services];
        final int[] ports = new int[services];
        int n = 0;
        for (final Service service : cluster.services())
        {
            vips[n] = Ipv4Address.parse(service.clusterIP());
            ports[n] = service.ports().get(0).port();
            n++;
        }
        table = ConntrackTable.inMemory(MAX_CONNTRACK);
        engine = new ConntrackNatEngine(
            new ClusterSync(mode, "rr", 1, NodeConfig.defaults(), cluster, 1).selector(0), table,
            ConntrackTimeouts.kubernetesNode());
        final FrameBuilder builder = new FrameBuilder();
        final SplittableRandom random = new SplittableRandom(17);
        // the fill: connections (one SYN each: SYN_SENT, unassured) of clients 0..fill-1
        for (int i = 0; i < fill; i++)
        {
            final int length = builder.addresses(client(i), vips[i % services])
                .tcp(clientPort(i), ports[i % services], TcpFlyweight.SYN).build(work, 0);
            if (!engine.process(work, 0, length, now))
            {
                throw new IllegalStateException("fill connection " + i + " was dropped: " + engine.lastDrop());
            }
        }
        // the burst: clients fill..fill+BURST-1, to random Services
        pristine = new UnsafeBuffer(BufferUtil.allocateDirectAligned(BURST * STRIDE, 64));
        for (int k = 0; k < BURST; k++)
        {
            final int i = fill + k;
            final int s = random.nextInt(services);
            lengths[k] = builder.addresses(client(i), vips[s]).tcp(clientPort(i), ports[s], TcpFlyweight.SYN)
                .build(pristine, k * STRIDE);
            burstAddresses[k] = FlowKey.packAddresses(client(i), vips[s]);
            burstPorts[k] = FlowKey.packPorts(Ipv4Flyweight.PROTOCOL_TCP, clientPort(i), ports[s]);
        }
        if (table.primaryCount() != fill)
        {
            throw new IllegalStateException("the table holds " + table.primaryCount() + " connections, not " + fill);
        }
    }

    /** Client i: 10.244.x.200 (in the cluster CIDR, never a synthetic endpoint), 16,384 ports per address. */
    private static int client(final int i)
    {
        return Ipv4Address.parse("10.244.0.200") + ((i >>> 14) << 8);
    }

    private static int clientPort(final int i)
    {
        return 10_000 + (i & 0x3FFF);
    }

    @TearDown(Level.Iteration)
    public void restoreFill()
    {
        for (int k = 0; k < BURST; k++)
        {
            engine.delete(burstAddresses[k], burstPorts[k]);
        }
        if (table.primaryCount() != fill)
        {
            throw new IllegalStateException("after the burst's deletion the table holds " + table.primaryCount()
                + " connections, not " + fill);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        table.close();
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long newConnections()
    {
        long created = 0;
        for (int k = 0; k < BURST; k++)
        {
            work.putBytes(0, pristine, k * STRIDE, lengths[k]);
            now += 1_000;
            if (!engine.process(work, 0, lengths[k], now))
            {
                throw new IllegalStateException("new connection " + k + " was dropped: " + engine.lastDrop());
            }
            created++;
        }
        return created;
    }
}
