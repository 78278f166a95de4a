package io.dpbench.bench.sync;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.nftables.NftPartialSync;
import io.dpbench.nftables.NftProgram;
import io.dpbench.nftables.NftTransaction;
import io.dpbench.nftables.NftablesSettings;
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

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * nftables mode: the cost of one endpoint change against N Services of 4 endpoints, from the change (the changed
 * Service and its EndpointSlice, as kube-proxy's change tracker hands them over) to the dataplane using it: kube-proxy's
 * partial-sync transaction built (the Service's chains again, the gone endpoint's chain flushed), resolved on the
 * control thread's master program and applied to a worker's program copy. Each invocation takes one endpoint away and
 * the next gives it back, so the table stays the same size. Printing the transaction's text is not included.
 * Compare with IptablesSyncBenchmark (a full render and compile, O(N)) and IpvsSyncBenchmark.
 * <p>
 * Not included: dpbench's own detection of the change from two whole cluster snapshots (ClusterChange, O(N)), which
 * kube-proxy does not do (its informers deliver the changed objects).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(1)
public class NftablesSyncBenchmark
{
    @Param({"10", "1000", "10000", "50000"})
    public int services;

    private NftPartialSync sync;
    private NftProgram worker;
    private String name;
    private Map<String, ClusterModel> fewer;
    private Map<String, ClusterModel> all;
    private boolean removed;

    @Setup(Level.Trial)
    public void setUp()
    {
        final NodeConfig node = NodeConfig.defaults();
        final ClusterModel cluster = SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        sync = new NftPartialSync(cluster, node, NftablesSettings.defaults(node));
        worker = sync.master().copy();
        name = cluster.services().get(services / 2).namespacedName();
        final ClusterModel one = NftPartialSync.serviceModel(cluster, name);
        final EndpointSlice slice = one.endpointSlices().get(0);
        all = Map.of(name, one);
        fewer = Map.of(name, new ClusterModel(one.services(), List.of(new EndpointSlice(slice.namespace(), slice.name(),
            slice.serviceName(), slice.endpoints().subList(1, slice.endpoints().size()), slice.ports()))));
    }

    @Benchmark
    public int nftablesEndpointChange()
    {
        final NftTransaction tx = sync.sync(removed ? all : fewer);
        tx.applyTo(worker);
        removed = !removed;
        return tx.size();
    }
}
