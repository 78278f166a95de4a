package io.dpbench.bench.nftables;

import io.dpbench.bench.ServiceFlowPool;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.nftables.NftEngine;
import io.dpbench.nftables.NftPacket;
import io.dpbench.nftables.NftProgram;
import io.dpbench.nftables.NftablesRenderer;
import io.dpbench.nftables.NftablesSettings;
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

import java.util.concurrent.TimeUnit;

/**
 * nftables mode: the cost of classifying a new flow (its first packet through kube-proxy's nftables table: the
 * pre-DNAT firewall check, nat prerouting's dispatch through the {@code service-ips} verdict map, the Service chain's
 * {@code numgen random} choice and the endpoint chain's DNAT, the forward hook's endpoint and ClusterIP checks, nat
 * postrouting) against N ClusterIP Services with E = 4 endpoints each, rendered as kube-proxy's nftables proxier
 * renders them. The same flows as IptablesNewFlowBenchmark and IpvsNewFlowBenchmark ({@link ServiceFlowPool}),
 * {@value #BATCH} per invocation, reported per flow. The verdict maps are hash tables: the cost should not grow with N
 * beyond cache misses. Allocation-free (-prof gc). {@link #check()} refuses a run whose flows were not DNATed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NftablesNewFlowBenchmark
{
    static final int POOL = ServiceFlowPool.SIZE;
    static final int BATCH = 64;
    static final int ENDPOINTS = 4;

    @Param({"10", "100", "1000", "5000", "10000", "20000", "50000"})
    public int services;

    private NftEngine engine;
    private final NftPacket packet = new NftPacket();
    private ServiceFlowPool pool;
    private int cursor;
    private long flows;
    private long translated;

    @Setup(Level.Trial)
    public void setUp()
    {
        final ClusterModel cluster = SyntheticCluster.generate(services, ENDPOINTS, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final NodeConfig node = NodeConfig.defaults();
        final NftProgram program = NftProgram.compile(NftablesRenderer.render(cluster, node, NftablesSettings.defaults(node)));
        engine = new NftEngine(program, node.nodeIPs(), 42);
        pool = new ServiceFlowPool(services);
    }

    @TearDown(Level.Trial)
    public void check()
    {
        if (flows > 0 && translated != flows)
        {
            throw new IllegalStateException("only " + translated + " of " + flows + " new flows were DNATed");
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int classifyNewFlow()
    {
        final NftEngine e = engine;
        final NftPacket p = packet;
        final int start = cursor;
        int dnat = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int k = (start + i) & (POOL - 1);
            p.reset(6, pool.source[k], pool.sourcePort[k], pool.destination[k], 80);
            e.classify(p);
            if (p.dnat && p.verdict == NftEngine.ACCEPT)
            {
                dnat++;
            }
        }
        cursor = (start + BATCH) & (POOL - 1);
        flows += BATCH;
        translated += dnat;
        return dnat;
    }
}
