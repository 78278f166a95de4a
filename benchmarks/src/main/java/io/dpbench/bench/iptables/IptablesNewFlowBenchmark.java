package io.dpbench.bench.iptables;

import io.dpbench.bench.ServiceFlowPool;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.CompiledRules;
import io.dpbench.iptables.FlowContext;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.iptables.Verdicts;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
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
 * iptables mode: the cost of classifying a new flow (its first packet walking nat PREROUTING, filter FORWARD and
 * nat POSTROUTING of kube-proxy's real rules, rule by rule) against N ClusterIP Services with E = 4 endpoints each,
 * rendered exactly as kube-proxy renders them. Destinations are drawn uniformly over the Services (random Service
 * popularity), clients from the pod CIDR with random source ports, from a pool of {@value #POOL} pre-drawn flows
 * walked in order, {@value #BATCH} per invocation. Reported per flow. Allocation-free (check with -prof gc).
 * <p>
 * The walk reaches a Service's rule after the rules of the Services before it in KUBE-SERVICES, so the mean cost
 * grows linearly with N, as on a Linux node. {@link #check()} refuses a run whose flows did not walk the rules.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IptablesNewFlowBenchmark
{
    static final int POOL = ServiceFlowPool.SIZE;
    static final int BATCH = 64;
    static final int ENDPOINTS = 4;

    @Param({"10", "100", "1000", "5000", "10000", "20000", "50000"})
    public int services;

    private Classifier classifier;
    private final FlowContext ctx = new FlowContext();
    private ServiceFlowPool pool;
    private int cursor;
    private long rules;
    private long flows;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(services, ENDPOINTS, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final NodeConfig node = NodeConfig.defaults();
        final String restore = KubeProxyRenderer.render(cluster, node, KubeProxyRenderer.Options.production());
        final CompiledRules compiled = ChainEngine.compile(NodeRules.assemble(restore, "bench"), "bench",
            node.nodeIPs(), IpSets.EMPTY);
        classifier = new Classifier(compiled, 42, Ipv4Address.parse(node.primaryNodeIP()));
        pool = new ServiceFlowPool(services);
    }

    @TearDown(Level.Trial)
    public void check()
    {
        if (flows > 0 && rules / flows < 5)
        {
            throw new IllegalStateException("flows did not walk the Service rules: " + rules / flows + " rules per flow");
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int classifyNewFlow()
    {
        final Classifier c = classifier;
        final FlowContext f = ctx;
        int start = cursor;
        int dnat = 0;
        long evaluated = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int k = (start + i) & (POOL - 1);
            f.reset(6, pool.source[k], pool.sourcePort[k], pool.destination[k], 80);
            if (c.classifyNewFlow(f) == Verdicts.DNAT)
            {
                dnat++;
            }
            evaluated += f.rulesEvaluated;
        }
        cursor = (start + BATCH) & (POOL - 1);
        rules += evaluated;
        flows += BATCH;
        return dnat;
    }
}
