package io.dpbench.iptables;

import io.dpbench.NetnsSandbox;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** kube-proxy's partial sync: only changed Services' chains are rewritten, and the result equals a full sync. */
class PartialSyncTest
{
    private final NetnsSandbox sandbox = new NetnsSandbox();

    @AfterEach
    void cleanUp() throws Exception
    {
        sandbox.close();
    }

    @Test
    void partialTextHoldsTopLevelRulesOfAllServicesButChainsOfChangedOnesOnly() throws Exception
    {
        final String partial = KubeProxyRenderer.renderPartial(KubeProxyGoldenTest.overallCluster(),
            KubeProxyGoldenTest.TEST_NODE, KubeProxyRenderer.Options.kubeProxyTests(), Set.of("ns3/svc3"));
        final RuleSet set = IptablesSaveParser.parse(partial, "partial");
        assertThat(set.table("nat").chains()).extracting(RuleSet.Chain::name).containsExactlyInAnyOrder(
            "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ",
            "KUBE-EXT-X27LE4BHSL4DOUIK", "KUBE-SVC-X27LE4BHSL4DOUIK", "KUBE-SEP-OYPFS5VJICHGATKP");
        // every Service's KUBE-SERVICES rules are still written
        assertThat(set.table("nat").chain("KUBE-SERVICES").rules()).hasSize(10);
        final String full = KubeProxyRenderer.render(KubeProxyGoldenTest.overallCluster(), KubeProxyGoldenTest.TEST_NODE,
            KubeProxyRenderer.Options.kubeProxyTests());
        assertThat(partial.length()).isLessThan(full.length());
    }

    @Test
    void parserAppliesAPartialSyncAsIptablesRestoreNoflushDoes() throws Exception
    {
        final NodeConfig node = NodeConfig.defaults();
        final ClusterModel before = SyntheticCluster.generate(40, 3, 5, SyntheticCluster.Mix.REALISTIC);
        final List<EndpointSlice> slices = new ArrayList<>(before.endpointSlices());
        final EndpointSlice s = slices.get(3);
        final List<Endpoint> more = new ArrayList<>(s.endpoints());
        more.add(new Endpoint("10.244.201.9", true, true, false, "node-9"));
        slices.set(3, new EndpointSlice(s.namespace(), s.name(), s.serviceName(), more, s.ports()));
        final ClusterModel after = new ClusterModel(before.services(), slices);
        final String loaded = IptablesSaveFormat.dump(NodeRules.assemble(
            KubeProxyRenderer.render(before, node, KubeProxyRenderer.Options.production()), "before"));
        final String partial = KubeProxyRenderer.renderPartial(after, node, KubeProxyRenderer.Options.production(),
            Set.of(after.services().get(3).namespacedName()));
        final String expected = IptablesSaveFormat.dump(NodeRules.assemble(
            KubeProxyRenderer.render(after, node, KubeProxyRenderer.Options.production()), "after"));
        assertThat(IptablesSaveFormat.dump(IptablesSaveParser.parse(loaded + partial, "applied"))).isEqualTo(expected);
    }

    @Test
    void kernelStateAfterAPartialSyncEqualsAFullSync() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore");
        final NodeConfig node = NodeConfig.defaults();
        final ClusterModel before = SyntheticCluster.generate(50, 2, 3, SyntheticCluster.Mix.REALISTIC);
        // one more endpoint for svc-7
        final List<EndpointSlice> slices = new ArrayList<>(before.endpointSlices());
        final EndpointSlice s = slices.get(7);
        final List<Endpoint> more = new ArrayList<>(s.endpoints());
        more.add(new Endpoint("10.244.200.9", true, true, false, "node-9"));
        slices.set(7, new EndpointSlice(s.namespace(), s.name(), s.serviceName(), more, s.ports()));
        final ClusterModel after = new ClusterModel(before.services(), slices);
        final String changed = after.services().get(7).namespacedName();

        final String ns = sandbox.create();
        final String initial = IptablesSaveFormat.dump(NodeRules.assemble(
            KubeProxyRenderer.render(before, node, KubeProxyRenderer.Options.production()), "before"));
        assertThat(sandbox.exec(ns, initial, "iptables-restore").exit()).isZero();
        final String partial = KubeProxyRenderer.renderPartial(after, node, KubeProxyRenderer.Options.production(), Set.of(changed));
        final NetnsSandbox.Result r = sandbox.exec(ns, partial, "iptables-restore", "--noflush");
        assertThat(r.exit()).as("iptables-restore --noflush: %s", r.err()).isZero();
        final String kernel = sandbox.exec(ns, null, "iptables-save").out().lines().filter(l -> !l.startsWith("#"))
            .collect(Collectors.joining("\n", "", "\n"));
        final String expected = IptablesSaveFormat.dump(NodeRules.assemble(
            KubeProxyRenderer.render(after, node, KubeProxyRenderer.Options.production()), "full"));
        assertThat(kernel).isEqualTo(expected);
    }
}
