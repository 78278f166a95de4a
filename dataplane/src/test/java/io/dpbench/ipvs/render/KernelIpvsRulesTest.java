package io.dpbench.ipvs.render;

import io.dpbench.NetnsSandbox;
import io.dpbench.iptables.IptablesSaveParser;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.SyntheticCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * IPVS mode's ipset and iptables texts on the real kernel: both load into a network namespace (ipset restore,
 * iptables-restore), the kernel's `ipset save` lists exactly dpbench's sets and entries (minus the bucketsize and
 * random initval it appends), and its iptables-save output parses with dpbench's parser. The rules using
 * {@code -m ipvs} are left out of the load: this kernel has no IPVS (no xt_ipvs).
 */
class KernelIpvsRulesTest
{
    private final NetnsSandbox sandbox = new NetnsSandbox();

    @AfterEach
    void cleanUp() throws Exception
    {
        sandbox.close();
    }

    @Test
    void ipsetsAndRulesLoadAndReadBackEqual() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore", "ipset");
        final IpvsIptablesRenderer.Rendered r = IpvsIptablesRenderer.render(
            SyntheticCluster.generate(300, 3, 4, SyntheticCluster.Mix.REALISTIC),
            NodeConfig.defaults().withNodeIPs(java.util.List.of("192.168.0.10", "192.168.1.10")),
            IpvsIptablesRenderer.Options.production());
        final String ns = sandbox.create();
        final NetnsSandbox.Result ipset = sandbox.exec(ns, r.ipsetSave(), "ipset", "restore");
        assertThat(ipset.exit()).as("ipset restore: %s", ipset.err()).isZero();
        // this kernel has no IPVS, hence no xt_ipvs: the KUBE-IPVS-OUT-FILTER rules that use -m ipvs cannot load here
        final String loadable = r.iptablesRestore().lines().filter(l -> !l.contains(" -m ipvs "))
            .collect(Collectors.joining("\n", "", "\n"));
        assertThat(r.iptablesRestore().lines().filter(l -> l.contains(" -m ipvs ")).count()).isPositive();
        final NetnsSandbox.Result ipt = sandbox.exec(ns, loadable, "iptables-restore");
        assertThat(ipt.exit()).as("iptables-restore: %s", ipt.err()).isZero();

        final String kernelSets = sandbox.exec(ns, null, "ipset", "save").out().lines()
            .map(l -> l.replaceAll(" bucketsize \\d+ initval 0x[0-9a-f]+", "")).sorted().collect(Collectors.joining("\n"));
        final String ourSets = r.ipsetSave().lines().sorted().collect(Collectors.joining("\n"));
        assertThat(kernelSets).isEqualTo(ourSets);

        final String saved = sandbox.exec(ns, null, "iptables-save").out();
        assertThat(IptablesSaveParser.parse(saved, "kernel").ruleCount())
            .isEqualTo(IptablesSaveParser.parse(loadable, "ours").ruleCount());
    }
}
