package io.dpbench.nftables;

import io.dpbench.NetnsSandbox;
import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.iptables.PacketFlowStories;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real kernel as the oracle for nftables mode: dpbench's render is loaded with {@code nft -f} into a network
 * namespace this test creates (and deletes), listed back with {@code nft list ruleset}, and the listing must parse to
 * the same ruleset (the canonical spelling of {@link NftRuleText}); the packet stories then run on the kernel's
 * listing. Needs root, iproute2 and nftables; {@code scripts/test} installs them and sets DPBENCH_REQUIRE_IPTABLES=1 so
 * that this cannot silently skip there.
 */
class KernelNftablesTest
{
    private final NetnsSandbox sandbox = new NetnsSandbox();

    @AfterEach
    void deleteNamespaces() throws Exception
    {
        sandbox.close();
    }

    private String loadAndList(final String dump) throws Exception
    {
        final String ns = sandbox.create();
        final NetnsSandbox.Result load = sandbox.exec(ns, dump, "nft", "-f", "-");
        assertThat(load.exit()).as("nft -f: %s", load.err()).isZero();
        final NetnsSandbox.Result list = sandbox.exec(ns, null, "nft", "list", "ruleset");
        assertThat(list.exit()).as("nft list ruleset: %s", list.err()).isZero();
        return list.out();
    }

    @Test
    void kernelListsTheGoldenRenderAsTheSameRulesetAndStoriesHoldOnIt() throws Exception
    {
        NetnsSandbox.requireOrSkip("nft");
        final NodeConfig node = KubeProxyGoldenTestAccess.testNode().withNodeIPs(PacketFlowStories.NODE_IPS);
        final NftRuleset ours = NftablesRenderer.render(KubeProxyGoldenTestAccess.overallCluster(), node,
            NftablesSettings.kubeProxyTests());
        final NftRuleset kernels = NftTextParser.parse(loadAndList(ours.dump()), "nft list ruleset");
        assertThat(kernels.canonical()).isEqualTo(ours.canonical());
        NftPacketFlowTest.assertStories(NftProgram.compile(kernels));
    }

    @Test
    void everySettingRoundTrips() throws Exception
    {
        NetnsSandbox.requireOrSkip("nft");
        final NodeConfig node = KubeProxyGoldenTestAccess.testNode().withNodeIPs(PacketFlowStories.NODE_IPS);
        final ClusterModel cluster = KubeProxyGoldenTestAccess.withAffinity(KubeProxyGoldenTestAccess.overallCluster(), 600);
        for (final NftablesSettings settings : List.of(
            new NftablesSettings("0x00004000", true, null, null, List.of(), "192.168.0.2"),
            new NftablesSettings("0x00004000", false, null, List.of("192.168.0.2", "192.168.1.2"),
                List.of("172.30.0.0/16", "10.96.0.0/12"), "192.168.0.2")))
        {
            final NftRuleset ours = NftablesRenderer.render(cluster, node, settings);
            final NftRuleset kernels = NftTextParser.parse(loadAndList(ours.dump()), "nft list ruleset");
            assertThat(kernels.canonical()).isEqualTo(ours.canonical());
        }
    }

    @Test
    void tenThousandServicesLoadAndListBackTheSame() throws Exception
    {
        NetnsSandbox.requireOrSkip("nft");
        final ClusterModel cluster = SyntheticCluster.generate(10_000, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final NodeConfig node = NodeConfig.defaults();
        final NftRuleset ours = NftablesRenderer.render(cluster, node, NftablesSettings.defaults(node));
        final NftRuleset kernels = NftTextParser.parse(loadAndList(ours.dump()), "nft list ruleset");
        assertThat(kernels.set("service-ips").elements).hasSize(10_000);
        assertThat(kernels.canonical()).isEqualTo(ours.canonical());
    }
}
