package io.dpbench.ipvs.render;

import io.dpbench.iptables.IptablesSaveParser;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.RuleParseException;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link IpvsIptablesRenderer} against kube-proxy's IPVS proxier_test.go expectations (resources
 * kube-proxy-ipvs/*.expect), a byte-exact regression golden, structural checks and the iptables-save parser.
 */
class IpvsIptablesRendererTest
{
    /** kube-proxy's IPVS tests: testNodeName; a node IP outside every source range the tests use. */
    static final NodeConfig TEST_NODE = new NodeConfig("test-node", List.of("100.101.102.103"), "10.244.0.0/24", "", false);

    static Service service(final String ns, final String name, final ServiceType type, final String clusterIP,
        final List<String> externalIPs, final List<String> ingress, final List<String> ranges,
        final TrafficPolicy etp, final int healthCheckNodePort, final ServicePort... ports)
    {
        return new Service(ns, name, type, clusterIP, externalIPs, ingress, ranges, List.of(ports), etp,
            TrafficPolicy.CLUSTER, false, 0, healthCheckNodePort);
    }

    static ServicePort tcp(final String name, final int port, final int nodePort)
    {
        return new ServicePort(name, Protocol.TCP, port, "", nodePort);
    }

    static EndpointSlice slice(final String ns, final String svc, final String portName, final Protocol protocol,
        final int port, final Endpoint... endpoints)
    {
        return new EndpointSlice(ns, svc + "-1", svc, List.of(endpoints),
            List.of(new EndpointSlice.EndpointPort(portName, protocol, port)));
    }

    static Endpoint ep(final String ip, final String nodeName)
    {
        return new Endpoint(ip, true, true, false, nodeName);
    }

    // ---------------------------------------------------------------- kube-proxy proxier_test.go expectations

    @Test
    void kubeProxyTestLoadBalancer() throws IOException
    {
        final ClusterModel cluster = new ClusterModel(List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER,
            "10.20.30.41", List.of(), List.of("1.2.3.4"), List.of(), TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 3001))),
            List.of(slice("ns1", "svc1", "p80", Protocol.UDP, 80, ep("10.180.0.1", ""))));
        checkExpectations("TestLoadBalancer", cluster, TEST_NODE);
    }

    @Test
    void kubeProxyTestOnlyLocalNodePorts() throws IOException
    {
        final ClusterModel cluster = new ClusterModel(List.of(service("ns1", "svc1", ServiceType.NODE_PORT,
            "10.20.30.41", List.of(), List.of(), List.of(), TrafficPolicy.LOCAL, 0, tcp("p80", 80, 3001))),
            List.of(slice("ns1", "svc1", "p80", Protocol.TCP, 80, ep("10.180.0.1", "test-node"),
                ep("10.180.1.1", "other-node"))));
        checkExpectations("TestOnlyLocalNodePorts", cluster, TEST_NODE);
    }

    @Test
    void kubeProxyTestHealthCheckNodePort() throws IOException
    {
        final List<Service> services = new ArrayList<>();
        services.add(service("ns1", "valid-svc1", ServiceType.LOAD_BALANCER, "10.20.30.41", List.of(), List.of(),
            List.of(), TrafficPolicy.LOCAL, 30000, tcp("p80", 80, 3000)));
        services.add(service("ns1", "valid-svc2", ServiceType.LOAD_BALANCER, "10.20.30.41", List.of(), List.of(),
            List.of(), TrafficPolicy.LOCAL, 30001, tcp("p80", 80, 3000)));
        services.add(service("ns1", "invalid-svc3", ServiceType.LOAD_BALANCER, "10.20.30.41", List.of(), List.of(),
            List.of(), TrafficPolicy.CLUSTER, 30002, tcp("p80", 80, 3000)));
        checkExpectations("TestHealthCheckNodePort", new ClusterModel(services, List.of()), TEST_NODE);
    }

    @Test
    void kubeProxyTestLoadBalancerSourceRanges() throws IOException
    {
        final ClusterModel cluster = new ClusterModel(List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER,
            "10.20.30.41", List.of(), List.of("1.2.3.4"), List.of("10.0.0.0/8"), TrafficPolicy.CLUSTER, 0,
            tcp("p80", 80, 0))),
            List.of(slice("ns1", "svc1", "p80", Protocol.TCP, 80, ep("10.180.0.1", ""))));
        checkExpectations("TestLoadBalancerSourceRanges", cluster, TEST_NODE);
    }

    @Test
    void kubeProxyTestAcceptIPVSTraffic() throws IOException
    {
        final ClusterModel cluster = new ClusterModel(List.of(
            service("ns1", "svc1", ServiceType.CLUSTER_IP, "10.20.30.40", List.of("5.6.7.8"), List.of(), List.of(),
                TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 80)),
            service("ns1", "svc2", ServiceType.LOAD_BALANCER, "10.20.30.41", List.of(), List.of("1.2.3.4"), List.of(),
                TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 80)),
            service("ns1", "svc3", ServiceType.NODE_PORT, "10.20.30.42", List.of(), List.of(), List.of(),
                TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 80))), List.of());
        checkExpectations("TestAcceptIPVSTraffic", cluster, TEST_NODE);
    }

    @Test
    void kubeProxyTestOnlyLocalLoadBalancing() throws IOException
    {
        final ClusterModel cluster = new ClusterModel(List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER,
            "10.20.30.41", List.of(), List.of("1.2.3.4"), List.of(), TrafficPolicy.LOCAL, 0, tcp("p80", 80, 3001))),
            List.of(slice("ns1", "svc1", "p80", Protocol.TCP, 80, ep("10.180.0.1", "test-node"),
                ep("10.180.1.1", "other-node"))));
        checkExpectations("TestOnlyLocalLoadBalancing", cluster, TEST_NODE);
    }

    /** checkIPSet / checkIptables of kube-proxy's IPVS tests, over the rendered text. */
    private static void checkExpectations(final String test, final ClusterModel cluster, final NodeConfig node)
        throws IOException
    {
        final IpvsIptablesRenderer.Rendered r = IpvsIptablesRenderer.render(cluster, node,
            IpvsIptablesRenderer.Options.kubeProxyTests());
        final Map<String, List<String>> savedSets = parseIpsetSave(r.ipsetSave());
        final Map<String, List<String>> expectedSets = new LinkedHashMap<>();
        final Map<String, List<String>> expectedRules = new LinkedHashMap<>();
        for (final String line : resource(test + ".expect").split("\n"))
        {
            if (line.isBlank() || line.startsWith("#"))
            {
                continue;
            }
            final String[] f = line.trim().split(" ");
            if (f[0].equals("set"))
            {
                expectedSets.put(f[1], List.of(f).subList(2, f.length));
            }
            else
            {
                expectedRules.computeIfAbsent(f[1], k -> new ArrayList<>())
                    .add(String.join(" ", List.of(f).subList(2, f.length)));
            }
        }
        for (final Map.Entry<String, List<String>> e : expectedSets.entrySet())
        {
            assertThat(savedSets.get(e.getKey())).as(test + ": set " + e.getKey())
                .containsExactlyInAnyOrderElementsOf(e.getValue());
        }
        for (final Map.Entry<String, List<String>> e : expectedRules.entrySet())
        {
            assertThat(summarize(r.iptablesRestore(), e.getKey())).as(test + ": chain " + e.getKey() + "\n"
                + r.iptablesRestore()).containsExactlyElementsOf(e.getValue());
        }
    }

    private static final Pattern MATCH_SET = Pattern.compile(" --match-set (\\S+)");
    private static final Pattern SOURCE = Pattern.compile(" -s (\\S+)");
    private static final Pattern JUMP = Pattern.compile(" -j (\\S+)");

    /** The rules of a chain as "TARGET [set=X] [src=Y]", nat first then filter (FakeIPTables.GetRules). */
    static List<String> summarize(final String restore, final String chain)
    {
        final List<String> nat = new ArrayList<>();
        final List<String> filter = new ArrayList<>();
        List<String> current = null;
        for (final String line : restore.split("\n"))
        {
            if (line.equals("*nat"))
            {
                current = nat;
            }
            else if (line.equals("*filter"))
            {
                current = filter;
            }
            else if (line.startsWith("-A " + chain + " "))
            {
                final Matcher j = JUMP.matcher(line);
                final StringBuilder sb = new StringBuilder(j.find() ? j.group(1) : "");
                final Matcher m = MATCH_SET.matcher(line);
                if (m.find())
                {
                    sb.append(" set=").append(m.group(1));
                }
                final Matcher s = SOURCE.matcher(line);
                if (s.find() && !line.contains("! -s "))
                {
                    sb.append(" src=").append(s.group(1));
                }
                current.add(sb.toString());
            }
        }
        final List<String> all = new ArrayList<>(nat);
        all.addAll(filter);
        return all;
    }

    static Map<String, List<String>> parseIpsetSave(final String text)
    {
        final Map<String, List<String>> sets = new LinkedHashMap<>();
        for (final String line : text.split("\n"))
        {
            final String[] f = line.split(" ");
            if (f[0].equals("create"))
            {
                sets.put(f[1], new ArrayList<>());
            }
            else if (f[0].equals("add"))
            {
                assertThat(sets).as("add before create: " + line).containsKey(f[1]);
                sets.get(f[1]).add(f[2]);
            }
        }
        return sets;
    }

    static String resource(final String name) throws IOException
    {
        try (InputStream in = IpvsIptablesRendererTest.class.getResourceAsStream("/kube-proxy-ipvs/" + name))
        {
            assertThat(in).as("resource " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------- byte-exact regression golden (derived)

    /** A cluster with every kind of entry: ClusterIP, NodePort TCP/UDP/SCTP, LB with ranges, external IPs, ETP=Local. */
    static ClusterModel overallCluster()
    {
        final List<Service> services = List.of(
            service("ns1", "svc1", ServiceType.CLUSTER_IP, "172.30.0.41", List.of(), List.of(), List.of(),
                TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 0)),
            service("ns2", "svc2", ServiceType.LOAD_BALANCER, "172.30.0.42", List.of("192.168.99.22"),
                List.of("1.2.3.4"), List.of(), TrafficPolicy.LOCAL, 30000, tcp("p80", 80, 3001)),
            service("ns3", "svc3", ServiceType.NODE_PORT, "172.30.0.43", List.of(), List.of(), List.of(),
                TrafficPolicy.CLUSTER, 0, new ServicePort("p53", Protocol.UDP, 53, "", 3003),
                new ServicePort("p99", Protocol.SCTP, 99, "", 3004)),
            service("ns4", "svc4", ServiceType.NODE_PORT, "172.30.0.44", List.of("192.168.99.33"), List.of(),
                List.of(), TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 3005)),
            service("ns5", "svc5", ServiceType.LOAD_BALANCER, "172.30.0.45", List.of(), List.of("5.6.7.8"),
                List.of("203.0.113.0/25", "100.101.102.0/24"), TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 3006)),
            service("ns6", "svc6", ServiceType.LOAD_BALANCER, "172.30.0.46", List.of(), List.of("9.10.11.12"),
                List.of("203.0.113.7/32"), TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 3007)),
            service("ns7", "headless", ServiceType.CLUSTER_IP, "None", List.of(), List.of(), List.of(),
                TrafficPolicy.CLUSTER, 0, tcp("p80", 80, 0)));
        final List<EndpointSlice> slices = List.of(
            slice("ns1", "svc1", "p80", Protocol.TCP, 8080, ep("10.180.0.1", "test-node"), ep("10.180.1.1", "other")),
            slice("ns2", "svc2", "p80", Protocol.TCP, 80, ep("10.180.0.2", "test-node")),
            slice("ns3", "svc3", "p53", Protocol.UDP, 5353, ep("10.180.2.3", "other")));
        return new ClusterModel(services, slices);
    }

    static final NodeConfig OVERALL_NODE = new NodeConfig("test-node", List.of("100.101.102.103", "192.168.99.22"),
        "10.0.0.0/24", "10.0.0.0/8", false);

    @Test
    void overallGoldenByteExact() throws IOException
    {
        final IpvsIptablesRenderer.Rendered r = IpvsIptablesRenderer.render(overallCluster(), OVERALL_NODE,
            IpvsIptablesRenderer.Options.production());
        // the actual text lands in target/ for review when the golden changes
        final java.nio.file.Path out = java.nio.file.Path.of("target", "ipvs-render-actual");
        java.nio.file.Files.createDirectories(out);
        java.nio.file.Files.writeString(out.resolve("overall.iptables-restore"), r.iptablesRestore());
        java.nio.file.Files.writeString(out.resolve("overall.ipset-save"), r.ipsetSave());
        assertThat(r.iptablesRestore()).isEqualTo(resource("overall.iptables-restore"));
        assertThat(r.ipsetSave()).isEqualTo(resource("overall.ipset-save"));
    }

    @Test
    void masqueradeAllAndNoOpDetector()
    {
        final NodeConfig all = new NodeConfig("test-node", List.of("100.101.102.103"), "", "10.0.0.0/8", true);
        assertThat(IpvsIptablesRenderer.render(overallCluster(), all, IpvsIptablesRenderer.Options.production())
            .iptablesRestore()).contains("-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port "
            + "for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n");
        assertThat(IpvsIptablesRenderer.render(overallCluster(), TEST_NODE, IpvsIptablesRenderer.Options.production())
            .iptablesRestore()).contains("-m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ\n");
    }

    // ---------------------------------------------------------------- structural checks

    @Test
    void everyReferencedSetExists()
    {
        final IpvsIptablesRenderer.Rendered r = IpvsIptablesRenderer.render(overallCluster(), OVERALL_NODE,
            IpvsIptablesRenderer.Options.production());
        final Set<String> created = parseIpsetSave(r.ipsetSave()).keySet();
        final Set<String> referenced = new LinkedHashSet<>();
        final Matcher m = MATCH_SET.matcher(r.iptablesRestore());
        while (m.find())
        {
            referenced.add(m.group(1));
        }
        assertThat(referenced).isNotEmpty();
        assertThat(created).containsAll(referenced);
        assertThat(created).containsExactlyElementsOf(IpvsIptablesRenderer.SETS.stream()
            .map(IpvsIptablesRenderer.SetInfo::name).toList());
    }

    @Test
    void entriesGoToTheRightSets()
    {
        final Map<String, List<String>> s = parseIpsetSave(IpvsIptablesRenderer.render(overallCluster(), OVERALL_NODE,
            IpvsIptablesRenderer.Options.production()).ipsetSave());
        // ClusterIP (every non-headless service port), and every address bound to kube-ipvs0
        assertThat(s.get("KUBE-CLUSTER-IP")).containsExactly("172.30.0.41,tcp:80", "172.30.0.42,tcp:80",
            "172.30.0.43,sctp:99", "172.30.0.43,udp:53", "172.30.0.44,tcp:80", "172.30.0.45,tcp:80",
            "172.30.0.46,tcp:80");
        // external IP that is a node address is not bound
        assertThat(s.get("KUBE-IPVS-IPS")).contains("1.2.3.4", "172.30.0.41", "192.168.99.33")
            .doesNotContain("192.168.99.22");
        // hairpin: local endpoints only
        assertThat(s.get("KUBE-LOOP-BACK")).containsExactly("10.180.0.1,tcp:8080,10.180.0.1",
            "10.180.0.2,tcp:80,10.180.0.2");
        // NodePort, by protocol; SCTP per node IP; ETP=Local also in the -LOCAL set
        assertThat(s.get("KUBE-NODE-PORT-TCP")).containsExactly("3001", "3005", "3006", "3007");
        assertThat(s.get("KUBE-NODE-PORT-LOCAL-TCP")).containsExactly("3001");
        assertThat(s.get("KUBE-NODE-PORT-UDP")).containsExactly("3003");
        assertThat(s.get("KUBE-NODE-PORT-LOCAL-UDP")).isEmpty();
        assertThat(s.get("KUBE-NODE-PORT-SCTP-HASH")).containsExactly("100.101.102.103,sctp:3004",
            "192.168.99.22,sctp:3004");
        assertThat(s.get("KUBE-HEALTH-CHECK-NODE-PORT")).containsExactly("30000");
        // external IPs, by policy
        assertThat(s.get("KUBE-EXTERNAL-IP")).containsExactly("192.168.99.33,tcp:80");
        assertThat(s.get("KUBE-EXTERNAL-IP-LOCAL")).containsExactly("192.168.99.22,tcp:80");
        // load balancers: all, ETP=Local, with source ranges
        assertThat(s.get("KUBE-LOAD-BALANCER")).containsExactly("1.2.3.4,tcp:80", "5.6.7.8,tcp:80", "9.10.11.12,tcp:80");
        assertThat(s.get("KUBE-LOAD-BALANCER-LOCAL")).containsExactly("1.2.3.4,tcp:80");
        assertThat(s.get("KUBE-LOAD-BALANCER-FW")).containsExactly("5.6.7.8,tcp:80", "9.10.11.12,tcp:80");
        assertThat(s.get("KUBE-LOAD-BALANCER-SOURCE-CIDR")).containsExactly("5.6.7.8,tcp:80,100.101.102.0/24",
            "5.6.7.8,tcp:80,203.0.113.0/25", "9.10.11.12,tcp:80,203.0.113.7");
        // a range holds the node IP: the LB IP may reach itself; otherwise the node is cut off by KUBE-IPVS-OUT-FILTER
        assertThat(s.get("KUBE-LOAD-BALANCER-SOURCE-IP")).containsExactly("5.6.7.8,tcp:80,5.6.7.8");
    }

    @Test
    void lbWithoutNodeAccessIsDroppedInOutFilter()
    {
        final String text = IpvsIptablesRenderer.render(overallCluster(), OVERALL_NODE,
            IpvsIptablesRenderer.Options.production()).iptablesRestore();
        assertThat(text).contains("-A KUBE-IPVS-OUT-FILTER -s 9.10.11.12 -m ipvs --vaddr 9.10.11.12 --vproto tcp "
            + "--vport 80 -j DROP\n").doesNotContain("--vaddr 5.6.7.8");
    }

    @Test
    void emptyClusterStillHasFixedRules()
    {
        final IpvsIptablesRenderer.Rendered r = IpvsIptablesRenderer.render(new ClusterModel(List.of(), List.of()),
            TEST_NODE, IpvsIptablesRenderer.Options.kubeProxyTests());
        assertThat(r.iptablesRestore()).doesNotContain("--match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT")
            .contains("-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check node port\" -m set "
                + "--match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT\n")
            .contains("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
                + "-j MASQUERADE\n");
        assertThat(r.ipsetSave().lines().filter(l -> l.startsWith("add "))).isEmpty();
    }

    // ---------------------------------------------------------------- dpbench's iptables-save parser

    /** Every rule kube-proxy's IPVS mode writes parses and compiles (-m set, -m physdev and -m ipvs included). */
    @Test
    void parserAndEngineAcceptTheRenderedText() throws Exception
    {
        final String text = IpvsIptablesRenderer.render(overallCluster(), OVERALL_NODE,
            IpvsIptablesRenderer.Options.production()).iptablesRestore();
        assertThat(text).contains("-m physdev ! --physdev-is-in").contains("-m ipvs --vaddr");
        assertThatParses(text);
        final io.dpbench.iptables.RuleSet set = IptablesSaveParser.parse(text, "ipvs-render");
        assertThat(io.dpbench.iptables.ChainEngine.compile(set, "ipvs-render", OVERALL_NODE.nodeIPs(),
            io.dpbench.iptables.IpSets.EMPTY).ruleCount()).isEqualTo(set.ruleCount());
    }

    private static void assertThatParses(final String text)
    {
        try
        {
            assertThat(IptablesSaveParser.parse(text, "ipvs-render")).isNotNull();
        }
        catch (final RuleParseException ex)
        {
            throw new AssertionError(ex.getMessage(), ex);
        }
    }
}
