package io.dpbench.iptables;

import io.dpbench.NetnsSandbox;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real kernel as the oracle: rendered rules are loaded with iptables-restore into a network namespace this test
 * creates (and deletes), read back with iptables-save, and compared with dpbench's own iptables-save rendering; the
 * packet stories then run on the kernel's text. Needs root, iproute2 and iptables; {@code scripts/test} installs
 * iptables and sets DPBENCH_REQUIRE_IPTABLES=1 so that this cannot silently skip there.
 */
class KernelIptablesTest
{
    private final NetnsSandbox sandbox = new NetnsSandbox();

    @AfterEach
    void deleteNamespaces() throws Exception
    {
        sandbox.close();
    }

    @Test
    void kernelSavesRenderedRulesExactlyAsDpbenchPrintsThemAndStoriesHoldOnItsText() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore");
        final String ours = PacketFlowTest.renderSaved(KubeProxyGoldenTest.overallCluster());
        final String kernels = loadAndSave(ours);
        assertThat(kernels).isEqualTo(ours);
        PacketFlowStories.assertAll(PacketFlowTest.compileSaved(kernels));
    }

    @Test
    void realisticMixRoundTripsThroughTheKernel() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore");
        final ClusterModel cluster = SyntheticCluster.generate(400, 3, 11, SyntheticCluster.Mix.REALISTIC);
        final String ours = PacketFlowTest.renderSaved(cluster);
        final String kernels = loadAndSave(ours);
        assertThat(kernels).isEqualTo(ours);
        // the engine classifies identically from either text
        final CompiledRules a = PacketFlowTest.compileSaved(ours);
        final CompiledRules b = PacketFlowTest.compileSaved(kernels);
        for (int i = 0; i < 400; i += 7)
        {
            final int vip = Ipv4Address.parse("10.96.0.1") + i;
            final Tracer.Result ra = Tracer.trace(a, Ipv4Address.parse("192.168.0.2"), 6, Ipv4Address.parse("10.244.3.3"), 40000, vip, 80, 0);
            final Tracer.Result rb = Tracer.trace(b, Ipv4Address.parse("192.168.0.2"), 6, Ipv4Address.parse("10.244.3.3"), 40000, vip, 80, 0);
            assertThat(rb.verdict()).isEqualTo(ra.verdict());
            assertThat(rb.destinations()).isEqualTo(ra.destinations());
            assertThat(rb.masquerade()).isEqualTo(ra.masquerade());
        }
    }

    @Test
    void tenThousandServicesLoad() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore");
        final ClusterModel cluster = SyntheticCluster.generate(10_000, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final String ours = PacketFlowTest.renderSaved(cluster);
        final String ns = sandbox.create();
        final NetnsSandbox.Result test = sandbox.exec(ns, ours, "iptables-restore", "--test");
        assertThat(test.exit()).as("iptables-restore --test: %s", test.err()).isZero();
        final NetnsSandbox.Result load = sandbox.exec(ns, ours, "iptables-restore");
        assertThat(load.exit()).as("iptables-restore: %s", load.err()).isZero();
        final NetnsSandbox.Result save = sandbox.exec(ns, null, "iptables-save");
        final long kernelRules = save.out().lines().filter(l -> l.startsWith("-A ")).count();
        assertThat(kernelRules).isEqualTo(IptablesSaveParser.parse(ours, "ours").ruleCount()).isGreaterThan(140_000);
    }

    private String loadAndSave(final String rules) throws Exception
    {
        final String ns = sandbox.create();
        final NetnsSandbox.Result load = sandbox.exec(ns, rules, "iptables-restore");
        assertThat(load.exit()).as("iptables-restore failed: %s", load.err()).isZero();
        final NetnsSandbox.Result save = sandbox.exec(ns, null, "iptables-save");
        assertThat(save.exit()).as("iptables-save failed: %s", save.err()).isZero();
        return save.out().lines().filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n", "", "\n"));
    }
}
