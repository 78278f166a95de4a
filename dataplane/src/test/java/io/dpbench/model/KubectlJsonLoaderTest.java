package io.dpbench.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class KubectlJsonLoaderTest
{
    public static final String CLUSTER = """
        {
          "apiVersion": "v1", "kind": "List",
          "items": [
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"type": "LoadBalancer", "clusterIP": "10.96.10.10", "clusterIPs": ["10.96.10.10"],
                      "externalTrafficPolicy": "Local", "healthCheckNodePort": 31000,
                      "loadBalancerSourceRanges": [" 203.0.113.000/25"],
                      "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                      "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http-alt", "nodePort": 30080}]},
             "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}, {"hostname": "lb.example"}]}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
             "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
             "spec": {"type": "ExternalName", "externalName": "example.com"}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "web-x1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
             "addressType": "IPv4",
             "endpoints": [
               {"addresses": ["10.244.1.5"], "conditions": {"ready": true}, "nodeName": "node-a"},
               {"addresses": ["10.244.2.6"], "conditions": {"ready": false, "serving": true, "terminating": true}, "nodeName": "node-b"},
               {"addresses": ["10.244.3.7"], "nodeName": "node-c"}],
             "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "web-v6", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
             "addressType": "IPv6", "endpoints": [], "ports": []}
          ]
        }
        """;

    @Test
    void loadsServicesAndSlicesWithApiDefaults() throws Exception
    {
        final KubectlJsonLoader.Result result = KubectlJsonLoader.load(CLUSTER, "cluster.json");
        final List<Service> services = result.model().services();
        assertThat(services).hasSize(1);
        final Service web = services.get(0);
        assertThat(web.namespacedName()).isEqualTo("shop/web");
        assertThat(web.type()).isEqualTo(ServiceType.LOAD_BALANCER);
        assertThat(web.externalTrafficPolicy()).isEqualTo(TrafficPolicy.LOCAL);
        assertThat(web.internalTrafficPolicy()).isEqualTo(TrafficPolicy.CLUSTER);
        assertThat(web.loadBalancerSourceRanges()).containsExactly("203.0.113.0/25");
        assertThat(web.loadBalancerIngressIPs()).containsExactly("198.51.100.7");
        assertThat(web.clientIPAffinity()).isTrue();
        assertThat(web.affinityTimeoutSeconds()).isEqualTo(600);
        assertThat(web.healthCheckNodePort()).isEqualTo(31000);
        assertThat(web.ports()).containsExactly(new ServicePort("http", Protocol.TCP, 80, "http-alt", 30080));

        assertThat(result.model().endpointSlices()).hasSize(1);
        final EndpointSlice slice = result.model().endpointSlices().get(0);
        assertThat(slice.serviceName()).isEqualTo("web");
        assertThat(slice.endpoints()).containsExactly(
            new Endpoint("10.244.1.5", true, true, false, "node-a"),
            new Endpoint("10.244.2.6", false, true, true, "node-b"),
            new Endpoint("10.244.3.7", true, true, false, "node-c"));
        assertThat(result.notes()).hasSize(3).anyMatch(n -> n.contains("headless"))
            .anyMatch(n -> n.contains("ExternalName")).anyMatch(n -> n.contains("IPv6"));
    }

    @Test
    void badInputNamesTheObjectAndTheField()
    {
        assertError(CLUSTER.replace("\"port\": 80,", "\"port\": \"eighty\","),
            "cluster.json: items[0] (Service shop/web): spec.ports[0].port: expected an integer 1..65535, got \"eighty\"");
        assertError(CLUSTER.replace("\"protocol\": \"TCP\", \"port\": 80", "\"protocol\": \"QUIC\", \"port\": 80"),
            "cluster.json: items[0] (Service shop/web): spec.ports[0].protocol: unknown protocol 'QUIC' (TCP, UDP or SCTP)");
        assertError(CLUSTER.replace("\"10.244.1.5\"", "\"10.244.1.500\""),
            "cluster.json: items[3] (EndpointSlice shop/web-x1): endpoints[0].addresses[0]: not an IPv4 address (octet > 255): '10.244.1.500'");
        assertError(CLUSTER.replace("\"ready\": true", "\"ready\": \"yes\""),
            "cluster.json: items[3] (EndpointSlice shop/web-x1): endpoints[0].conditions.ready: expected true or false, got \"yes\"");
        assertError(CLUSTER.replace("\"type\": \"LoadBalancer\"", "\"type\": \"Balancer\""),
            "cluster.json: items[0] (Service shop/web): spec.type: unknown Service type 'Balancer'");
        final int lastSlice = CLUSTER.lastIndexOf("\"kind\": \"EndpointSlice\"");
        assertError(CLUSTER.substring(0, lastSlice) + "\"kind\": \"Pod\"" + CLUSTER.substring(lastSlice + "\"kind\": \"EndpointSlice\"".length()),
            "cluster.json: items[4] (Pod shop/web-v6): kind: expected Service or EndpointSlice, got 'Pod'");
        assertError("{\"kind\": \"List\", \"items\": [ {\"kind\": \"Service\", }", "cluster.json: line 1");
    }

    private static void assertError(final String json, final String message)
    {
        assertThatThrownBy(() -> KubectlJsonLoader.load(json, "cluster.json"))
            .isInstanceOf(ClusterLoadException.class).hasMessageStartingWith(message);
    }

    @Test
    void syntheticClustersAreReproducibleAndRealisticMixesHaveEveryKind()
    {
        assertThat(SyntheticCluster.generate(300, 4, 9, SyntheticCluster.Mix.REALISTIC))
            .isEqualTo(SyntheticCluster.generate(300, 4, 9, SyntheticCluster.Mix.REALISTIC));
        final ClusterModel m = SyntheticCluster.generate(3000, 2, 9, SyntheticCluster.Mix.REALISTIC);
        assertThat(m.services()).extracting(Service::type).contains(ServiceType.CLUSTER_IP, ServiceType.NODE_PORT,
            ServiceType.LOAD_BALANCER);
        assertThat(m.services()).anyMatch(Service::clientIPAffinity).anyMatch(Service::externalPolicyLocal)
            .anyMatch(s -> !s.loadBalancerSourceRanges().isEmpty()).anyMatch(s -> !s.externalIPs().isEmpty())
            .anyMatch(Service::internalPolicyLocal);
        assertThat(m.endpointSlices()).anyMatch(s -> s.endpoints().isEmpty())
            .anyMatch(s -> s.endpoints().stream().anyMatch(Endpoint::terminating));
        // node ports run out at 2768: later NodePort/LoadBalancer Services fall back to ClusterIP
        final ClusterModel big = SyntheticCluster.generate(20_000, 1, 9, SyntheticCluster.Mix.REALISTIC);
        assertThat(big.services().stream().flatMap(s -> s.ports().stream()).filter(p -> p.nodePort() != 0).count())
            .isLessThanOrEqualTo(SyntheticCluster.LAST_NODE_PORT - SyntheticCluster.FIRST_NODE_PORT + 1);
    }
}
