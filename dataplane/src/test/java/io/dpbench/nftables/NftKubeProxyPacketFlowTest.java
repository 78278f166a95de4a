package io.dpbench.nftables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every IPv4 {@code runPacketFlowTests} case of kube-proxy's pkg/proxy/nftables/proxier_test.go (transcribed in
 * resources/kube-proxy-nftables/packet-flows.md) through dpbench's nftables mode: the same Services and
 * EndpointSlices, the same proxier settings (NewFakeProxier's, or the test's changes to them), rendered by
 * {@link NftablesRenderer} and walked by {@link NftTracer}. One test factory per kube-proxy test function, named after
 * it; one dynamic test per traced packet, named as upstream (subtests as containers): 199 packets in all (6, 10, 13,
 * 8, 7, 7, 8, 16, 16 and 108 in the order below; packet-flows.md's "187" counts the two TestTerminatingEndpoints*
 * functions' two after-deletion flows once each, where upstream runs them in each of the 4 subtests).
 * <p>
 * kube-proxy's tracer (docs/research/kube-proxy-nftables.md section f) and dpbench's engine walk packets differently
 * (kube-proxy runs the prerouting chains then filter-forward and filter-input for every packet; dpbench follows
 * netfilter's hooks, so a packet from a node address takes the output path), but the outcome kube-proxy asserts maps
 * onto dpbench's trace: DROP and REJECT are verdicts; a list of endpoints is a DNAT verdict whose destinations
 * (every numgen value followed) are that list; "" (no terminal rule, no DNAT) is ACCEPT to the original destination;
 * masq is "some way through the ruleset masquerades". The tracer's local addresses are kube-proxy's testNodeIPs
 * (IPv4 ones): 192.168.0.2, 192.168.1.2, 192.168.99.11.
 * <p>
 * IPv6 is not covered: dpbench's nftables mode is IPv4 only, so TestNodePorts' "ipv6" and
 * "ipv6, multiple nodeport-addresses" subtests are skipped (the IPv6 nodePortAddresses entries of the IPv4 subtests
 * are dropped, as an IPv4 proxier ignores them).
 */
class NftKubeProxyPacketFlowTest
{
    // kube-proxy's test constants
    static final String NODE_NAME = "test-node";
    static final String NODE_IP = "192.168.0.2";
    static final String NODE_IP_ALT = "192.168.1.2";
    static final String EXTERNAL_IP = "192.168.99.11";
    static final String EXTERNAL_CLIENT = "203.0.113.2";
    static final String EXTERNAL_CLIENT_BLOCKED = "203.0.113.130";
    /** testNodeIPs, IPv4 part: what the tracer's {@code fib ... type local} counts as local. */
    static final List<String> TEST_NODE_IPS = List.of(NODE_IP, NODE_IP_ALT, EXTERNAL_IP);

    static final String MARK = "0x4000";
    static final String POD_CIDR = "10.0.0.0/8";
    static final List<String> SERVICE_CIDRS = List.of("172.30.0.0/16");

    /** One packetFlowTest: protocol "" means tcp; output as kube-proxy writes it. */
    record Flow(String name, String protocol, String source, String destination, int destPort, String output,
        boolean masq)
    {
        Flow withOutput(final String value)
        {
            return new Flow(name, protocol, source, destination, destPort, value, masq);
        }

        Flow withMasq(final boolean value)
        {
            return new Flow(name, protocol, source, destination, destPort, output, value);
        }
    }

    static Flow flow(final String name, final String source, final String destination, final int destPort,
        final String output, final boolean masq)
    {
        return new Flow(name, "", source, destination, destPort, output, masq);
    }

    static Flow flow(final String name, final String protocol, final String source, final String destination,
        final int destPort, final String output, final boolean masq)
    {
        return new Flow(name, protocol, source, destination, destPort, output, masq);
    }

    /** NewFakeProxier's node: test-node, the fake network's IPv4 addresses (192.168.0.2 first), pods 10.0.0.0/8. */
    static NodeConfig node(final boolean masqueradeAll)
    {
        return new NodeConfig(NODE_NAME, TEST_NODE_IPS, "10.0.0.0/24", POD_CIDR, masqueradeAll);
    }

    /** NewFakeProxier's settings with masqueradeAll and the local detector as a test sets them. */
    static NftablesSettings settings(final boolean masqueradeAll, final boolean localDetector)
    {
        return new NftablesSettings(MARK, masqueradeAll, localDetector ? POD_CIDR : null, List.of(NODE_IP),
            SERVICE_CIDRS, NODE_IP);
    }

    static NftProgram program(final ClusterModel cluster, final NodeConfig node, final NftablesSettings settings)
    {
        return NftProgram.compile(NftablesRenderer.render(cluster, node, settings));
    }

    static NftProgram program(final List<Service> services, final List<EndpointSlice> slices)
    {
        return program(new ClusterModel(services, slices), node(false), NftablesSettings.kubeProxyTests());
    }

    // ---- model builders, with kube-proxy's defaults

    static Service service(final String ns, final String name, final ServiceType type, final String clusterIP,
        final List<String> externalIPs, final List<String> lbIngress, final List<String> sourceRanges,
        final TrafficPolicy etp, final TrafficPolicy itp, final int healthCheckNodePort, final ServicePort... ports)
    {
        return new Service(ns, name, type, clusterIP, externalIPs, lbIngress, sourceRanges, List.of(ports), etp, itp,
            false, 0, healthCheckNodePort);
    }

    static Service clusterIP(final String ns, final String name, final String clusterIP, final TrafficPolicy itp,
        final ServicePort... ports)
    {
        return service(ns, name, ServiceType.CLUSTER_IP, clusterIP, List.of(), List.of(), List.of(),
            TrafficPolicy.CLUSTER, itp, 0, ports);
    }

    static ServicePort port(final String name, final Protocol protocol, final int port, final String targetPort,
        final int nodePort)
    {
        return new ServicePort(name, protocol, port, targetPort, nodePort);
    }

    /** An endpoint with its conditions unset: ready, serving (kube-proxy: nil = true), not terminating. */
    static Endpoint ep(final String ip, final String nodeName)
    {
        return new Endpoint(ip, true, true, false, nodeName == null ? "" : nodeName);
    }

    static Endpoint ep(final String ip, final boolean ready, final boolean serving, final boolean terminating,
        final String nodeName)
    {
        return new Endpoint(ip, ready, serving, terminating, nodeName);
    }

    static EndpointSlice slice(final String ns, final String name, final String service, final List<Endpoint> endpoints,
        final EndpointSlice.EndpointPort... ports)
    {
        return new EndpointSlice(ns, name, service, endpoints, List.of(ports));
    }

    static EndpointSlice.EndpointPort epPort(final String name, final Protocol protocol, final int port)
    {
        return new EndpointSlice.EndpointPort(name, protocol, port);
    }

    // ---- running flows

    static Stream<DynamicNode> run(final NftProgram program, final Flow... flows)
    {
        return run(program, List.of(flows));
    }

    static Stream<DynamicNode> run(final NftProgram program, final List<Flow> flows)
    {
        return flows.stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> check(program, f)));
    }

    static DynamicContainer subtest(final String name, final Stream<DynamicNode> tests)
    {
        return DynamicContainer.dynamicContainer(name, tests);
    }

    static void check(final NftProgram program, final Flow f)
    {
        final Protocol protocol = f.protocol().isEmpty() ? Protocol.TCP : Protocol.valueOf(f.protocol().toUpperCase());
        final NftTracer.Result r = NftTracer.trace(program, TEST_NODE_IPS, protocol.number(),
            Ipv4Address.parse(f.source()), 33333, Ipv4Address.parse(f.destination()), f.destPort(),
            NftTracer.MAX_BRANCHES);
        final String expectedVerdict;
        final List<String> expectedDestinations;
        if ("DROP".equals(f.output()) || "REJECT".equals(f.output()))
        {
            expectedVerdict = f.output();
            expectedDestinations = List.of();
        }
        else if (f.output().isEmpty())
        {
            expectedVerdict = "ACCEPT";
            expectedDestinations = List.of(f.destination() + ":" + f.destPort());
        }
        else
        {
            expectedVerdict = "DNAT";
            expectedDestinations = Arrays.stream(f.output().split(", ")).sorted().distinct().toList();
        }
        final String what = f.name() + ": " + protocol.lowerCase() + " " + f.source() + " -> " + f.destination() + ":" + f.destPort()
            + ": expected " + (f.output().isEmpty() ? "\"\"" : f.output()) + (f.masq() ? " masq" : "") + ", got "
            + r.verdict() + " " + r.destinations() + (r.masquerade() ? " masq" : "") + "\n    "
            + String.join("\n    ", r.path());
        assertThat(r.truncated()).as(what).isFalse();
        assertThat(r.verdict()).as(what).isEqualTo(expectedVerdict);
        assertThat(r.destinations()).as(what).isEqualTo(expectedDestinations);
        assertThat(r.masquerade()).as(what).isEqualTo(f.masq());
    }

    // ---- kube-proxy's test functions

    @TestFactory
    Stream<DynamicNode> TestNoEndpointsReject()
    {
        final NftProgram program = program(List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.41",
            List.of(EXTERNAL_IP), List.of("1.2.3.4"), List.of(), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, 0,
            port("p80", Protocol.TCP, 80, "", 3001))), List.of());
        return run(program,
            flow("pod to cluster IP with no endpoints", "10.0.0.2", "172.30.0.41", 80, "REJECT", false),
            flow("external to external IP with no endpoints", EXTERNAL_CLIENT, EXTERNAL_IP, 80, "REJECT", false),
            flow("pod to NodePort with no endpoints", "10.0.0.2", NODE_IP, 3001, "REJECT", false),
            flow("external to NodePort with no endpoints", EXTERNAL_CLIENT, NODE_IP, 3001, "REJECT", false),
            flow("pod to LoadBalancer IP with no endpoints", "10.0.0.2", "1.2.3.4", 80, "REJECT", false),
            flow("external to LoadBalancer IP with no endpoints", EXTERNAL_CLIENT, "1.2.3.4", 80, "REJECT", false));
    }

    @TestFactory
    Stream<DynamicNode> TestClusterIPGeneral()
    {
        final NftProgram program = program(
            List.of(
                clusterIP("ns1", "svc1", "172.30.0.41", TrafficPolicy.CLUSTER, port("http", Protocol.TCP, 80, "", 0)),
                clusterIP("ns2", "svc2", "172.30.0.42", TrafficPolicy.CLUSTER,
                    port("http", Protocol.TCP, 80, "", 0),
                    port("https", Protocol.TCP, 443, "8443", 0),
                    port("dns-udp", Protocol.UDP, 53, "", 0),
                    port("dns-tcp", Protocol.TCP, 53, "5353", 0),
                    port("dns-sctp", Protocol.SCTP, 53, "", 0))),
            List.of(
                slice("ns1", "svc1-1", "svc1", List.of(ep("10.180.0.1", NODE_NAME)), epPort("http", Protocol.TCP, 80)),
                slice("ns2", "svc2-1", "svc2", List.of(ep("10.180.0.1", NODE_NAME), ep("10.180.2.1", "node2")),
                    epPort("http", Protocol.TCP, 80),
                    epPort("https", Protocol.TCP, 8443),
                    epPort("dns-udp", Protocol.UDP, 53),
                    epPort("dns-tcp", Protocol.TCP, 5353),
                    epPort("dns-sctp", Protocol.SCTP, 53))));
        return run(program,
            flow("simple clusterIP", "10.180.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
            flow("hairpin to cluster IP", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true),
            flow("clusterIP with multiple endpoints", "10.180.0.2", "172.30.0.42", 80,
                "10.180.0.1:80, 10.180.2.1:80", false),
            flow("clusterIP with TargetPort", "10.180.0.2", "172.30.0.42", 443, "10.180.0.1:8443, 10.180.2.1:8443",
                false),
            flow("clusterIP with TCP, UDP, and SCTP on same port (TCP)", "10.180.0.2", "172.30.0.42", 53,
                "10.180.0.1:5353, 10.180.2.1:5353", false),
            // upstream really names the UDP case "(TCP)" too
            flow("clusterIP with TCP, UDP, and SCTP on same port (TCP)", "udp", "10.180.0.2", "172.30.0.42", 53,
                "10.180.0.1:53, 10.180.2.1:53", false),
            flow("clusterIP with TCP, UDP, and SCTP on same port (SCTP)", "sctp", "10.180.0.2", "172.30.0.42", 53,
                "10.180.0.1:53, 10.180.2.1:53", false),
            flow("TCP-only port does not match UDP traffic", "udp", "10.180.0.2", "172.30.0.42", 80, "REJECT", false),
            flow("svc1 does not accept svc2's ports", "10.180.0.2", "172.30.0.41", 443, "REJECT", false),
            flow("packet to unallocated cluster ip", "10.180.0.2", "172.30.0.50", 80, "DROP", false));
    }

    @TestFactory
    Stream<DynamicNode> TestLoadBalancer()
    {
        // the leading space of " 203.0.113.0/25" is upstream's: it must be ignored
        final NftProgram program = program(
            List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.41", List.of(),
                List.of("1.2.3.4", "5.6.7.8"), List.of("192.168.0.0/24", " 203.0.113.0/25"), TrafficPolicy.CLUSTER,
                TrafficPolicy.CLUSTER, 0, port("p80", Protocol.TCP, 80, "", 3001))),
            List.of(slice("ns1", "svc1-1", "svc1", List.of(ep("10.180.0.1", null)), epPort("p80", Protocol.TCP, 80))));
        final String ep = "10.180.0.1:80";
        return run(program,
            flow("pod to cluster IP", "10.0.0.2", "172.30.0.41", 80, ep, false),
            flow("external to nodePort", EXTERNAL_CLIENT, NODE_IP, 3001, ep, true),
            flow("nodePort bypasses LoadBalancerSourceRanges", EXTERNAL_CLIENT_BLOCKED, NODE_IP, 3001, ep, true),
            flow("accepted external to LB1", EXTERNAL_CLIENT, "1.2.3.4", 80, ep, true),
            flow("accepted external to LB2", EXTERNAL_CLIENT, "5.6.7.8", 80, ep, true),
            flow("blocked external to LB1", EXTERNAL_CLIENT_BLOCKED, "1.2.3.4", 80, "DROP", false),
            flow("blocked external to LB2", EXTERNAL_CLIENT_BLOCKED, "5.6.7.8", 80, "DROP", false),
            flow("pod to LB1 (blocked by LoadBalancerSourceRanges)", "10.0.0.2", "1.2.3.4", 80, "DROP", false),
            flow("pod to LB2 (blocked by LoadBalancerSourceRanges)", "10.0.0.2", "5.6.7.8", 80, "DROP", false),
            flow("node to LB1 (allowed by LoadBalancerSourceRanges)", NODE_IP, "1.2.3.4", 80, ep, true),
            flow("node to LB2 (allowed by LoadBalancerSourceRanges)", NODE_IP, "5.6.7.8", 80, ep, true),
            flow("same node to LB1, SNATted to LB1 (implicitly allowed)", "1.2.3.4", "1.2.3.4", 80, ep, true),
            flow("same node to LB2, SNATted to LB2 (implicitly allowed)", "5.6.7.8", "5.6.7.8", 80, ep, true));
    }

    @TestFactory
    Stream<DynamicNode> TestNodePorts()
    {
        // IPv6 subtests ("ipv6", "ipv6, multiple nodeport-addresses") skipped: dpbench's nftables mode is IPv4 only
        final ClusterModel cluster = new ClusterModel(
            List.of(service("ns1", "svc1", ServiceType.NODE_PORT, "172.30.0.41", List.of(), List.of(), List.of(),
                TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, 0, port("p80", Protocol.TCP, 80, "", 3001))),
            List.of(slice("ns1", "svc1-1", "svc1", List.of(ep("10.180.0.1", null), ep("10.180.2.1", NODE_NAME)),
                epPort("p80", Protocol.TCP, 80))));
        final String output = "10.180.0.1:80, 10.180.2.1:80";
        final List<Flow> common = List.of(
            flow("pod to cluster IP", "10.0.0.2", "172.30.0.41", 80, output, false),
            flow("external to nodePort", EXTERNAL_CLIENT, NODE_IP, 3001, output, true),
            flow("node to nodePort", NODE_IP, NODE_IP, 3001, output, true));

        // "ipv4": nodePortAddresses nil, so NewFakeProxier's 192.168.0.2/32 (2001:db8::1/128 is IPv6)
        final List<Flow> ipv4 = new ArrayList<>(common);
        ipv4.add(flow("secondary nodeIP ignores NodePorts", EXTERNAL_CLIENT, NODE_IP_ALT, 3001, "", false));

        // "ipv4, multiple nodeport-addresses": 192.168.0.0/24, 192.168.1.0/24 (and 2001:db8::/64, IPv6): the node's
        // addresses inside them are 192.168.0.2 and 192.168.1.2
        final NftablesSettings multiple = NftablesSettings.of(node(false), POD_CIDR, "192.168.0.0/24,192.168.1.0/24",
            SERVICE_CIDRS, MARK);
        assertThat(multiple.nodePortIPs()).containsExactly(NODE_IP, NODE_IP_ALT);
        final List<Flow> ipv4Multiple = new ArrayList<>(common);
        ipv4Multiple.add(flow("external to nodePort on secondary IP", EXTERNAL_CLIENT, NODE_IP_ALT, 3001, output, true));

        return Stream.of(
            subtest("ipv4", run(program(cluster, node(false), NftablesSettings.kubeProxyTests()), ipv4)),
            subtest("ipv4, multiple nodeport-addresses", run(program(cluster, node(false), multiple), ipv4Multiple)));
    }

    /** The LoadBalancer Service of TestExternalTrafficPolicyLocal / ...Cluster, and its endpoints. */
    static NftProgram externalTrafficPolicyProgram(final TrafficPolicy etp, final int healthCheckNodePort)
    {
        return program(
            List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.41", List.of(EXTERNAL_IP),
                List.of("1.2.3.4"), List.of(), etp, TrafficPolicy.CLUSTER, healthCheckNodePort,
                port("p80", Protocol.TCP, 80, "80", 3001))),
            List.of(slice("ns1", "svc1-1", "svc1", List.of(ep("10.180.0.1", null), ep("10.180.2.1", NODE_NAME)),
                epPort("p80", Protocol.TCP, 80))));
    }

    @TestFactory
    Stream<DynamicNode> TestExternalTrafficPolicyLocal()
    {
        final NftProgram program = externalTrafficPolicyProgram(TrafficPolicy.LOCAL, 30000);
        final String both = "10.180.0.1:80, 10.180.2.1:80";
        final String local = "10.180.2.1:80";
        return run(program,
            flow("pod to cluster IP hits both endpoints, unmasqueraded", "10.0.0.2", "172.30.0.41", 80, both, false),
            flow("pod to external IP hits both endpoints, unmasqueraded", "10.0.0.2", EXTERNAL_IP, 80, both, false),
            flow("external to external IP hits only local endpoint, unmasqueraded", EXTERNAL_CLIENT, EXTERNAL_IP, 80,
                local, false),
            flow("pod to LB IP hits only both endpoints, unmasqueraded", "10.0.0.2", "1.2.3.4", 80, both, false),
            flow("external to LB IP hits only local endpoint, unmasqueraded", EXTERNAL_CLIENT, "1.2.3.4", 80, local,
                false),
            flow("pod to NodePort hits both endpoints, unmasqueraded", "10.0.0.2", NODE_IP, 3001, both, false),
            flow("external to NodePort hits only local endpoint, unmasqueraded", EXTERNAL_CLIENT, NODE_IP, 3001, local,
                false));
    }

    @TestFactory
    Stream<DynamicNode> TestExternalTrafficPolicyCluster()
    {
        final NftProgram program = externalTrafficPolicyProgram(TrafficPolicy.CLUSTER, 0);
        final String both = "10.180.0.1:80, 10.180.2.1:80";
        return run(program,
            flow("pod to cluster IP hits both endpoints, unmasqueraded", "10.0.0.2", "172.30.0.41", 80, both, false),
            flow("pod to external IP hits both endpoints, masqueraded", "10.0.0.2", EXTERNAL_IP, 80, both, true),
            flow("external to external IP hits both endpoints, masqueraded", EXTERNAL_CLIENT, EXTERNAL_IP, 80, both,
                true),
            flow("pod to LB IP hits both endpoints, masqueraded", "10.0.0.2", "1.2.3.4", 80, both, true),
            flow("external to LB IP hits both endpoints, masqueraded", EXTERNAL_CLIENT, "1.2.3.4", 80, both, true),
            flow("pod to NodePort hits both endpoints, masqueraded", "10.0.0.2", NODE_IP, 3001, both, true),
            flow("external to NodePort hits both endpoints, masqueraded", EXTERNAL_CLIENT, NODE_IP, 3001, both, true));
    }

    @TestFactory
    Stream<DynamicNode> TestInternalTrafficPolicy()
    {
        record Case(String name, TrafficPolicy itp, List<Endpoint> endpoints, Flow flow)
        {
        }
        final List<Case> cases = List.of(
            new Case("internalTrafficPolicy is cluster", TrafficPolicy.CLUSTER,
                List.of(ep("10.0.1.1", NODE_NAME), ep("10.0.1.2", "node1"), ep("10.0.1.3", "node2")),
                new Flow("pod to ClusterIP hits all endpoints", "", "10.0.0.2", "172.30.1.1", 80,
                    "10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80", false)),
            new Case("internalTrafficPolicy is local and there is one local endpoint", TrafficPolicy.LOCAL,
                List.of(ep("10.0.1.1", NODE_NAME), ep("10.0.1.2", "node1"), ep("10.0.1.3", "node2")),
                new Flow("pod to ClusterIP hits only local endpoint", "", "10.0.0.2", "172.30.1.1", 80,
                    "10.0.1.1:80", false)),
            new Case("internalTrafficPolicy is local and there are multiple local endpoints", TrafficPolicy.LOCAL,
                List.of(ep("10.0.1.1", NODE_NAME), ep("10.0.1.2", NODE_NAME), ep("10.0.1.3", "node2")),
                new Flow("pod to ClusterIP hits all local endpoints", "", "10.0.0.2", "172.30.1.1", 80,
                    "10.0.1.1:80, 10.0.1.2:80", false)),
            new Case("internalTrafficPolicy is local and there are no local endpoints", TrafficPolicy.LOCAL,
                List.of(ep("10.0.1.1", "node0"), ep("10.0.1.2", "node1"), ep("10.0.1.3", "node2")),
                new Flow("no endpoints", "", "10.0.0.2", "172.30.1.1", 80, "DROP", false)));
        return cases.stream().map(c ->
        {
            final List<Service> services = List.of(
                clusterIP("ns1", "svc1", "172.30.1.1", c.itp(), port("", Protocol.TCP, 80, "", 0)));
            final NftProgram withEndpoints = program(services,
                List.of(slice("ns1", "svc1-1", "svc1", c.endpoints(), epPort("", Protocol.TCP, 80))));
            final NftProgram endpointsDeleted = program(services, List.of());
            return subtest(c.name(), Stream.concat(run(withEndpoints, c.flow()),
                run(endpointsDeleted, flow("endpoints deleted", "10.0.0.2", "172.30.1.1", 80, "REJECT", false))));
        });
    }

    /** TestTerminatingEndpointsTrafficPolicyLocal / ...Cluster: one subtest, then its slice deleted. */
    static DynamicContainer terminatingSubtest(final TrafficPolicy etp, final String name,
        final List<Endpoint> endpoints, final Flow... flows)
    {
        final List<Service> services = List.of(service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.1.1",
            List.of(), List.of("1.2.3.4"), List.of(), etp, TrafficPolicy.CLUSTER, 30000,
            port("", Protocol.TCP, 80, "80", 0)));
        final NftProgram withEndpoints = program(services,
            List.of(slice("ns1", "svc1-1", "svc1", endpoints, epPort("", Protocol.TCP, 80))));
        final NftProgram endpointsDeleted = program(services, List.of());
        return subtest(name, Stream.concat(run(withEndpoints, flows), run(endpointsDeleted,
            flow("pod to clusterIP after endpoints deleted", "10.0.0.2", "172.30.1.1", 80, "REJECT", false),
            flow("external to LB after endpoints deleted", EXTERNAL_CLIENT, "1.2.3.4", 80, "REJECT", false))));
    }

    @TestFactory
    Stream<DynamicNode> TestTerminatingEndpointsTrafficPolicyLocal()
    {
        final TrafficPolicy local = TrafficPolicy.LOCAL;
        return Stream.of(
            terminatingSubtest(local, "ready endpoints exist",
                List.of(
                    ep("10.0.1.1", true, true, false, NODE_NAME),
                    ep("10.0.1.2", true, true, false, NODE_NAME),
                    ep("10.0.1.3", false, true, true, NODE_NAME),
                    ep("10.0.1.4", false, false, true, NODE_NAME),
                    ep("10.0.1.5", true, true, false, "node-1")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "10.0.1.1:80, 10.0.1.2:80", false)),
            terminatingSubtest(local, "only terminating endpoints exist",
                List.of(
                    ep("10.0.1.2", false, true, true, NODE_NAME),
                    ep("10.0.1.3", false, true, true, NODE_NAME),
                    ep("10.0.1.4", false, false, true, NODE_NAME),
                    ep("10.0.1.5", true, true, false, "node-1")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.5:80", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "10.0.1.2:80, 10.0.1.3:80", false)),
            terminatingSubtest(local, "terminating endpoints on remote node",
                List.of(ep("10.0.1.5", false, true, true, "node-1")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.5:80", false),
                flow("external to LB, no locally-usable endpoints", EXTERNAL_CLIENT, "1.2.3.4", 80, "DROP", false)),
            terminatingSubtest(local, "no usable endpoints on any node",
                List.of(
                    ep("10.0.1.5", false, false, true, NODE_NAME),
                    ep("10.0.1.5", false, false, true, "node-1")),
                flow("pod to clusterIP, no usable endpoints", "10.0.0.2", "172.30.1.1", 80, "REJECT", false),
                flow("external to LB, no usable endpoints", EXTERNAL_CLIENT, "1.2.3.4", 80, "REJECT", false)));
    }

    @TestFactory
    Stream<DynamicNode> TestTerminatingEndpointsTrafficPolicyCluster()
    {
        final TrafficPolicy cluster = TrafficPolicy.CLUSTER;
        return Stream.of(
            terminatingSubtest(cluster, "ready endpoints exist",
                List.of(
                    ep("10.0.1.1", true, true, false, NODE_NAME),
                    ep("10.0.1.2", true, true, false, NODE_NAME),
                    ep("10.0.1.3", false, true, true, "another-node"),
                    ep("10.0.1.4", false, false, true, "another-node"),
                    ep("10.0.1.5", true, true, false, "another-node")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80", true)),
            terminatingSubtest(cluster, "only terminating endpoints exist",
                List.of(
                    ep("10.0.1.2", false, true, true, NODE_NAME),
                    ep("10.0.1.3", false, true, true, NODE_NAME),
                    ep("10.0.1.4", false, false, true, "another-node"),
                    ep("10.0.1.5", false, true, true, "another-node")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80", true)),
            terminatingSubtest(cluster, "terminating endpoints on remote node",
                List.of(ep("10.0.1.5", false, true, true, "node-1")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "10.0.1.5:80", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "10.0.1.5:80", true)),
            terminatingSubtest(cluster, "no usable endpoints on any node",
                List.of(
                    ep("10.0.1.5", false, false, true, NODE_NAME),
                    ep("10.0.1.5", false, false, true, "node-1")),
                flow("pod to clusterIP", "10.0.0.2", "172.30.1.1", 80, "REJECT", false),
                flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, "REJECT", false)));
    }

    @TestFactory
    Stream<DynamicNode> TestInternalExternalMasquerade()
    {
        final List<Service> services = List.of(
            service("ns1", "svc1", ServiceType.LOAD_BALANCER, "172.30.0.41", List.of(), List.of("1.2.3.4"), List.of(),
                TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, 30001, port("p80", Protocol.TCP, 80, "", 3001)),
            service("ns2", "svc2", ServiceType.LOAD_BALANCER, "172.30.0.42", List.of(), List.of("5.6.7.8"), List.of(),
                TrafficPolicy.LOCAL, TrafficPolicy.CLUSTER, 30002, port("p80", Protocol.TCP, 80, "", 3002)),
            service("ns3", "svc3", ServiceType.LOAD_BALANCER, "172.30.0.43", List.of(), List.of("9.10.11.12"),
                List.of(), TrafficPolicy.CLUSTER, TrafficPolicy.LOCAL, 30003, port("p80", Protocol.TCP, 80, "", 3003)));
        final List<EndpointSlice> slices = List.of(
            slice("ns1", "svc1-1", "svc1", List.of(ep("10.180.0.1", NODE_NAME), ep("10.180.1.1", "remote")),
                epPort("p80", Protocol.TCP, 80)),
            slice("ns2", "svc2-1", "svc2", List.of(ep("10.180.0.2", NODE_NAME), ep("10.180.1.2", "remote")),
                epPort("p80", Protocol.TCP, 80)),
            slice("ns3", "svc3-1", "svc3", List.of(ep("10.180.0.3", NODE_NAME), ep("10.180.1.3", "remote")),
                epPort("p80", Protocol.TCP, 80)));
        final ClusterModel model = new ClusterModel(services, slices);

        final String svc1 = "10.180.0.1:80, 10.180.1.1:80";
        final String svc2 = "10.180.0.2:80, 10.180.1.2:80";
        final String svc3 = "10.180.0.3:80, 10.180.1.3:80";
        final List<Flow> base = List.of(
            flow("pod to ClusterIP", "10.0.0.2", "172.30.0.41", 80, svc1, false),
            flow("pod to NodePort", "10.0.0.2", NODE_IP, 3001, svc1, true),
            flow("pod to LB", "10.0.0.2", "1.2.3.4", 80, svc1, true),
            flow("node to ClusterIP", NODE_IP, "172.30.0.41", 80, svc1, true),
            flow("node to NodePort", NODE_IP, NODE_IP, 3001, svc1, true),
            flow("node to LB", NODE_IP, "1.2.3.4", 80, svc1, true),
            flow("external to ClusterIP", EXTERNAL_CLIENT, "172.30.0.41", 80, svc1, true),
            flow("external to NodePort", EXTERNAL_CLIENT, NODE_IP, 3001, svc1, true),
            flow("external to LB", EXTERNAL_CLIENT, "1.2.3.4", 80, svc1, true),
            flow("pod to ClusterIP with eTP:Local", "10.0.0.2", "172.30.0.42", 80, svc2, false),
            flow("pod to NodePort with eTP:Local", "10.0.0.2", NODE_IP, 3002, svc2, false),
            flow("pod to LB with eTP:Local", "10.0.0.2", "5.6.7.8", 80, svc2, false),
            flow("node to ClusterIP with eTP:Local", NODE_IP, "172.30.0.42", 80, svc2, true),
            // upstream really sends this one to svc1's NodePort, 3001
            flow("node to NodePort with eTP:Local", NODE_IP, NODE_IP, 3001, svc1, true),
            flow("node to LB with eTP:Local", NODE_IP, "5.6.7.8", 80, svc2, true),
            flow("external to ClusterIP with eTP:Local", EXTERNAL_CLIENT, "172.30.0.42", 80, svc2, true),
            flow("external to NodePort with eTP:Local", EXTERNAL_CLIENT, NODE_IP, 3002, "10.180.0.2:80", false),
            flow("external to LB with eTP:Local", EXTERNAL_CLIENT, "5.6.7.8", 80, "10.180.0.2:80", false),
            flow("pod to ClusterIP with iTP:Local", "10.0.0.2", "172.30.0.43", 80, "10.180.0.3:80", false),
            flow("pod to NodePort with iTP:Local", "10.0.0.2", NODE_IP, 3003, svc3, true),
            flow("pod to LB with iTP:Local", "10.0.0.2", "9.10.11.12", 80, svc3, true),
            flow("node to ClusterIP with iTP:Local", NODE_IP, "172.30.0.43", 80, "10.180.0.3:80", true),
            flow("node to NodePort with iTP:Local", NODE_IP, NODE_IP, 3003, svc3, true),
            flow("node to LB with iTP:Local", NODE_IP, "9.10.11.12", 80, svc3, true),
            flow("external to ClusterIP with iTP:Local", EXTERNAL_CLIENT, "172.30.0.43", 80, "10.180.0.3:80", true),
            flow("external to NodePort with iTP:Local", EXTERNAL_CLIENT, NODE_IP, 3003, svc3, true),
            flow("external to LB with iTP:Local", EXTERNAL_CLIENT, "9.10.11.12", 80, svc3, true));

        // the subtests' overrides, as upstream writes them: flow name -> output and/or masq
        final Map<String, Boolean> noDetectorMasq = Map.of(
            "node to ClusterIP", false,
            "node to ClusterIP with eTP:Local", false,
            "node to ClusterIP with iTP:Local", false,
            "external to ClusterIP", false,
            "external to ClusterIP with eTP:Local", false,
            "external to ClusterIP with iTP:Local", false);
        final Map<String, String> noDetectorOutput = Map.of(
            "pod to NodePort with eTP:Local", "10.180.0.2:80",
            "pod to LB with eTP:Local", "10.180.0.2:80");
        final Map<String, Boolean> masqueradeAllMasq = Map.of(
            "pod to ClusterIP", true,
            "pod to ClusterIP with eTP:Local", true,
            "pod to ClusterIP with iTP:Local", true);

        record Subtest(String name, boolean masqueradeAll, boolean localDetector, Map<String, String> output,
            Map<String, Boolean> masq)
        {
        }
        final List<Subtest> subtests = List.of(
            new Subtest("base", false, true, Map.of(), Map.of()),
            new Subtest("no LocalTrafficDetector", false, false, noDetectorOutput, noDetectorMasq),
            new Subtest("masqueradeAll", true, true, Map.of(), masqueradeAllMasq),
            new Subtest("masqueradeAll, no LocalTrafficDetector", true, false, noDetectorOutput, masqueradeAllMasq));
        return subtests.stream().map(s ->
        {
            final NftProgram program = program(model, node(s.masqueradeAll()),
                settings(s.masqueradeAll(), s.localDetector()));
            final List<Flow> flows = base.stream().map(f -> f.withOutput(s.output().getOrDefault(f.name(), f.output()))
                .withMasq(s.masq().getOrDefault(f.name(), f.masq()))).toList();
            return subtest(s.name(), run(program, flows));
        });
    }
}
