package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PacketFlowTest
{
    static CompiledRules compileSaved(final String saveText) throws Exception
    {
        return ChainEngine.compile(IptablesSaveParser.parse(saveText, "rules"), "rules", PacketFlowStories.NODE_IPS,
            IpSets.EMPTY);
    }

    static String renderSaved(final ClusterModel cluster) throws Exception
    {
        final String restore = KubeProxyRenderer.render(cluster, KubeProxyGoldenTest.TEST_NODE.withNodeIPs(PacketFlowStories.NODE_IPS),
            KubeProxyRenderer.Options.production());
        return IptablesSaveFormat.dump(NodeRules.assemble(restore, "rendered"));
    }

    @Test
    void storiesHoldOnTheRenderedRules() throws Exception
    {
        PacketFlowStories.assertAll(compileSaved(renderSaved(KubeProxyGoldenTest.overallCluster())));
    }

    @Test
    void parseOfRenderRoundTrips() throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(500, 3, 7, SyntheticCluster.Mix.REALISTIC);
        final String saved = renderSaved(cluster);
        final RuleSet parsed = IptablesSaveParser.parse(saved, "saved");
        assertThat(IptablesSaveFormat.dump(parsed)).isEqualTo(saved);
        // and the restore text kube-proxy writes parses to the same rules
        final String restore = KubeProxyRenderer.render(cluster, KubeProxyGoldenTest.TEST_NODE.withNodeIPs(PacketFlowStories.NODE_IPS),
            KubeProxyRenderer.Options.production());
        assertThat(IptablesSaveFormat.dump(NodeRules.assemble(restore, "restore"))).isEqualTo(saved);
        assertThat(parsed.ruleCount()).isGreaterThan(500 * 3);
    }

    @Test
    void statisticSelectionIsUniformOverEndpoints() throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(1, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final CompiledRules rules = compileSaved(renderSaved(cluster));
        final Classifier classifier = new Classifier(rules, 20261126L, Ipv4Address.parse("192.168.0.2"));
        final FlowContext ctx = new FlowContext();
        final Map<Integer, Integer> counts = new HashMap<>();
        final int flows = 100_000;
        for (int i = 0; i < flows; i++)
        {
            ctx.reset(6, Ipv4Address.parse("10.244.0.5") + (i >>> 16), 1024 + (i & 0xFFFF), Ipv4Address.parse("10.96.0.1"), 80);
            assertThat(classifier.classifyNewFlow(ctx)).isEqualTo(Verdicts.DNAT);
            counts.merge(ctx.dnatAddress, 1, Integer::sum);
        }
        assertThat(counts).hasSize(4);
        final double expected = flows / 4.0;
        double chiSquare = 0;
        for (final int c : counts.values())
        {
            chiSquare += (c - expected) * (c - expected) / expected;
        }
        // 3 degrees of freedom: the 99.9th percentile is 16.27
        assertThat(chiSquare).as("chi-square of %s", counts).isLessThan(16.27);
    }

    @Test
    void clientIPAffinityKeepsAClientOnOneEndpointUntilTheTimeout() throws Exception
    {
        final Service service = new Service("ns", "sticky", ServiceType.CLUSTER_IP, "10.96.0.50", List.of(), List.of(),
            List.of(), List.of(new ServicePort("http", Protocol.TCP, 80, "8080", 0)), TrafficPolicy.CLUSTER,
            TrafficPolicy.CLUSTER, true, 60, 0);
        final EndpointSlice slice = new EndpointSlice("ns", "sticky-1", "sticky",
            List.of(new Endpoint("10.244.1.1", true, true, false, "n1"), new Endpoint("10.244.1.2", true, true, false, "n2"),
                new Endpoint("10.244.1.3", true, true, false, "n3")),
            List.of(new EndpointSlice.EndpointPort("http", Protocol.TCP, 8080)));
        final CompiledRules rules = compileSaved(renderSaved(new ClusterModel(List.of(service), List.of(slice))));
        final Classifier classifier = new Classifier(rules, 99, Ipv4Address.parse("192.168.0.2"));
        final FlowContext ctx = new FlowContext();
        final int client = Ipv4Address.parse("10.244.0.9");
        ctx.reset(6, client, 40000, Ipv4Address.parse("10.96.0.50"), 80);
        ctx.nowNanos = 1_000_000_000L;
        classifier.classifyNewFlow(ctx);
        final int first = ctx.dnatAddress;
        for (int i = 1; i < 200; i++)
        {
            ctx.reset(6, client, 40000 + i, Ipv4Address.parse("10.96.0.50"), 80);
            ctx.nowNanos = 1_000_000_000L + i * 100_000_000L; // within the 60 s timeout, refreshed by each flow
            classifier.classifyNewFlow(ctx);
            assertThat(ctx.dnatAddress).as("flow %d", i).isEqualTo(first);
        }
        // other clients spread over all three endpoints
        final java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++)
        {
            ctx.reset(6, Ipv4Address.parse("10.244.2.0") + i, 40000, Ipv4Address.parse("10.96.0.50"), 80);
            ctx.nowNanos = 30_000_000_000L;
            classifier.classifyNewFlow(ctx);
            seen.add(ctx.dnatAddress);
        }
        assertThat(seen).hasSize(3);
        // after the timeout the first client is balanced afresh: over many tries it reaches another endpoint
        boolean moved = false;
        for (int i = 0; i < 50 && !moved; i++)
        {
            ctx.reset(6, client, 50000 + i, Ipv4Address.parse("10.96.0.50"), 80);
            ctx.nowNanos = 1_000_000_000_000L * (i + 1); // every try 1000 s after the previous: expired each time
            classifier.classifyNewFlow(ctx);
            moved = ctx.dnatAddress != first;
        }
        assertThat(moved).isTrue();
    }
}
