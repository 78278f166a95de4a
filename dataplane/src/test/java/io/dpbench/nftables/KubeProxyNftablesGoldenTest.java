package io.dpbench.nftables;

import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The nftables renderer against kube-proxy's own expected rulesets (pkg/proxy/nftables/proxier_test.go, the layout of
 * kubernetes commit 030880a5dc54; fixtures in resources/kube-proxy-nftables, see docs/research/kube-proxy-nftables.md),
 * compared as kube-proxy's tests compare them (helpers_test.go sortNFTablesTransaction: blank lines and comments
 * dropped, lines ordered by object type, then object name, rules keeping their order, other lines by their text).
 */
class KubeProxyNftablesGoldenTest
{
    static final NodeConfig TEST_NODE = new NodeConfig("test-node", List.of("192.168.0.2"), "10.0.0.0/24", "10.0.0.0/8", false);

    @Test
    void overallRulesMatchKubeProxysExpectation() throws Exception
    {
        // TestOverallNFTablesRules has the same Services and endpoints as TestOverallIPTablesRules
        final ClusterModel cluster = KubeProxyGoldenTestAccess.overallCluster();
        final String rendered = NftablesRenderer.render(cluster, TEST_NODE, NftablesSettings.kubeProxyTests()).dump();
        assertThat(sortLikeKubeProxyTests(rendered))
            .isEqualTo(sortLikeKubeProxyTests(NftTextParserTest.resource("kube-proxy-nftables/TestOverallNFTablesRules.expected")));
    }

    @Test
    void chainNamesEqualKubeProxys()
    {
        assertThat(NftChainNames.servicePortBase("ns1", "svc1", "tcp", "p80")).isEqualTo("ULMVA6XW-ns1/svc1/tcp/p80");
        assertThat(NftChainNames.servicePortBase("ns2", "svc2", "tcp", "p80")).isEqualTo("42NFTM6N-ns2/svc2/tcp/p80");
        assertThat(NftChainNames.servicePortBase("ns3", "svc3", "tcp", "p80")).isEqualTo("4AT6LBPK-ns3/svc3/tcp/p80");
        assertThat(NftChainNames.servicePortBase("ns4", "svc4", "tcp", "p80")).isEqualTo("LAUZTJTB-ns4/svc4/tcp/p80");
        assertThat(NftChainNames.servicePortBase("ns5", "svc5", "tcp", "p80")).isEqualTo("HVFWP5L3-ns5/svc5/tcp/p80");
        assertThat(NftChainNames.endpointBase("ns1", "svc1", "tcp", "p80", "10.180.0.1", 80))
            .isEqualTo("5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
        assertThat(NftChainNames.endpointBase("ns4", "svc4", "tcp", "p80", "10.180.0.5", 80))
            .isEqualTo("5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80");
        assertThat(NftChainNames.endpointBase("ns5", "svc5", "tcp", "p80", "10.180.0.3", 80))
            .isEqualTo("GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80");
        // a name longer than 240 characters is cut with "..." (kube-proxy's hashAndTruncate; only an IPv6 endpoint
        // can make one that long: its colons become dots)
        final String longName = "x".repeat(63);
        final String base = NftChainNames.endpointBase(longName, longName, "sctp", longName,
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 65535);
        assertThat(base).hasSize(NftChainNames.BASE_LENGTH_MAX).endsWith("...");
    }

    private static final Map<String, Integer> OBJECT_ORDER = Map.of("table", 0, "chain", 1, "set", 2, "map", 3,
        "rule", 4, "element", 5);

    /** kube-proxy's sortNFTablesTransaction (helpers_test.go), re-implemented. */
    static String sortLikeKubeProxyTests(final String text)
    {
        final List<String> lines = new ArrayList<>();
        for (final String line : text.split("\n"))
        {
            final String trimmed = line.trim();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#"))
            {
                lines.add(trimmed);
            }
        }
        lines.sort(Comparator.comparing((String l) -> OBJECT_ORDER.getOrDefault(word(l, 1), 9))
            .thenComparing(l -> word(l, 4))
            .thenComparing((a, b) -> word(a, 1).equals("rule") ? 0 : a.compareTo(b)));
        return String.join("\n", lines) + "\n";
    }

    private static String word(final String line, final int i)
    {
        final String[] w = line.split(" ");
        return i < w.length ? w[i] : "";
    }

    static List<String> lines(final String text)
    {
        return Arrays.asList(text.split("\n"));
    }
}
