package io.dpbench.bench.sync;

import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.RealServer;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.VirtualService;
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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * IPVS mode: cost of syncing one endpoint change (an endpoint of one Service leaves, then comes back) against N
 * Services with 4 endpoints each; compare with {@code IptablesSyncBenchmark}.
 * <ul>
 *   <li>{@code iptablesFullSync}: what kube-proxy's iptables mode does on a full sync, re-rendering every Service's
 *   rules (kube-proxy hands the whole text to iptables-restore), plus what dpbench's dataplane then needs: parse and
 *   compile the rule set. O(N).</li>
 *   <li>{@code ipvsRemoveAddServer}: IPVS mode removes and re-adds one real server of one virtual service; only that
 *   service's scheduler state is rebuilt (with mh, its lookup table). Independent of N.</li>
 * </ul>
 * kube-proxy's partial iptables sync (since 1.27 it rewrites only changed Service chains, but still the whole
 * KUBE-SERVICES chain) is not measured separately here.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(1)
public class IpvsSyncBenchmark
{
    @Param({"10", "1000", "10000", "50000"})
    public int services;

    @Param({"rr", "mh"})
    public String scheduler;

    private ClusterModel before;
    private NodeConfig node;
    private VirtualService vs;
    private RealServer server;

    @Setup(Level.Trial)
    public void setUp()
    {
        node = NodeConfig.defaults();
        before = SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final int middle = services / 2;
        final IpvsProxier proxier = new IpvsProxier(node, scheduler, SchedulerFlags.NONE).syncAll(before);
        vs = proxier.table().find(6, Ipv4Address.parse(before.services().get(middle).clusterIP()), 80);
        server = vs.destination(0);
    }

    @Benchmark
    public int ipvsRemoveAddServer()
    {
        vs.removeDestination(server.address(), server.port());
        vs.addDestination(server);
        return vs.destinationCount();
    }
}
