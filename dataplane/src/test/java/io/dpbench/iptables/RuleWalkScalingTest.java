package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The baseline's defining property, counted rather than timed: the rules a new flow walks grow linearly with the
 * number of Services (a uniformly popular Service sits, on average, half-way down KUBE-SERVICES).
 */
class RuleWalkScalingTest
{
    static double meanRulesPerFlow(final int services) throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(services, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final NodeConfig node = NodeConfig.defaults();
        final CompiledRules rules = ChainEngine.compile(NodeRules.assemble(
            KubeProxyRenderer.render(cluster, node, KubeProxyRenderer.Options.production()), "r"), "r", node.nodeIPs(), IpSets.EMPTY);
        final Classifier classifier = new Classifier(rules, 3, Ipv4Address.parse(node.primaryNodeIP()));
        final FlowContext ctx = new FlowContext();
        final SplittableRandom random = new SplittableRandom(5);
        long total = 0;
        final int flows = 4000;
        for (int i = 0; i < flows; i++)
        {
            ctx.reset(6, Ipv4Address.parse("10.244.0.0") + random.nextInt(65536), 40000,
                Ipv4Address.parse("10.96.0.1") + random.nextInt(services), 80);
            assertThat(classifier.classifyNewFlow(ctx)).isEqualTo(Verdicts.DNAT);
            total += ctx.rulesEvaluated;
        }
        return (double)total / flows;
    }

    @Test
    void rulesWalkedPerNewFlowGrowLinearlyWithServices() throws Exception
    {
        final double n100 = meanRulesPerFlow(100);
        final double n1000 = meanRulesPerFlow(1000);
        final double n10000 = meanRulesPerFlow(10_000);
        // about N/2 rules of KUBE-SERVICES plus a constant part (jumps, the Service's own chains, filter, POSTROUTING)
        assertThat(n1000 - n100).isBetween(0.45 * 900, 0.55 * 900);
        assertThat(n10000 - n1000).isBetween(0.45 * 9000, 0.55 * 9000);
        assertThat(n10000 / n1000).isBetween(8.0, 11.0);
    }
}
