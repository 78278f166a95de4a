package io.dpbench.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterChangeTest
{
    static final NodeConfig NODE = NodeConfig.defaults();

    static Service service(final String name, final String clusterIP, final ServicePort... ports)
    {
        return new Service("default", name, ServiceType.CLUSTER_IP, clusterIP, List.of(), List.of(), List.of(),
            List.of(ports), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, false, 0, 0);
    }

    static ServicePort tcp(final String name, final int port)
    {
        return new ServicePort(name, Protocol.TCP, port, "", 0);
    }

    static ServicePort udp(final String name, final int port)
    {
        return new ServicePort(name, Protocol.UDP, port, "", 0);
    }

    static Endpoint ready(final String ip)
    {
        return new Endpoint(ip, true, true, false, "node-1");
    }

    /** A slice of {@code service} with one port (name, protocol, target port) and these endpoints. */
    static EndpointSlice slice(final String service, final String port, final Protocol protocol, final int target,
        final Endpoint... endpoints)
    {
        return new EndpointSlice("default", service + "-" + port + "-" + protocol.lowerCase(), service,
            List.of(endpoints), List.of(new EndpointSlice.EndpointPort(port, protocol, target)));
    }

    static ClusterModel cluster(final List<Service> services, final List<EndpointSlice> slices)
    {
        return new ClusterModel(services, slices);
    }

    private static ClusterModel base()
    {
        return cluster(
            List.of(service("web", "10.96.0.1", tcp("http", 80)), service("dns", "10.96.0.10", udp("dns", 53),
                tcp("dns-tcp", 53))),
            List.of(slice("web", "http", Protocol.TCP, 8080, ready("10.244.1.1"), ready("10.244.1.2")),
                slice("dns", "dns", Protocol.UDP, 5353, ready("10.244.2.1"), ready("10.244.2.2")),
                slice("dns", "dns-tcp", Protocol.TCP, 5353, ready("10.244.2.1"), ready("10.244.2.2"))));
    }

    @Test
    void sameClusterIsNoChangeEvenFromDistinctObjects()
    {
        final ClusterChange c = ClusterChange.between(base(), base(), NODE);
        assertThat(c.isEmpty()).isTrue();
        assertThat(c.servicePortsAdded()).isEmpty();
        assertThat(c.servicePortsRemoved()).isEmpty();
        assertThat(c.servicePortsUpdated()).isEmpty();
        assertThat(c.endpointChanges()).isEmpty();
        assertThat(c.conntrackCleanupRequired()).isFalse();
        assertThat(c.udpConntrackTargets()).isEmpty();
        assertThat(c.summary()).isEqualTo("no change");
    }

    @Test
    void servicesAddedRemovedAndUpdatedAreKeyedByServicePortName()
    {
        final ClusterModel before = base();
        final List<Service> services = new ArrayList<>();
        services.add(service("web", "10.96.0.1", tcp("http", 8000))); // port number: the same port, updated
        services.add(service("api", "10.96.0.2", tcp("", 443))); // new Service
        // dns: its TCP port renamed (removed and added) and its UDP port unchanged
        services.add(service("dns", "10.96.0.10", udp("dns", 53), tcp("dnstcp", 53)));
        final ClusterChange c = ClusterChange.between(before, cluster(services, before.endpointSlices()), NODE);

        assertThat(c.servicePortsAdded()).containsExactly(
            new ServicePortName("default", "api", "", Protocol.TCP),
            new ServicePortName("default", "dns", "dnstcp", Protocol.TCP));
        assertThat(c.servicePortsRemoved()).containsExactly(new ServicePortName("default", "dns", "dns-tcp", Protocol.TCP));
        assertThat(c.servicePortsUpdated()).containsExactly(new ServicePortName("default", "web", "http", Protocol.TCP));
        assertThat(c.endpointChanges()).isEmpty();
        assertThat(c.changedServices()).containsExactly("default/api", "default/dns", "default/web");
        assertThat(c.conntrackCleanupRequired()).as("no endpoint changed").isFalse();
        assertThat(c.servicePortsAdded().get(0)).hasToString("default/api");
        assertThat(c.servicePortsAdded().get(1)).hasToString("default/dns:dnstcp");
        assertThat(c.summary()).isEqualTo("service ports +2 -1 ~1, endpoints +0 -0 ~0 in 0 service ports, "
            + "3 services changed, conntrack: nothing");
    }

    @Test
    void protocolIsPartOfTheKeyAndWhatKubeProxyKeepsDecidesAnUpdate()
    {
        final ClusterModel before = cluster(List.of(service("a", "10.96.0.3", tcp("p", 80))), List.of());
        final ClusterChange protocol = ClusterChange.between(before,
            cluster(List.of(service("a", "10.96.0.3", udp("p", 80))), List.of()), NODE);
        assertThat(protocol.servicePortsAdded()).containsExactly(new ServicePortName("default", "a", "p", Protocol.UDP));
        assertThat(protocol.servicePortsRemoved()).containsExactly(new ServicePortName("default", "a", "p", Protocol.TCP));

        // the target port is not kept by kube-proxy (endpoints carry it): no change
        final ClusterChange target = ClusterChange.between(before, cluster(List.of(service("a", "10.96.0.3",
            new ServicePort("p", Protocol.TCP, 80, "http", 0))), List.of()), NODE);
        assertThat(target.isEmpty()).isTrue();

        // affinity, external IPs, the cluster IP: updated
        final Service affinity = new Service("default", "a", ServiceType.CLUSTER_IP, "10.96.0.3", List.of(), List.of(),
            List.of(), List.of(tcp("p", 80)), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, true, 60, 0);
        assertThat(ClusterChange.between(before, cluster(List.of(affinity), List.of()), NODE).servicePortsUpdated())
            .hasSize(1);
        final Service external = new Service("default", "a", ServiceType.CLUSTER_IP, "10.96.0.3", List.of("1.2.3.4"),
            List.of(), List.of(), List.of(tcp("p", 80)), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, false, 0, 0);
        assertThat(ClusterChange.between(before, cluster(List.of(external), List.of()), NODE).servicePortsUpdated())
            .hasSize(1);
        assertThat(ClusterChange.between(before, cluster(List.of(service("a", "10.96.0.4", tcp("p", 80))), List.of()),
            NODE).servicePortsUpdated()).hasSize(1);

        // headless: kube-proxy has no service port for it, whatever its ports
        final ClusterChange headless = ClusterChange.between(before,
            cluster(List.of(service("a", "None", tcp("p", 80))), List.of()), NODE);
        assertThat(headless.servicePortsRemoved()).hasSize(1);
        assertThat(headless.servicePortsAdded()).isEmpty();
    }

    @Test
    void endpointsAddedRemovedAndUpdatedPerServicePort()
    {
        final ClusterModel before = base();
        final List<EndpointSlice> slices = new ArrayList<>(before.endpointSlices());
        // web: 10.244.1.2 goes, 10.244.1.3 comes, 10.244.1.1 becomes not ready (terminating, still serving)
        slices.set(0, slice("web", "http", Protocol.TCP, 8080, new Endpoint("10.244.1.1", false, true, true, "node-1"),
            ready("10.244.1.3")));
        final ClusterChange c = ClusterChange.between(before, cluster(before.services(), slices), NODE);

        assertThat(c.servicePortsAdded()).isEmpty();
        assertThat(c.endpointChanges()).hasSize(1);
        final ClusterChange.EndpointChange e = c.endpointChanges().get(0);
        assertThat(e.servicePort()).isEqualTo(new ServicePortName("default", "web", "http", Protocol.TCP));
        assertThat(e.added()).extracting(ServicePortEndpoints.Info::hostPort).containsExactly("10.244.1.3:8080");
        assertThat(e.removed()).extracting(ServicePortEndpoints.Info::hostPort).containsExactly("10.244.1.2:8080");
        assertThat(e.updated()).extracting(ServicePortEndpoints.Info::hostPort).containsExactly("10.244.1.1:8080");
        assertThat(e.updated().get(0).terminating()).isTrue();
        assertThat(c.endpointsAdded()).isEqualTo(1);
        assertThat(c.endpointsRemoved()).isEqualTo(1);
        assertThat(c.endpointsUpdated()).isEqualTo(1);
        assertThat(c.changedServices()).containsExactly("default/web");
        assertThat(c.conntrackCleanupRequired()).as("web has no UDP port").isFalse();

        // an endpoint that only moved port is removed and added (endpoints are named by ip:port)
        final List<EndpointSlice> moved = new ArrayList<>(before.endpointSlices());
        moved.set(0, slice("web", "http", Protocol.TCP, 9090, ready("10.244.1.1"), ready("10.244.1.2")));
        final ClusterChange m = ClusterChange.between(before, cluster(before.services(), moved), NODE);
        assertThat(m.endpointsAdded()).isEqualTo(2);
        assertThat(m.endpointsRemoved()).isEqualTo(2);
    }

    @Test
    void udpEndpointChangesReconcileEveryUdpServicePortWithServingEndpointsAsCleanupGoDoes()
    {
        final ClusterModel before = base();
        final Service lb = new Service("default", "game", ServiceType.LOAD_BALANCER, "10.96.0.20", List.of("1.1.1.1"),
            List.of("2.2.2.2"), List.of(), List.of(new ServicePort("g", Protocol.UDP, 7777, "", 30777)),
            TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, false, 0, 0);
        final Service empty = service("quiet", "10.96.0.30", udp("q", 99));
        final List<Service> services = new ArrayList<>(before.services());
        services.add(lb);
        services.add(empty);
        final List<EndpointSlice> slices = new ArrayList<>(before.endpointSlices());
        slices.add(slice("game", "g", Protocol.UDP, 7000, ready("10.244.3.1"),
            new Endpoint("10.244.3.2", false, false, true, "node-1"))); // terminating, not serving
        final ClusterModel withGame = cluster(services, slices);
        assertThat(ClusterChange.between(before, withGame, NODE).conntrackCleanupRequired())
            .as("game's endpoints appeared (a UDP service port gained endpoints)").isTrue();

        // dns loses 10.244.2.2 (its TCP port too): cleanup required; every UDP port with serving endpoints is named
        final List<EndpointSlice> next = new ArrayList<>(slices);
        next.set(1, slice("dns", "dns", Protocol.UDP, 5353, ready("10.244.2.1")));
        next.set(2, slice("dns", "dns-tcp", Protocol.TCP, 5353, ready("10.244.2.1")));
        final ClusterChange c = ClusterChange.between(withGame, cluster(services, next), NODE);
        assertThat(c.conntrackCleanupRequired()).isTrue();
        assertThat(c.endpointsRemoved()).isEqualTo(2);
        assertThat(c.udpConntrackTargets()).containsExactly(
            new ClusterChange.UdpConntrackTarget(new ServicePortName("default", "dns", "dns", Protocol.UDP),
                List.of("10.96.0.10"), 53, 0, List.of("10.244.2.1")),
            new ClusterChange.UdpConntrackTarget(new ServicePortName("default", "game", "g", Protocol.UDP),
                List.of("10.96.0.20", "2.2.2.2", "1.1.1.1"), 7777, 30777, List.of("10.244.3.1")));
        assertThat(c.summary()).endsWith("conntrack: reconcile 2 UDP service ports");

        // only a TCP port of a Service that also has a UDP port changed: kube-proxy still requires the cleanup
        final List<EndpointSlice> tcpOnly = new ArrayList<>(slices);
        tcpOnly.set(2, slice("dns", "dns-tcp", Protocol.TCP, 5353, ready("10.244.2.1")));
        assertThat(ClusterChange.between(withGame, cluster(services, tcpOnly), NODE).conntrackCleanupRequired()).isTrue();
        // a TCP-only Service's change does not
        final List<EndpointSlice> web = new ArrayList<>(slices);
        web.set(0, slice("web", "http", Protocol.TCP, 8080, ready("10.244.1.1")));
        assertThat(ClusterChange.between(withGame, cluster(services, web), NODE).conntrackCleanupRequired()).isFalse();
    }

    @Test
    void aServiceRemovedWithItsEndpointsIsChangedOnce()
    {
        final ClusterModel before = base();
        final ClusterModel after = cluster(List.of(before.services().get(0)), List.of(before.endpointSlices().get(0)));
        final ClusterChange c = ClusterChange.between(before, after, NODE);
        assertThat(c.servicePortsRemoved()).hasSize(2);
        assertThat(c.endpointsRemoved()).isEqualTo(4);
        assertThat(c.changedServices()).containsExactly("default/dns");
        assertThat(c.conntrackCleanupRequired()).as("dns had a UDP port").isTrue();
        assertThat(c.udpConntrackTargets()).as("nothing names the removed Service any more").isEmpty();
    }
}
