package io.dpbench.bench.sync;

import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.CompiledRules;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * iptables mode: cost of syncing one endpoint change (an endpoint of one Service leaves, then comes back) against N
 * Services with 4 endpoints each; compare with {@code IpvsSyncBenchmark}.
 * <ul>
 *   <li>{@code iptablesFullSync}: what kube-proxy's iptables mode does on a full sync, re-rendering every Service's
 *   rules (kube-proxy hands the whole text to iptables-restore), plus what dpbench's dataplane then needs: parse and
 *   compile the rule set. O(N).</li>
 *   <li>{@code ipvsRemoveAddServer}: IPVS mode removes and re-adds one real server of one virtual service; only that
 *   service's scheduler state is rebuilt (with mh, its lookup table). Independent of N.</li>
 * </ul>
 * {@code iptablesPartialSyncText} measures the text of kube-proxy's partial sync (since 1.27 it rewrites only changed
 * Service chains, but still the whole KUBE-SERVICES chain).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(1)
public class IptablesSyncBenchmark
{
    @Param({"10", "1000", "10000", "50000"})
    public int services;

    private ClusterModel before;
    private ClusterModel after;
    private NodeConfig node;
    private boolean flip;
    private java.util.Set<String> changed;

    @Setup(Level.Trial)
    public void setUp()
    {
        node = NodeConfig.defaults();
        before = SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        // the same cluster with one endpoint gone from the Service in the middle
        final List<EndpointSlice> slices = new ArrayList<>(before.endpointSlices());
        final int middle = services / 2;
        final EndpointSlice s = slices.get(middle);
        final List<Endpoint> fewer = new ArrayList<>(s.endpoints().subList(1, s.endpoints().size()));
        slices.set(middle, new EndpointSlice(s.namespace(), s.name(), s.serviceName(), fewer, s.ports()));
        after = new ClusterModel(before.services(), slices);
        changed = java.util.Set.of(before.services().get(middle).namespacedName());

    }

    /**
     * kube-proxy's partial sync (since 1.27): the restore text with every Service's KUBE-SERVICES rules but only the
     * changed Service's chains. The text only: what iptables-restore --noflush then costs in the kernel (about 10x a
     * flushing restore with nft, see docs/research/iptables-save-format.md) and dpbench's recompile are not included.
     */
    @Benchmark
    public String iptablesPartialSyncText()
    {
        flip = !flip;
        return KubeProxyRenderer.renderPartial(flip ? after : before, node, KubeProxyRenderer.Options.production(),
            changed);
    }

    @Benchmark
    public CompiledRules iptablesFullSync() throws Exception
    {
        flip = !flip;
        final String restore = KubeProxyRenderer.render(flip ? after : before, node, KubeProxyRenderer.Options.production());
        return ChainEngine.compile(NodeRules.assemble(restore, "sync"), "sync", node.nodeIPs(), IpSets.EMPTY);
    }
}
