package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The renderer against kube-proxy's own golden outputs (pkg/proxy/iptables/proxier_test.go, see
 * docs/research/kube-proxy-iptables.md section 5), compared the way upstream compares them: after its
 * {@code sortIPTablesRules} (re-implemented here), byte for byte.
 */
class KubeProxyGoldenTest
{
    static final NodeConfig TEST_NODE = new NodeConfig("test-node", List.of("192.168.0.2"), "10.0.0.0/24", "10.0.0.0/8", false);

    static Service service(final String ns, final String name, final ServiceType type, final String clusterIP,
        final List<String> externalIPs, final List<String> ingress, final List<String> ranges, final int nodePort,
        final TrafficPolicy etp, final boolean affinity, final int healthCheckNodePort)
    {
        return new Service(ns, name, type, clusterIP, externalIPs, ingress, ranges,
            List.of(new ServicePort("p80", Protocol.TCP, 80, "80", nodePort)), etp, TrafficPolicy.CLUSTER, affinity,
            10800, healthCheckNodePort);
    }

    static EndpointSlice slice(final String ns, final String service, final Endpoint... endpoints)
    {
        return new EndpointSlice(ns, service + "-1", service, List.of(endpoints),
            List.of(new EndpointSlice.EndpointPort("p80", Protocol.TCP, 80)));
    }

    static Endpoint ready(final String ip, final String node)
    {
        return new Endpoint(ip, true, true, false, node);
    }

    /** TestOverallIPTablesRules' inputs (section 5.1). */
    static ClusterModel overallCluster()
    {
        final List<Service> services = List.of(
            service("ns1", "svc1", ServiceType.CLUSTER_IP, "172.30.0.41", List.of(), List.of(), List.of(), 0,
                TrafficPolicy.CLUSTER, false, 0),
            service("ns2", "svc2", ServiceType.LOAD_BALANCER, "172.30.0.42", List.of("192.168.99.22"), List.of("1.2.3.4"),
                List.of(), 3001, TrafficPolicy.LOCAL, false, 30000),
            service("ns3", "svc3", ServiceType.NODE_PORT, "172.30.0.43", List.of(), List.of(), List.of(), 3003,
                TrafficPolicy.CLUSTER, false, 0),
            service("ns4", "svc4", ServiceType.NODE_PORT, "172.30.0.44", List.of("192.168.99.33"), List.of(), List.of(), 0,
                TrafficPolicy.CLUSTER, false, 0),
            service("ns5", "svc5", ServiceType.LOAD_BALANCER, "172.30.0.45", List.of(), List.of("5.6.7.8"),
                List.of("203.0.113.0/25"), 3002, TrafficPolicy.CLUSTER, true, 30000),
            service("ns6", "svc6", ServiceType.CLUSTER_IP, "172.30.0.46", List.of(), List.of(), List.of(), 0,
                TrafficPolicy.CLUSTER, false, 0));
        final List<EndpointSlice> slices = List.of(
            slice("ns1", "svc1", ready("10.180.0.1", "")),
            slice("ns2", "svc2", ready("10.180.0.2", "")),
            slice("ns3", "svc3", ready("10.180.0.3", "")),
            slice("ns4", "svc4", ready("10.180.0.4", ""), ready("10.180.0.5", "test-node")),
            slice("ns5", "svc5", ready("10.180.0.3", "")));
        return new ClusterModel(services, slices);
    }

    @Test
    void overallIptablesRulesMatchKubeProxysGolden() throws Exception
    {
        final String rendered = KubeProxyRenderer.render(overallCluster(), TEST_NODE, KubeProxyRenderer.Options.kubeProxyTests());
        assertThat(sortLikeKubeProxyTests(rendered)).isEqualTo(resource("kube-proxy/overall-iptables-rules.golden"));
    }

    @Test
    void externalTrafficPolicyLocalMatchesKubeProxysGolden() throws Exception
    {
        final ClusterModel cluster = new ClusterModel(
            List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.41", List.of("192.168.99.11"),
                List.of("1.2.3.4"), List.of(), 3001, TrafficPolicy.LOCAL, false, 30000)),
            List.of(slice("ns1", "svc1", ready("10.180.0.1", "other-node"), ready("10.180.2.1", "test-node"))));
        final String rendered = KubeProxyRenderer.render(cluster, TEST_NODE,
            new KubeProxyRenderer.Options("0x4000", false, true, false));
        assertThat(sortLikeKubeProxyTests(rendered)).isEqualTo(resource("kube-proxy/external-traffic-policy-local.golden"));
    }

    @Test
    void chainNamesEqualKubeProxys()
    {
        assertThat(ChainNames.portProtoHash("ns1/svc1:p80", "tcp")).isEqualTo("XPGD46QRK7WJZT7O");
        assertThat(ChainNames.portProtoHash("ns2/svc2:p8080", "tcp")).isEqualTo("2VJB64SDSIJUP5T6");
        assertThat(ChainNames.portProtoHash("default/kubernetes:https", "tcp")).isEqualTo("NPX46M4PTMTKRN6Y");
        assertThat(ChainNames.portProtoHash("kube-system/kube-dns:dns", "udp")).isEqualTo("TCOU7JCQXEZGVUNU");
        assertThat(ChainNames.portProtoHash("kube-system/kube-dns:dns-tcp", "tcp")).isEqualTo("ERIFXISQEP7F7OF4");
        assertThat(ChainNames.portProtoHash("ns1/svc1", "tcp")).isEqualTo("AQI2S6QIMU7PVVRP");
        assertThat(ChainNames.endpointChain("ns1/svc1:p80", "tcp", "10.180.0.1:80")).isEqualTo("KUBE-SEP-SXIVWICOYRO3J4NJ");
        assertThat(ChainNames.endpointChain("ns5/svc5:p80", "tcp", "10.180.0.3:80")).isEqualTo("KUBE-SEP-I77PXRDZVX7PMWMN");
        assertThat(ChainNames.endpointChain("ns3/svc3:p8081", "tcp", "203.0.113.4:8081")).isEqualTo("KUBE-SEP-RUVVH7YV3PHQBDOS");
        assertThat(ChainNames.endpointChain("ns1/svc1", "tcp", "10.0.1.1:80")).isEqualTo("KUBE-SEP-3JOIVZTXZZRGORX4");
    }

    @Test
    void probabilitiesAreFormattedAsGoFormatsThem()
    {
        assertThat(KubeProxyRenderer.probability(1)).isEqualTo("1.0000000000");
        assertThat(KubeProxyRenderer.probability(2)).isEqualTo("0.5000000000");
        assertThat(KubeProxyRenderer.probability(3)).isEqualTo("0.3333333333");
        assertThat(KubeProxyRenderer.probability(6)).isEqualTo("0.1666666667");
        assertThat(KubeProxyRenderer.probability(100001)).isEqualTo("0.0000099999");
        assertThat(KubeProxyRenderer.probability(2048)).as("half-even on the exact binary value, as Go").isEqualTo("0.0004882812");
    }

    static String resource(final String name) throws IOException
    {
        try (InputStream in = KubeProxyGoldenTest.class.getClassLoader().getResourceAsStream(name))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** proxier_test.go sortIPTablesRules: tables by name, KUBE-NODEPORTS and KUBE-SERVICES chains first, ... */
    static String sortLikeKubeProxyTests(final String restore) throws Exception
    {
        final RuleSet set = IptablesSaveParser.parse(restore, "rendered");
        final List<RuleSet.Table> tables = new ArrayList<>(set.tables());
        tables.sort(Comparator.comparing(RuleSet.Table::name));
        final StringBuilder sb = new StringBuilder();
        for (final RuleSet.Table table : tables)
        {
            sb.append('*').append(table.name()).append('\n');
            final List<RuleSet.Chain> chains = new ArrayList<>(table.chains());
            chains.sort(Comparator.comparing(KubeProxyGoldenTest::chainRank).thenComparing(RuleSet.Chain::name));
            for (final RuleSet.Chain chain : chains)
            {
                sb.append(':').append(chain.name()).append(" - [0:0]\n");
            }
            for (final RuleSet.Chain chain : chains)
            {
                final List<RuleSet.Rule> rules = new ArrayList<>(chain.rules());
                if (chain.name().equals("KUBE-NODEPORTS") || chain.name().equals("KUBE-SERVICES"))
                {
                    rules.sort(Comparator.comparing(KubeProxyGoldenTest::serviceNameKey));
                }
                for (final RuleSet.Rule rule : rules)
                {
                    sb.append("-A ").append(chain.name()).append(' ').append(rule.specText()).append('\n');
                }
            }
            sb.append("COMMIT\n");
        }
        return sb.toString();
    }

    private static int chainRank(final RuleSet.Chain chain)
    {
        if (chain.name().equals("KUBE-NODEPORTS"))
        {
            return 0;
        }
        if (chain.name().equals("KUBE-SERVICES"))
        {
            return 1;
        }
        return chain.name().startsWith("KUBE-") ? 2 : 3;
    }

    /** Service name from the comment (up to the first ' ' or ':'); the "must be the last rule" rule sorts last. */
    private static String serviceNameKey(final RuleSet.Rule rule)
    {
        for (final Match m : rule.matches())
        {
            if (m instanceof Match.Comment c)
            {
                if (c.text().contains("must be the last rule"))
                {
                    return "\uffff";
                }
                final String t = c.text();
                int end = t.length();
                for (int i = 0; i < t.length(); i++)
                {
                    if (t.charAt(i) == ' ' || t.charAt(i) == ':')
                    {
                        end = i;
                        break;
                    }
                }
                return t.substring(0, end);
            }
        }
        return "";
    }
}
