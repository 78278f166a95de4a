package io.dpbench.nftables;

import io.dpbench.NetnsSandbox;
import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.iptables.PacketFlowStories;
import io.dpbench.model.ClusterChange;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kube-proxy's nftables partial sync: after a change's transaction, a program (the master and a worker's copy)
 * decides every flow as a full render and compile of the new cluster does; the transaction's text, loaded by the real
 * {@code nft} onto the old table, leaves exactly the new table (once the next sync deleted the stale chains); its size
 * follows the change, not the number of Services.
 */
class NftPartialSyncTest
{
    static final NodeConfig NODE = KubeProxyGoldenTestAccess.testNode().withNodeIPs(PacketFlowStories.NODE_IPS);
    static final NftablesSettings SETTINGS = NftablesSettings.kubeProxyTests();

    private final NetnsSandbox sandbox = new NetnsSandbox();

    @AfterEach
    void deleteNamespaces() throws Exception
    {
        sandbox.close();
    }

    /** The overall cluster changed five ways: an endpoint leaves, one appears, a Service goes, one comes, affinity off. */
    static ClusterModel changed(final ClusterModel before)
    {
        final List<Service> services = new ArrayList<>();
        for (final Service s : before.services())
        {
            if (s.name().equals("svc1"))
            {
                continue; // deleted
            }
            if (s.name().equals("svc5"))
            {
                services.add(new Service(s.namespace(), s.name(), s.type(), s.clusterIP(), s.externalIPs(),
                    s.loadBalancerIngressIPs(), s.loadBalancerSourceRanges(), s.ports(), s.externalTrafficPolicy(),
                    s.internalTrafficPolicy(), false, s.affinityTimeoutSeconds(), s.healthCheckNodePort()));
                continue;
            }
            services.add(s);
        }
        services.add(new Service("ns7", "svc7", ServiceType.NODE_PORT, "172.30.0.47", List.of(), List.of(), List.of(),
            List.of(new ServicePort("p80", Protocol.TCP, 80, "80", 3007)), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER,
            true, 600, 0));
        final List<EndpointSlice> slices = new ArrayList<>();
        for (final EndpointSlice slice : before.endpointSlices())
        {
            if (slice.serviceName().equals("svc1"))
            {
                continue;
            }
            if (slice.serviceName().equals("svc4"))
            {
                slices.add(new EndpointSlice(slice.namespace(), slice.name(), slice.serviceName(),
                    List.of(slice.endpoints().get(0)), slice.ports()));
                continue;
            }
            slices.add(slice);
        }
        slices.add(slice("ns6", "svc6", "10.180.0.6"));
        slices.add(slice("ns7", "svc7", "10.180.0.7", "10.180.0.8"));
        return new ClusterModel(services, slices);
    }

    static EndpointSlice slice(final String ns, final String service, final String... ips)
    {
        final List<Endpoint> endpoints = new ArrayList<>();
        for (final String ip : ips)
        {
            endpoints.add(new Endpoint(ip, true, true, false, ""));
        }
        return new EndpointSlice(ns, service + "-1", service, endpoints,
            List.of(new EndpointSlice.EndpointPort("p80", Protocol.TCP, 80)));
    }

    private static NftTransaction sync(final NftPartialSync sync, final ClusterModel before, final ClusterModel after)
    {
        return sync(sync, before, after, 0);
    }

    static NftTransaction sync(final NftPartialSync sync, final ClusterModel before, final ClusterModel after,
        final long nowMillis)
    {
        final ClusterChange change = ClusterChange.between(before, after, NODE);
        return sync.sync(NftPartialSync.changedServices(after, change.changedServices()), nowMillis);
    }

    @Test
    void aSyncedProgramDecidesAsAFreshOne()
    {
        final ClusterModel before = KubeProxyGoldenTestAccess.overallCluster();
        final ClusterModel after = changed(before);
        final NftPartialSync sync = new NftPartialSync(before, NODE, SETTINGS);
        final NftProgram worker = sync.master().copy();
        final NftTransaction tx = sync(sync, before, after);
        tx.applyTo(worker);
        final NftProgram fresh = NftProgram.compile(NftablesRenderer.render(after, NODE, SETTINGS));
        final List<String> destinations = new ArrayList<>();
        for (int last = 1; last < 60; last++)
        {
            destinations.add("172.30.0." + (40 + last % 10));
        }
        destinations.addAll(List.of("192.168.0.2", "192.168.99.22", "192.168.99.33", "1.2.3.4", "5.6.7.8"));
        int compared = 0;
        for (final String source : List.of("10.0.0.2", "203.0.113.2", "203.0.113.200", "192.168.0.2", "10.180.0.7"))
        {
            for (final String destination : destinations)
            {
                for (final int port : new int[] {80, 81, 3001, 3002, 3003, 3007})
                {
                    final NftTracer.Result expected = trace(fresh, source, destination, port);
                    for (final NftProgram program : List.of(sync.master(), worker))
                    {
                        final NftTracer.Result actual = trace(program, source, destination, port);
                        final String what = source + " -> " + destination + ":" + port;
                        assertThat(actual.verdict()).as(what).isEqualTo(expected.verdict());
                        assertThat(actual.destinations()).as(what).isEqualTo(expected.destinations());
                        assertThat(actual.masquerade()).as(what).isEqualTo(expected.masquerade());
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(1000);
        // the new Service is reachable, the deleted one is not, the changed endpoints are what is left
        assertThat(trace(worker, "10.0.0.2", "172.30.0.47", 80).destinations()).containsExactly("10.180.0.7:80", "10.180.0.8:80");
        assertThat(trace(worker, "10.0.0.2", "172.30.0.44", 80).destinations()).containsExactly("10.180.0.4:80");
        assertThat(trace(worker, "10.0.0.2", "172.30.0.41", 80).verdict()).isEqualTo("DROP");
    }

    private static NftTracer.Result trace(final NftProgram program, final String source, final String destination,
        final int port)
    {
        return NftTracer.trace(program, PacketFlowStories.NODE_IPS, 6, Ipv4Address.parse(source), 40000,
            Ipv4Address.parse(destination), port, 1000);
    }

    @Test
    void theKernelLeftWithTheTransactionHoldsTheNewTable() throws Exception
    {
        NetnsSandbox.requireOrSkip("nft");
        final ClusterModel before = KubeProxyGoldenTestAccess.overallCluster();
        final ClusterModel after = changed(before);
        final NftPartialSync sync = new NftPartialSync(before, NODE, SETTINGS);
        final String ns = sandbox.create();
        final NetnsSandbox.Result load = sandbox.exec(ns, NftablesRenderer.render(before, NODE, SETTINGS).dump(), "nft", "-f", "-");
        assertThat(load.exit()).as("nft -f: %s", load.err()).isZero();
        final NftTransaction tx = sync(sync, before, after);
        final NetnsSandbox.Result apply = sandbox.exec(ns, tx.text(), "nft", "-f", "-");
        assertThat(apply.exit()).as("nft -f transaction: %s\n%s", apply.err(), tx.text()).isZero();
        // the next sync (nothing changed), more than a second later, deletes the chains this one flushed
        final NftTransaction next = sync.sync(Map.of(), 2 * NftPartialSync.STALE_MILLIS);
        assertThat(next.text()).contains("delete chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80");
        final NetnsSandbox.Result cleanup = sandbox.exec(ns, next.text(), "nft", "-f", "-");
        assertThat(cleanup.exit()).as("nft -f cleanup: %s", cleanup.err()).isZero();
        final NetnsSandbox.Result list = sandbox.exec(ns, null, "nft", "list", "ruleset");
        final NftRuleset kernels = NftTextParser.parse(list.out(), "nft list ruleset");
        assertThat(kernels.canonical()).isEqualTo(NftablesRenderer.render(after, NODE, SETTINGS).canonical());
    }

    @Test
    void oneEndpointChangeIsASmallTransactionWhateverTheNumberOfServices()
    {
        for (final int n : new int[] {100, 5_000})
        {
            final ClusterModel before = SyntheticCluster.generate(n, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
            final NftPartialSync sync = new NftPartialSync(before, NodeConfig.defaults(), NftablesSettings.defaults(NodeConfig.defaults()));
            final Service target = before.services().get(n / 2);
            final ClusterModel one = NftPartialSync.serviceModel(before, target.namespacedName());
            final EndpointSlice slice = one.endpointSlices().get(0);
            final ClusterModel fewer = new ClusterModel(one.services(), List.of(new EndpointSlice(slice.namespace(),
                slice.name(), slice.serviceName(), slice.endpoints().subList(1, slice.endpoints().size()), slice.ports())));
            final NftTransaction tx = sync.sync(Map.of(target.namespacedName(), fewer));
            // the Service chain and its 3 endpoint chains again, the gone endpoint's chain flushed
            assertThat(tx.size()).as("operations at N=%d", n).isBetween(8, 16);
            assertThat(tx.text()).contains("flush chain ip kube-proxy endpoint-").doesNotContain("add element");
        }
    }
}
