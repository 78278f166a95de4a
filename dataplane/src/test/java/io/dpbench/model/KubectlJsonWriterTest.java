package io.dpbench.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.iptables.KubeProxyRenderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** What the writer writes, the loader reads back as the same model. */
class KubectlJsonWriterTest
{
    private static ClusterModel roundTrip(final ClusterModel model) throws ClusterLoadException
    {
        final KubectlJsonLoader.Result result = KubectlJsonLoader.load(KubectlJsonWriter.write(model), "written");
        assertThat(result.notes()).as("nothing skipped").isEmpty();
        return result.model();
    }

    @Test
    void syntheticClustersOfBothMixesComeBackEqual() throws Exception
    {
        for (final SyntheticCluster.Mix mix : SyntheticCluster.Mix.values())
        {
            for (final long seed : new long[]{1, 7, 42})
            {
                final ClusterModel model = SyntheticCluster.generate(400, 4, seed, mix, 8);
                final ClusterModel back = roundTrip(model);
                assertThat(back).as("%s seed %d", mix, seed).isEqualTo(model);
                // and so are the rules kube-proxy would write for it
                assertThat(KubeProxyRenderer.render(back, NodeConfig.defaults(), KubeProxyRenderer.Options.production()))
                    .isEqualTo(KubeProxyRenderer.render(model, NodeConfig.defaults(),
                        KubeProxyRenderer.Options.production()));
            }
        }
    }

    @Test
    void theRealisticMixHasWhatTheWriterMustCarry() throws Exception
    {
        // 3,000 Services of the realistic mix hold every kind of field the writer writes (so that a round trip is
        // not vacuous for any of them), and they come back equal
        final ClusterModel model = SyntheticCluster.generate(3000, 3, 5, SyntheticCluster.Mix.REALISTIC, 0);
        final List<Service> services = model.services();
        assertThat(services).anyMatch(s -> s.type() == ServiceType.LOAD_BALANCER && s.healthCheckNodePort() != 0
            && s.externalPolicyLocal());
        assertThat(services).anyMatch(s -> !s.loadBalancerSourceRanges().isEmpty());
        assertThat(services).anyMatch(s -> !s.externalIPs().isEmpty());
        assertThat(services).anyMatch(Service::clientIPAffinity);
        assertThat(services).anyMatch(Service::internalPolicyLocal);
        assertThat(services).anyMatch(s -> s.ports().size() == 2);
        assertThat(services).anyMatch(s -> s.ports().get(0).protocol() == Protocol.UDP);
        assertThat(model.endpointSlices()).anyMatch(s -> s.endpoints().isEmpty());
        assertThat(model.endpointSlices()).anyMatch(s -> s.endpoints().stream().anyMatch(Endpoint::terminating));
        assertThat(roundTrip(model)).isEqualTo(model);
    }

    @Test
    void whatTheSyntheticMixesDoNotMakeComesBackToo() throws Exception
    {
        final Service named = new Service("shop", "web", ServiceType.NODE_PORT, "10.96.10.10", List.of(), List.of(),
            List.of(), List.of(new ServicePort("http", Protocol.TCP, 80, "http-alt", 30080),
                new ServicePort("sctp", Protocol.SCTP, 9000, "", 0)),
            TrafficPolicy.CLUSTER, TrafficPolicy.LOCAL, true, 600, 0);
        final Service unnamed = new Service("shop", "single", ServiceType.CLUSTER_IP, "10.96.10.11", List.of(), List.of(),
            List.of(), List.of(new ServicePort("", Protocol.UDP, 53, "5353", 0)), TrafficPolicy.CLUSTER,
            TrafficPolicy.CLUSTER, false, Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0);
        final EndpointSlice slice = new EndpointSlice("shop", "web-x1", "web", List.of(
            new Endpoint("10.244.1.5", true, true, false, "node-a"),
            new Endpoint("10.244.2.6", false, true, true, "node-b"),
            new Endpoint("10.244.3.7", false, false, false, "")),
            List.of(new EndpointSlice.EndpointPort("http", Protocol.TCP, 8080),
                new EndpointSlice.EndpointPort("sctp", Protocol.SCTP, 9000)));
        final EndpointSlice unnamedSlice = new EndpointSlice("shop", "single-abc", "single",
            List.of(new Endpoint("10.244.1.9", true, true, false, "node-a")),
            List.of(new EndpointSlice.EndpointPort("", Protocol.UDP, 5353)));
        final ClusterModel model = new ClusterModel(List.of(named, unnamed), List.of(slice, unnamedSlice));
        assertThat(roundTrip(model)).isEqualTo(model);

        // the loader's own example (a headless and an ExternalName Service, an IPv6 slice: skipped on load) is
        // written as it was loaded
        final ClusterModel loaded = KubectlJsonLoader.load(KubectlJsonLoaderTest.CLUSTER, "cluster.json").model();
        assertThat(roundTrip(loaded)).isEqualTo(loaded);
    }

    @Test
    void theJsonIsWhatKubectlPrints() throws Exception
    {
        final ClusterModel model = SyntheticCluster.generate(3000, 2, 5, SyntheticCluster.Mix.REALISTIC, 0);
        final JsonNode root = new ObjectMapper().readTree(KubectlJsonWriter.write(model));
        assertThat(root.get("kind").asText()).isEqualTo("List");
        assertThat(root.get("items")).hasSize(6000);
        final JsonNode service = root.get("items").get(0);
        assertThat(service.get("apiVersion").asText()).isEqualTo("v1");
        assertThat(service.get("kind").asText()).isEqualTo("Service");
        assertThat(service.get("spec").get("ports").get(0).get("targetPort").isInt()).as("a numeric targetPort").isTrue();
        final JsonNode slice = root.get("items").get(3000);
        assertThat(slice.get("apiVersion").asText()).isEqualTo("discovery.k8s.io/v1");
        assertThat(slice.get("addressType").asText()).isEqualTo("IPv4");
        assertThat(slice.get("metadata").get("labels").get("kubernetes.io/service-name").asText()).isEqualTo("svc-0");
        final JsonNode conditions = slice.get("endpoints").get(0).get("conditions");
        assertThat(conditions.has("ready") && conditions.has("serving") && conditions.has("terminating")).isTrue();
        // ClusterIP Services carry no externalTrafficPolicy and ClientIP's timeout only under ClientIP, as the API
        // server returns them
        for (final JsonNode item : root.get("items"))
        {
            final JsonNode spec = item.path("spec");
            if ("ClusterIP".equals(spec.path("type").asText()))
            {
                assertThat(spec.has("externalTrafficPolicy")).isFalse();
            }
            if (spec.has("sessionAffinityConfig"))
            {
                assertThat(spec.get("sessionAffinity").asText()).isEqualTo("ClientIP");
            }
        }
    }

    @Test
    void aFileIsReplacedWhole(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("cluster.json");
        final ClusterModel first = SyntheticCluster.generate(50, 3, 1, SyntheticCluster.Mix.REALISTIC, 4);
        KubectlJsonWriter.write(first, file);
        assertThat(KubectlJsonLoader.load(file).model()).isEqualTo(first);
        final ClusterModel second = SyntheticCluster.generate(60, 2, 2, SyntheticCluster.Mix.REALISTIC, 4);
        KubectlJsonWriter.write(second, file);
        assertThat(KubectlJsonLoader.load(file).model()).isEqualTo(second);
        try (Stream<Path> files = Files.list(dir))
        {
            assertThat(files).as("no temporary file left behind").containsExactly(file);
        }
    }
}
