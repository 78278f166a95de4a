package io.dpbench.nftables;

import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.dpbench.nftables.KubeProxyNftablesGoldenTest.sortLikeKubeProxyTests;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * kube-proxy's TestSyncProxyRulesRepeated (pkg/proxy/nftables/proxier_test.go; fixtures in
 * resources/kube-proxy-nftables/TestSyncProxyRulesRepeated-N.*): one proxier synced twelve times as Services and
 * EndpointSlices come, go and change, each sync after the first a partial one. After every step the table (dpbench's
 * render of the step's cluster, plus the stale chains its partial sync has flushed and not yet deleted) equals the
 * test's expectation, compared as its tests compare, and the main transaction has the number of operations the test
 * asserts. Stale chains are aged as the test's ageStaleChains does (a sync more than a second later deletes them).
 * Also TestBadIPs: addresses spelled with leading zeros come out canonical.
 */
class KubeProxyNftablesSyncGoldenTest
{
    static final NodeConfig NODE = KubeProxyGoldenTestAccess.testNode();
    static final NftablesSettings SETTINGS = NftablesSettings.kubeProxyTests();

    private final Map<String, Service> services = new LinkedHashMap<>();
    private final Map<String, EndpointSlice> slices = new LinkedHashMap<>();

    private static Service service(final String ns, final String name, final String ip, final String port, final int number)
    {
        return new Service(ns, name, ServiceType.CLUSTER_IP, ip, List.of(), List.of(), List.of(),
            List.of(new ServicePort(port, Protocol.TCP, number, Integer.toString(number), 0)), TrafficPolicy.CLUSTER,
            TrafficPolicy.CLUSTER, false, Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0);
    }

    private void slice(final String ns, final String name, final String port, final int number, final String... ips)
    {
        final List<Endpoint> endpoints = new ArrayList<>();
        for (final String ip : ips)
        {
            endpoints.add(new Endpoint(ip, true, true, false, ""));
        }
        slices.put(ns + "/" + name, new EndpointSlice(ns, name + "-1", name, endpoints,
            List.of(new EndpointSlice.EndpointPort(port, Protocol.TCP, number))));
    }

    private ClusterModel model()
    {
        return new ClusterModel(new ArrayList<>(services.values()), new ArrayList<>(slices.values()));
    }

    private ClusterModel current;

    private NftTransaction step(final NftPartialSync sync, final long nowMillis)
    {
        final ClusterModel next = model();
        final NftTransaction tx = NftPartialSyncTest.sync(sync, current, next, nowMillis);
        current = next;
        return tx;
    }

    private void assertTable(final int step, final NftPartialSync sync) throws Exception
    {
        final StringBuilder table = new StringBuilder(NftablesRenderer.render(current, NODE, SETTINGS).dump());
        for (final String chain : sync.staleChains())
        {
            table.append("add chain ip kube-proxy ").append(chain).append('\n');
        }
        assertThat(sortLikeKubeProxyTests(table.toString())).as("step %d", step).isEqualTo(sortLikeKubeProxyTests(
            NftTextParserTest.resource("kube-proxy-nftables/TestSyncProxyRulesRepeated-" + step + ".expected")));
    }

    @Test
    void syncProxyRulesRepeated() throws Exception
    {
        services.put("ns1/svc1", service("ns1", "svc1", "172.30.0.41", "p80", 80));
        services.put("ns2/svc2", service("ns2", "svc2", "172.30.0.42", "p8080", 8080));
        slice("ns1", "svc1", "p80", 80, "10.0.1.1");
        slice("ns2", "svc2", "p8080", 8080, "10.0.2.1");
        current = model();
        final NftPartialSync sync = new NftPartialSync(current, NODE, SETTINGS); // the first, full, sync
        assertTable(1, sync);

        services.put("ns3/svc3", service("ns3", "svc3", "172.30.0.43", "p80", 80));
        slice("ns3", "svc3", "p80", 80, "10.0.3.1");
        assertThat(step(sync, 0).operations()).isEqualTo(10);
        assertTable(2, sync);

        services.remove("ns2/svc2");
        slices.remove("ns2/svc2");
        assertThat(step(sync, 0).operations()).isEqualTo(4);
        assertThat(sync.staleChains()).containsExactlyInAnyOrder("service-MHHHYRWA-ns2/svc2/tcp/p8080",
            "endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080");
        assertTable(3, sync);

        // ageStaleChains, then a sync with nothing changed: the stale chains go in the transaction before
        final NftTransaction aged = step(sync, 2000);
        assertThat(aged.operations()).isZero();
        assertThat(aged.text()).contains("delete chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080");
        assertThat(sync.staleChains()).isEmpty();
        assertTable(4, sync);

        services.put("ns4/svc4", service("ns4", "svc4", "172.30.0.44", "p80", 80));
        assertThat(step(sync, 2000).operations()).isEqualTo(2);
        assertTable(5, sync);

        slice("ns4", "svc4", "p80", 80, "10.0.4.1");
        assertThat(step(sync, 2000).operations()).isEqualTo(10);
        assertTable(6, sync);

        slice("ns3", "svc3", "p80", 80, "10.0.3.2");
        assertThat(step(sync, 2000).operations()).isEqualTo(9);
        assertThat(sync.staleChains()).containsExactly("endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80");
        assertTable(7, sync);

        slice("ns3", "svc3", "p80", 80, "10.0.3.2", "10.0.3.3");
        assertThat(step(sync, 4000).operations()).isEqualTo(12);
        assertTable(8, sync);

        slice("ns3", "svc3", "p80", 80);
        assertThat(step(sync, 4000).operations()).isEqualTo(5);
        assertThat(sync.staleChains()).containsExactlyInAnyOrder("service-4AT6LBPK-ns3/svc3/tcp/p80",
            "endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80", "endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80");
        assertTable(9, sync);

        slice("ns3", "svc3", "p80", 80, "10.0.3.2", "10.0.3.3");
        assertThat(step(sync, 4000).operations()).isEqualTo(14);
        assertThat(sync.staleChains()).isEmpty();
        assertTable(10, sync);

        slice("ns3", "svc3", "p80", 80);
        step(sync, 4000);
        slice("ns3", "svc3", "p80", 80, "10.0.3.2", "10.0.3.3");
        step(sync, 6000);
        assertTable(11, sync);

        assertThat(step(sync, 6000).operations()).isZero();
        assertTable(12, sync);
    }

    @Test
    void badIPsComeOutCanonical() throws Exception
    {
        final ClusterModel cluster = new ClusterModel(
            List.of(new Service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.041", List.of("192.168.099.022"),
                List.of("1.2.3.004"), List.of("203.0.113.000/025"),
                List.of(new ServicePort("p80", Protocol.TCP, 80, "80", 3001)), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER,
                false, Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0)),
            List.of(new EndpointSlice("ns1", "svc1-1", "svc1", List.of(new Endpoint("10.180.00.001", true, true, false, "")),
                List.of(new EndpointSlice.EndpointPort("p80", Protocol.TCP, 80)))));
        assertThat(sortLikeKubeProxyTests(NftablesRenderer.render(cluster, NODE, SETTINGS).dump()))
            .isEqualTo(sortLikeKubeProxyTests(NftTextParserTest.resource("kube-proxy-nftables/TestBadIPs.expected")));
    }
}
