package io.dpbench.bench.ipvs;

import io.dpbench.bench.ServiceFlowPool;
import io.dpbench.ipvs.IpvsClassifier;
import io.dpbench.ipvs.IpvsFlow;
import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * IPVS mode: the cost of a new flow's decision (virtual-service hash lookup + the scheduler's pick) for N ClusterIP
 * Services with E = 4 real servers, the same clusters and flow pool as {@code IptablesNewFlowBenchmark}, per
 * scheduler, one flow at a time ({@code classifyNewFlow}) and as batches whose lookups go first
 * ({@code classifyNewFlowBatch}). Reported per flow; allocation-free.
 * <p>
 * With uniform traffic the flows touch min(N, 4096) Services. rr's decision reads one 64-byte slot line of the
 * table (key, kind, servers, cursor), so 4,096 Services' worth (256 KiB) stays in the core's L2 and N = 50,000 costs
 * about what N = 10 does. mh also reads the service, its scheduler and a random slot of its 4093-entry lookup table
 * (8 KiB per Service, ~32 MiB for 4,096): beyond L2, so its cost grows with the working set, not with N.
 * {@code hot} separates the two.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IpvsNewFlowBenchmark
{
    static final int POOL = ServiceFlowPool.SIZE;
    static final int BATCH = 64;

    @Param({"10", "100", "1000", "5000", "10000", "20000", "50000"})
    public int services;

    @Param({"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh"})
    public String scheduler;

    /**
     * 0: flows to all N Services (the scaling curve). K > 0: flows to K of the N only, a control that keeps the
     * table at N and the cache working set at K (e.g. {@code -p hot=10}: N = 50,000 then costs what N = 10 does if
     * the lookup itself is O(1)).
     */
    @Param({"0"})
    public int hot;

    private IpvsClassifier classifier;
    private final IpvsFlow flow = new IpvsFlow();
    private final IpvsFlow[] batch = new IpvsFlow[BATCH];
    private ServiceFlowPool pool;
    private int cursor;

    @Setup(Level.Trial)
    public void setUp()
    {
        final IpvsProxier proxier = new IpvsProxier(NodeConfig.defaults(), scheduler, SchedulerFlags.NONE)
            .syncAll(SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP));
        classifier = new IpvsClassifier(proxier);
        for (int i = 0; i < BATCH; i++)
        {
            batch[i] = new IpvsFlow();
        }
        pool = new ServiceFlowPool(services, hot);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int classifyNewFlow()
    {
        final IpvsClassifier c = classifier;
        final IpvsFlow f = flow;
        final int start = cursor;
        int dnat = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int k = (start + i) & (POOL - 1);
            f.reset(6, pool.source[k], pool.sourcePort[k], pool.destination[k], 80);
            if (c.classifyNewFlow(f) == IpvsFlow.DNAT)
            {
                dnat++;
            }
        }
        cursor = (start + BATCH) & (POOL - 1);
        if (dnat != BATCH)
        {
            throw new IllegalStateException("a flow was not load-balanced");
        }
        return dnat;
    }

    /** The same flows through {@link IpvsClassifier#classifyBatch}: lookups of the whole batch first. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long classifyNewFlowBatch()
    {
        final IpvsFlow[] flows = batch;
        final int start = cursor;
        for (int i = 0; i < BATCH; i++)
        {
            final int k = (start + i) & (POOL - 1);
            flows[i].reset(6, pool.source[k], pool.sourcePort[k], pool.destination[k], 80);
        }
        final long touched = classifier.classifyBatch(flows, BATCH);
        cursor = (start + BATCH) & (POOL - 1);
        int dnat = 0;
        for (int i = 0; i < BATCH; i++)
        {
            dnat += flows[i].verdict == IpvsFlow.DNAT ? 1 : 0;
        }
        if (dnat != BATCH)
        {
            throw new IllegalStateException("a flow was not load-balanced");
        }
        return touched + dnat;
    }
}
