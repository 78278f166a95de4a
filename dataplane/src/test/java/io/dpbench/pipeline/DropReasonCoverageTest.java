package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.node.NodeCounters;
import io.dpbench.control.ClusterSync;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.IcmpFlyweight;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.UdpFlyweight;
import io.dpbench.packet.Verdict;
import io.dpbench.select.NewFlowSelector;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.concurrent.UnsafeBuffer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every reason a stage of the overlay chain declares ({@link Stage#dropReasons()}) is reached by a frame, through that
 * stage: for each stage of {@link StageChain#OVERLAY}, each declared reason needs a scenario (setup frames that must
 * pass, then one probe frame) whose probe that very stage drops with exactly that reason, and the batch's
 * {@link DropCounters} count it once (nothing else). A declared reason without a scenario fails the test, unless it is
 * in {@link #UNREACHABLE}, where each entry says why no frame can reach it through the stage.
 * <p>
 * Each scenario runs three ways: frames handed to the chain's stages without a parse (the stages parse or read the
 * headers themselves), frames parsed first as a pipeline's rx does ({@link RxParse}, the node's path), and frames
 * through a whole {@link Node} (its rx, steering and worker; the node's counters). Also: no stage drops for a reason it
 * does not declare, and the catalogue's descriptions and labels.
 */
class DropReasonCoverageTest
{
    static final int OVERLAY_NODES = 4;
    static final OverlayTopology TOPOLOGY = OverlayTopology.generate(OVERLAY_NODES);

    /** A pod on this node (node 0, 10.244.0.0/24): the client of most scenarios. */
    static final int CLIENT = Ipv4Address.parse("10.244.0.9");
    /** The one endpoint of {@link #WEB_VIP}, on node 1: DNATed traffic to it leaves over the overlay. */
    static final int WEB_POD = Ipv4Address.parse("10.244.1.5");
    static final int DNS_POD = Ipv4Address.parse("10.244.0.7");
    static final int WEB_VIP = Ipv4Address.parse("10.96.0.10");
    static final int DNS_VIP = Ipv4Address.parse("10.96.0.11");
    /** A Service without endpoints: kube-proxy REJECTs its traffic. */
    static final int EMPTY_VIP = Ipv4Address.parse("10.96.0.12");
    /** A NodePort Service with externalTrafficPolicy Local and no endpoint on this node: kube-proxy DROPs. */
    static final int LOCAL_ONLY_NODE_PORT = 30080;
    static final int NODE_IP = Ipv4Address.parse(io.dpbench.model.NodeConfig.DEFAULT_NODE_IP);
    static final int OUTSIDE = Ipv4Address.parse("203.0.113.2");

    /** Node 1's VTEP, which sends VXLAN to this node's (node 0's). */
    static final LocalVtep NODE1 = new LocalVtep(TOPOLOGY.remote(1).address(), TOPOLOGY.remote(1).underlayMac(),
        TOPOLOGY.remote(1).vtepMac(), Ipv4Address.parse("10.244.1.1"));
    static final RemoteVtep THIS_NODE = new RemoteVtep(TOPOLOGY.local().address(), TOPOLOGY.local().underlayMac(),
        TOPOLOGY.local().vtepMac());

    // frame layout of the VXLAN frames built here: outer Ethernet, outer IPv4 (no options), UDP, VXLAN, inner frame
    static final int OUTER_IP = 14;
    static final int OUTER_UDP = 34;
    static final int VXLAN = 42;
    // and of plain frames (no VLAN tag): IPv4 at 14, L4 at 34
    static final int IP = 14;
    static final int L4 = 34;

    private static final int DEFAULT_MAX_CONNTRACK = 1000;
    private static final long START_NANOS = 1_000_000_000L;

    /**
     * Declared reasons that no frame can reach through the stage that declares them, and why. Each is still reached by
     * the component the stage wraps, called directly (VxlanTest, PacketParserTest, the OverlayForwarder tests).
     */
    static final Map<DropReason, String> UNREACHABLE = new EnumMap<>(DropReason.class);

    static
    {
        // empty: the stages declare only what they can drop for. DecapStage leaves out the decapsulator's checks that
        // addressedToDevice (rx's or its own) has already passed (the IPv4 EtherType, 20 bytes of IPv4 header,
        // protocol UDP, the device's port); ConntrackNatStage leaves out BAD_L4_CHECKSUM (every parse on the node's
        // path is PacketParser(false): Linux's nf_conntrack_checksum off, NICs validate); EncapStage leaves out
        // FORWARD_NOT_IPV4 (the route stage gives a next hop to IPv4 frames only, by the same ipv4Offset test).
        // A reason a stage declares and no scenario reaches goes here, with why.
    }

    private static ClusterModel cluster;
    private static IntFunction<NewFlowSelector> selectors;

    private final PacketBatch batch = new PacketBatch();

    @BeforeAll
    static void compileRules() throws Exception
    {
        cluster = cluster();
        selectors = w -> new ClusterSync("iptables", "rr", 1, io.dpbench.model.NodeConfig.defaults(), cluster, 1).selector(0);
    }

    /**
     * web (TCP 80 -> 8080, its endpoint on node 1), dns (UDP 53 -> 5353, endpoint on this node), empty (no
     * endpoints), local-only (NodePort 30080, externalTrafficPolicy Local, its endpoint on node 2).
     */
    static ClusterModel cluster()
    {
        final List<Service> services = new ArrayList<>();
        final List<EndpointSlice> slices = new ArrayList<>();
        service(services, slices, "web", ServiceType.CLUSTER_IP, WEB_VIP, Protocol.TCP, 80, 8080, 0,
            TrafficPolicy.CLUSTER, List.of(new Endpoint(Ipv4Address.toString(WEB_POD), true, true, false, "node-1")));
        service(services, slices, "dns", ServiceType.CLUSTER_IP, DNS_VIP, Protocol.UDP, 53, 5353, 0,
            TrafficPolicy.CLUSTER, List.of(new Endpoint(Ipv4Address.toString(DNS_POD), true, true, false, "node-0")));
        service(services, slices, "empty", ServiceType.CLUSTER_IP, EMPTY_VIP, Protocol.TCP, 80, 8080, 0,
            TrafficPolicy.CLUSTER, List.of());
        service(services, slices, "local-only", ServiceType.NODE_PORT, Ipv4Address.parse("10.96.0.13"), Protocol.TCP,
            80, 8080, LOCAL_ONLY_NODE_PORT, TrafficPolicy.LOCAL,
            List.of(new Endpoint("10.244.2.9", true, true, false, "node-2")));
        return new ClusterModel(services, slices);
    }

    private static void service(final List<Service> services, final List<EndpointSlice> slices, final String name,
        final ServiceType type, final int vip, final Protocol protocol, final int port, final int targetPort,
        final int nodePort, final TrafficPolicy external, final List<Endpoint> endpoints)
    {
        services.add(new Service("default", name, type, Ipv4Address.toString(vip), List.of(), List.of(), List.of(),
            List.of(new ServicePort("p", protocol, port, Integer.toString(targetPort), nodePort)), external,
            TrafficPolicy.CLUSTER, false, Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0));
        slices.add(new EndpointSlice("default", name + "-abcde", name, endpoints,
            List.of(new EndpointSlice.EndpointPort("p", protocol, targetPort))));
    }

    /**
     * Frames for one reason: {@code frames} go in in order, every one but the last must pass, the last (the probe)
     * must be dropped by {@code stage} with {@code reason}, running {@code chain} on a node whose table holds
     * {@code maxConntrack} connections. {@code preemptedBy}: where the chain is not the overlay chain, what the overlay
     * chain does with the probe instead (the stage and reason that drop it first), or null.
     */
    record Scenario(String stage, DropReason reason, String chain, int maxConntrack, List<byte[]> frames,
        String preemptingStage, DropReason preemptedBy)
    {
    }

    static Map<DropReason, Scenario> scenarios()
    {
        final Map<DropReason, Scenario> s = new LinkedHashMap<>();

        // ---- decap: VXLAN from node 1's VTEP to this node's, each outer layer broken in turn
        final byte[] goodVxlan = vxlan(bytes(udp(WEB_POD, 40000, DNS_VIP, 53).payload(new byte[40], 40)));
        decap(s, DropReason.DECAP_BAD_OUTER_IP_HEADER, mutate(goodVxlan, f -> f.putByte(OUTER_IP, (byte)0x65)));
        decap(s, DropReason.DECAP_BAD_OUTER_IP_CHECKSUM, mutate(goodVxlan, f -> f.putByte(OUTER_IP + 8, (byte)63)));
        decap(s, DropReason.DECAP_BAD_OUTER_IP_LENGTH,
            mutate(goodVxlan, f -> patchIp(f, OUTER_IP, 2, goodVxlan.length - OUTER_IP + 1)));
        decap(s, DropReason.DECAP_OUTER_FRAGMENT, mutate(goodVxlan, f -> patchIp(f, OUTER_IP, 6, 0x2000)));
        // the IPv4 packet ends 6 bytes into the UDP header (the frame goes on: the port is still readable)
        decap(s, DropReason.DECAP_TRUNCATED_UDP, mutate(goodVxlan, f -> patchIp(f, OUTER_IP, 2, 20 + 6)));
        decap(s, DropReason.DECAP_BAD_UDP_LENGTH,
            mutate(goodVxlan, f -> f.putShort(OUTER_UDP + 4, (short)7, ByteOrder.BIG_ENDIAN)));
        decap(s, DropReason.DECAP_BAD_UDP_CHECKSUM,
            mutate(goodVxlan, f -> f.putByte(goodVxlan.length - 1, (byte)0x55)));
        decap(s, DropReason.DECAP_TRUNCATED_VXLAN, mutate(goodVxlan, f -> shortenOuterUdp(f, 8 + 4)));
        decap(s, DropReason.DECAP_BAD_VXLAN_FLAGS, mutate(goodVxlan, f -> vxlanByte(f, VXLAN, 0x00)));
        decap(s, DropReason.DECAP_UNKNOWN_VNI, mutate(goodVxlan, f -> vxlanByte(f, VXLAN + 6, 0x02)));
        decap(s, DropReason.DECAP_TRUNCATED_INNER, mutate(goodVxlan, f -> shortenOuterUdp(f, 8 + 8 + 10)));

        // ---- conntrack: the parser's verdicts on plain frames from a local pod to a Service
        final byte[] udp = bytes(udp(CLIENT, 40001, DNS_VIP, 53).payload(new byte[20], 20));
        final byte[] bareUdp = bytes(udp(CLIENT, 40002, DNS_VIP, 53));
        final byte[] tcp = bytes(tcp(CLIENT, 40003, WEB_VIP, 80, TcpFlyweight.SYN));
        final byte[] icmp = bytes(new FrameBuilder().addresses(CLIENT, WEB_VIP)
            .icmpEcho(IcmpFlyweight.TYPE_ECHO_REQUEST, 7, 1).payload(new byte[16], 16));
        conntrack(s, DropReason.TRUNCATED_ETHERNET, slice(udp, 10));
        conntrack(s, DropReason.NOT_IPV4, mutate(udp, f -> f.putShort(12, (short)0x86DD, ByteOrder.BIG_ENDIAN)));
        conntrack(s, DropReason.TOO_MANY_VLAN_TAGS, threeVlanTags(udp));
        conntrack(s, DropReason.TRUNCATED_IPV4, slice(udp, IP + 10));
        conntrack(s, DropReason.BAD_IP_VERSION, mutate(udp, f -> f.putByte(IP, (byte)0x65)));
        conntrack(s, DropReason.BAD_IHL, mutate(udp, f -> f.putByte(IP, (byte)0x44)));
        conntrack(s, DropReason.IHL_BEYOND_FRAME, mutate(bareUdp, f -> f.putByte(IP, (byte)0x4F)));
        conntrack(s, DropReason.BAD_IP_CHECKSUM, mutate(udp, f -> f.putByte(IP + 8, (byte)63)));
        conntrack(s, DropReason.TOTAL_LENGTH_BEYOND_FRAME, mutate(udp, f -> patchIp(f, IP, 2, udp.length - IP + 1)));
        conntrack(s, DropReason.TOTAL_LENGTH_BELOW_HEADER, mutate(udp, f -> patchIp(f, IP, 2, 19)));
        conntrack(s, DropReason.NON_FIRST_FRAGMENT, mutate(udp, f -> patchIp(f, IP, 6, 0x0010)));
        conntrack(s, DropReason.TRUNCATED_TCP, mutate(tcp, f -> patchIp(f, IP, 2, 20 + 10)));
        conntrack(s, DropReason.BAD_TCP_DATA_OFFSET,
            mutate(tcp, f -> f.putByte(L4 + TcpFlyweight.DATA_OFFSET_OFFSET, (byte)0x40)));
        conntrack(s, DropReason.TRUNCATED_UDP, mutate(udp, f -> patchIp(f, IP, 2, 20 + 4)));
        conntrack(s, DropReason.BAD_UDP_LENGTH, mutate(udp, f -> f.putShort(L4 + 4, (short)4, ByteOrder.BIG_ENDIAN)));
        conntrack(s, DropReason.TRUNCATED_ICMP, mutate(icmp, f -> patchIp(f, IP, 2, 20 + 4)));
        conntrack(s, DropReason.UNSUPPORTED_ICMP_TYPE, mutate(icmp, f -> f.putByte(L4, (byte)3)));
        conntrack(s, DropReason.UNSUPPORTED_PROTOCOL, mutate(udp, f -> patchIpByte(f, IP, 9, 47)));

        // ---- conntrack: the tracker, the proxy rules and NAT
        // tcp_new: a SYN/ACK cannot open a connection
        conntrack(s, DropReason.CONNTRACK_INVALID, bytes(tcp(CLIENT, 41000, WEB_VIP, 80,
            TcpFlyweight.SYN | TcpFlyweight.ACK)));
        // NodePort, externalTrafficPolicy Local, no local endpoint: DROP
        conntrack(s, DropReason.FILTERED, bytes(tcp(OUTSIDE, 41001, NODE_IP, LOCAL_ONLY_NODE_PORT, TcpFlyweight.SYN)));
        // a Service without endpoints: REJECT
        conntrack(s, DropReason.REJECTED, bytes(tcp(CLIENT, 41002, EMPTY_VIP, 80, TcpFlyweight.SYN)));
        // a table of one connection, assured (a whole handshake: early drop evicts only unassured ones), then another
        s.put(DropReason.CONNTRACK_FULL, new Scenario("conntrack", DropReason.CONNTRACK_FULL, StageChain.OVERLAY, 1,
            List.of(bytes(tcp(CLIENT, 41003, WEB_VIP, 80, TcpFlyweight.SYN)),
                vxlan(bytes(tcp(WEB_POD, 8080, CLIENT, 41003, TcpFlyweight.SYN | TcpFlyweight.ACK))),
                bytes(tcp(CLIENT, 41003, WEB_VIP, 80, TcpFlyweight.ACK)),
                bytes(tcp(CLIENT, 41004, WEB_VIP, 80, TcpFlyweight.SYN))), null, null));
        // a connection to the Service, DNATed to its pod: reply tuple web-pod:8080 -> client:41005; then the same
        // client port straight to the pod (no NAT: the rules accept it), whose reply tuple is that same one. Without
        // source NAT there is no other port to try: no free tuple.
        s.put(DropReason.NAT_CLASH, new Scenario("conntrack", DropReason.NAT_CLASH, StageChain.OVERLAY,
            DEFAULT_MAX_CONNTRACK, List.of(bytes(tcp(CLIENT, 41005, WEB_VIP, 80, TcpFlyweight.SYN)),
                bytes(tcp(CLIENT, 41005, WEB_POD, 8080, TcpFlyweight.SYN))), null, null));

        // ---- encap: frames the route stage sends to node 1
        // TTL 1 from source 0.0.0.0 to a pod on node 1: time exceeded, but icmp_send sends no error to 0.0.0.0
        s.put(DropReason.FORWARD_DROPPED_WITHOUT_ICMP, new Scenario("encap", DropReason.FORWARD_DROPPED_WITHOUT_ICMP,
            StageChain.OVERLAY, DEFAULT_MAX_CONNTRACK, List.of(bytes(udp(0, 68, WEB_POD, 8080).ttl(1))), null, null));
        // the forwarder's own header checks see only frames nothing validated before: in the overlay chain
        // conntrack drops them first (for the parser's verdict); route,encap,tx (a chain a node may run) forwards them
        final byte[] toPod = bytes(tcp(CLIENT, 41006, WEB_POD, 8080, TcpFlyweight.SYN));
        s.put(DropReason.FORWARD_MALFORMED, new Scenario("encap", DropReason.FORWARD_MALFORMED, "route,encap,tx",
            DEFAULT_MAX_CONNTRACK, List.of(mutate(toPod, f -> f.putByte(IP, (byte)0x65))), "conntrack",
            DropReason.BAD_IP_VERSION));
        s.put(DropReason.FORWARD_BAD_IP_CHECKSUM, new Scenario("encap", DropReason.FORWARD_BAD_IP_CHECKSUM,
            "route,encap,tx", DEFAULT_MAX_CONNTRACK, List.of(mutate(toPod, f -> f.putByte(IP + 8, (byte)63))),
            "conntrack", DropReason.BAD_IP_CHECKSUM));
        return s;
    }

    private static void decap(final Map<DropReason, Scenario> s, final DropReason reason, final byte[] probe)
    {
        s.put(reason, new Scenario("decap", reason, StageChain.OVERLAY, DEFAULT_MAX_CONNTRACK, List.of(probe), null,
            null));
    }

    private static void conntrack(final Map<DropReason, Scenario> s, final DropReason reason, final byte[] probe)
    {
        s.put(reason, new Scenario("conntrack", reason, StageChain.OVERLAY, DEFAULT_MAX_CONNTRACK, List.of(probe),
            null, null));
    }

    @Test
    void everyReasonEachStageOfTheOverlayChainDeclaresIsReachedThroughThatStage()
    {
        final Map<DropReason, Scenario> scenarios = scenarios();
        final SoftAssertions softly = new SoftAssertions();
        final Set<DropReason> declared = new HashSet<>();
        int reached = 0;
        for (final String name : StageChain.NAMES) // the overlay chain's stages, in its order
        {
            final List<DropReason> reasons = overlayStage(name).dropReasons();
            softly.assertThat(new HashSet<>(reasons)).as("%s declares each reason once", name).hasSize(reasons.size());
            for (final DropReason reason : reasons)
            {
                declared.add(reason);
                final Scenario scenario = scenarios.get(reason);
                if (UNREACHABLE.containsKey(reason))
                {
                    softly.assertThat(scenario).as("%s is reached by a scenario: take it off UNREACHABLE",
                        reason.label()).isNull();
                    continue;
                }
                softly.assertThat(scenario).as("no frame reaches %s (declared by stage %s)", reason.label(), name)
                    .isNotNull();
                if (scenario == null)
                {
                    continue;
                }
                softly.assertThat(scenario.stage()).as("the stage %s's scenario drops at", reason.label())
                    .isEqualTo(name);
                for (final boolean rxParse : new boolean[] {false, true})
                {
                    softly.check(() -> runThroughStages(scenario.frames(), scenario.chain(), scenario.maxConntrack(),
                        rxParse, name, reason));
                    if (scenario.preemptedBy() != null)
                    {
                        softly.check(() -> runThroughStages(scenario.frames(), StageChain.OVERLAY,
                            scenario.maxConntrack(), rxParse, scenario.preemptingStage(), scenario.preemptedBy()));
                    }
                }
                reached++;
            }
        }
        // no scenario or allow-list entry for a reason no stage declares (a stale entry)
        softly.assertThat(declared).as("reasons with a scenario are declared").containsAll(scenarios.keySet());
        softly.assertThat(declared).as("UNREACHABLE reasons are declared").containsAll(UNREACHABLE.keySet());
        softly.assertThat(reached).isEqualTo(declared.size() - UNREACHABLE.size());
        softly.assertAll();
    }

    /** The same scenarios through a node: its rx parses and steers, its worker runs the chain, its counters count. */
    @Test
    void aNodeCountsEachOfThemUnderItsReason() throws Exception
    {
        final SoftAssertions softly = new SoftAssertions();
        for (final Scenario scenario : scenarios().values())
        {
            softly.check(() -> runThroughNode(scenario.frames(), scenario.chain(), scenario.maxConntrack(),
                scenario.reason()));
        }
        softly.assertAll();
    }

    /** Stages drop only for what they declare: the route and tx stages (which declare nothing) never drop. */
    @Test
    void theOverlayChainDeclaresEveryParseConntrackDecapAndForwardReasonOnceAndRouteAndTxNone()
    {
        final Map<DropReason.Where, String> owner = new EnumMap<>(DropReason.Where.class);
        for (final String name : StageChain.NAMES)
        {
            for (final DropReason reason : overlayStage(name).dropReasons())
            {
                final String before = owner.put(reason.where(), name);
                assertThat(before == null || before.equals(name)).as("%s declared by %s and %s", reason.where(),
                    before, name).isTrue();
            }
        }
        assertThat(owner).containsExactlyInAnyOrderEntriesOf(Map.of(DropReason.Where.DECAP, "decap",
            DropReason.Where.PARSE, "conntrack", DropReason.Where.CONNTRACK, "conntrack",
            DropReason.Where.FORWARD, "encap"));
        // each of these places' reasons in full, except those the stage cannot meet (see the static block): the
        // checks a decapsulator repeats after addressedToDevice, L4 checksums (not verified on the node's path) and a
        // non-IPv4 frame at encap (route gives only IPv4 frames a next hop)
        final Set<DropReason> cannotMeet = Set.of(DropReason.DECAP_TRUNCATED_OUTER_ETHERNET, DropReason.DECAP_NOT_IPV4,
            DropReason.DECAP_TRUNCATED_OUTER_IPV4, DropReason.DECAP_NOT_UDP, DropReason.DECAP_NOT_VXLAN_PORT,
            DropReason.BAD_L4_CHECKSUM, DropReason.FORWARD_NOT_IPV4);
        for (final DropReason.Where where : owner.keySet())
        {
            final List<DropReason> all = new java.util.ArrayList<>(DropReason.of(where));
            all.removeAll(cannotMeet);
            assertThat(overlayStage(owner.get(where)).dropReasons().stream().filter(r -> r.where() == where))
                .as("%s", where).containsExactlyInAnyOrderElementsOf(all);
        }
        assertThat(overlayStage("route").dropReasons()).isEmpty();
        assertThat(overlayStage("tx").dropReasons()).isEmpty();
    }

    @Test
    void everyReasonHasADescriptionAndAUniqueLabel()
    {
        final Set<String> labels = new HashSet<>();
        final Set<String> localLabels = new HashSet<>();
        for (final DropReason reason : DropReason.values())
        {
            assertThat(reason.description()).as("%s's description", reason).isNotNull().isNotBlank();
            assertThat(reason.label()).as("%s's label", reason).isNotBlank().matches("[a-z0-9]+(-[a-z0-9]+)*");
            assertThat(labels.add(reason.label())).as("label %s is unique", reason.label()).isTrue();
            assertThat(reason.localLabel()).as("%s's local label", reason).isNotBlank();
            assertThat(localLabels.add(reason.where() + "/" + reason.localLabel())).as("local label %s is unique in %s",
                reason.localLabel(), reason.where()).isTrue();
            assertThat(DropReason.ofOrdinal(reason.ordinal())).isSameAs(reason);
        }
        assertThat(labels).hasSize(DropReason.count());
        // every verdict of the parser but OK is one PARSE reason, and the other way round
        final Set<DropReason> fromVerdicts = new HashSet<>();
        for (final Verdict verdict : Verdict.values())
        {
            if (verdict != Verdict.OK)
            {
                assertThat(verdict.reason().where()).as("%s", verdict).isEqualTo(DropReason.Where.PARSE);
                fromVerdicts.add(verdict.reason());
            }
        }
        assertThat(fromVerdicts).containsExactlyInAnyOrderElementsOf(DropReason.of(DropReason.Where.PARSE));
    }

    // ---- running a scenario

    /** Stage {@code name} of an overlay chain (a new one, its engine on a table closed at once: nothing runs). */
    private static Stage overlayStage(final String name)
    {
        try (ConntrackTable table = ConntrackTable.inMemory(16))
        {
            final StageChain chain = StageChain.build(StageChain.OVERLAY, engine(table), TOPOLOGY, VxlanConfig.flannel(),
                (sequence, timestamp, buffer, offset, length) -> { });
            for (final Stage stage : chain.stages())
            {
                if (stage.name().equals(name))
                {
                    return stage;
                }
            }
            throw new AssertionError("no stage " + name + " in " + chain);
        }
    }

    private static ConntrackNatEngine engine(final ConntrackTable table)
    {
        return new ConntrackNatEngine(selectors.apply(0), table, ConntrackTimeouts.kubernetesNode());
    }

    /**
     * Run {@code frames} through {@code chain} one batch each, stage by stage: each but the last passes every stage;
     * the last is live until stage {@code stage}, which drops it for {@code reason}. With {@code rxParse}, each frame
     * is parsed first as a pipeline's rx does (and the parse travels in the batch); without, the stages parse.
     */
    private void runThroughStages(final List<byte[]> frames, final String spec, final int maxConntrack,
        final boolean rxParse, final String stage, final DropReason reason)
    {
        final String what = reason.label() + " through " + spec + (rxParse ? ", rx parse" : ", no parse");
        final DropCounters counters = new DropCounters();
        try (ConntrackTable table = ConntrackTable.inMemory(maxConntrack))
        {
            final ConntrackNatEngine engine = engine(table);
            final StageChain chain = StageChain.build(spec, engine, TOPOLOGY, VxlanConfig.flannel(),
                (sequence, timestamp, buffer, offset, length) -> { });
            // as Node: rx looks into VXLAN for this node only where a decap stage will hand conntrack the inner frame
            final RxParse rx = new RxParse(chain.stage(DecapStage.class) != null ? TOPOLOGY.local().address() : 0,
                io.dpbench.vxlan.VxlanConfig.flannel());
            for (int k = 0; k < frames.size(); k++)
            {
                final byte[] frame = frames.get(k);
                final UnsafeBuffer in = new UnsafeBuffer(frame);
                batch.clear();
                assertThat(batch.add(in, 0, frame.length, START_NANOS + k * 1_000_000L, k)).isTrue();
                if (rxParse)
                {
                    final Verdict verdict = rx.parse(in, 0, frame.length);
                    batch.parsed(0, rx.packet, verdict, batch.offset(0), rx.tunnelled);
                }
                Stage droppedBy = null;
                for (final Stage s : chain.stages())
                {
                    final boolean live = batch.live(0);
                    s.process(batch);
                    if (live && batch.state(0) == PacketBatch.DROPPED)
                    {
                        droppedBy = s;
                        assertThat(s.dropReasons()).as("%s: stage %s drops for %s, which it does not declare", what,
                            s.name(), batch.dropReason(0)).contains(batch.dropReason(0));
                    }
                }
                batch.countDrops(counters);
                if (k < frames.size() - 1)
                {
                    assertThat(droppedBy).as("%s: setup frame %d dropped (%s)", what, k,
                        droppedBy == null ? null : batch.dropReason(0)).isNull();
                    continue;
                }
                assertThat(droppedBy).as("%s: the probe was not dropped", what).isNotNull();
                assertThat(droppedBy.name() + ": " + batch.dropReason(0)).as(what)
                    .isEqualTo(stage + ": " + reason);
                // the component behind the stage counted it too
                assertThat(componentDrops(droppedBy, reason)).as("%s: counted by %s's component", what, stage)
                    .isEqualTo(1);
            }
        }
        assertThat(counters.get(reason)).as("%s: DropCounters", what).isEqualTo(1);
        assertThat(counters.total()).as("%s: DropCounters, all reasons", what).isEqualTo(1);
    }

    private static long componentDrops(final Stage stage, final DropReason reason)
    {
        if (stage instanceof DecapStage d)
        {
            return d.decapsulator().drops(reason);
        }
        if (stage instanceof ConntrackNatStage c)
        {
            return c.dataplane().drops(reason);
        }
        if (stage instanceof EncapStage e)
        {
            return e.forwarder().drops(reason);
        }
        return -1;
    }

    /** Stage appended to a node's chain: what became of each frame, by its input sequence number. */
    private static final class Outcomes implements Stage
    {
        final Map<Long, DropReason> dropped = new ConcurrentHashMap<>();
        final Set<Long> passed = ConcurrentHashMap.newKeySet();

        @Override
        public String name()
        {
            return "outcomes";
        }

        @Override
        public void process(final PacketBatch b)
        {
            for (int i = 0; i < b.size(); i++)
            {
                if (b.state(i) == PacketBatch.DROPPED)
                {
                    dropped.put(b.sequence(i), b.dropReason(i));
                }
                else
                {
                    passed.add(b.sequence(i));
                }
            }
        }
    }

    private static void runThroughNode(final List<byte[]> frames, final String spec, final int maxConntrack,
        final DropReason reason) throws Exception
    {
        final String what = reason.label() + " through a node running " + spec;
        final Outcomes outcomes = new Outcomes();
        final NodeCounters counters;
        final NodeConfig config = NodeConfig.builder().mode("iptables").scheduler("rr").workers(1)
            .overlayNodes(OVERLAY_NODES).maxConntrack(maxConntrack).stages(spec).idle(Pipeline.Idle.BACKOFF).build();
        try (Node node = Node.open(config, cluster))
        {
            final Pipeline pipeline = node.start(w -> (sequence, timestamp, buffer, offset, length) -> { },
                output -> outcomes);
            for (int k = 0; k < frames.size(); k++)
            {
                final byte[] frame = frames.get(k);
                pipeline.submit(new UnsafeBuffer(frame), 0, frame.length, START_NANOS + k * 1_000_000L, k);
                pipeline.awaitProcessed(); // one at a time: each setup frame has passed before the next goes in
            }
            pipeline.close();
            counters = node.counters();
        }
        final long probe = frames.size() - 1;
        for (long k = 0; k < probe; k++)
        {
            assertThat(outcomes.passed).as("%s: setup frame %d passed (dropped: %s)", what, k, outcomes.dropped.get(k))
                .contains(k);
        }
        assertThat(outcomes.dropped.get(probe)).as(what).isEqualTo(reason);
        assertThat(counters.drops(reason)).as("%s: the node's count", what).isEqualTo(1);
        long total = 0;
        for (final DropReason r : DropReason.values())
        {
            total += counters.drops(r);
        }
        assertThat(total).as("%s: the node's drops, all reasons", what).isEqualTo(1);
    }

    // ---- frames

    static FrameBuilder tcp(final int source, final int sourcePort, final int destination, final int destinationPort,
        final int flags)
    {
        return new FrameBuilder().addresses(source, destination).tcp(sourcePort, destinationPort, flags);
    }

    static FrameBuilder udp(final int source, final int sourcePort, final int destination, final int destinationPort)
    {
        return new FrameBuilder().addresses(source, destination).udp(sourcePort, destinationPort);
    }

    static byte[] bytes(final FrameBuilder builder)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[builder.frameLength()]);
        builder.build(b, 0);
        return b.byteArray();
    }

    /** The frame as node 1's VTEP sends it to this node's (flannel's device: VNI 1, port 8472, UDP checksum). */
    static byte[] vxlan(final byte[] inner)
    {
        return vxlan(inner, NODE1);
    }

    /** The frame as {@code from}'s VTEP sends it to this node's. */
    static byte[] vxlan(final byte[] inner, final LocalVtep from)
    {
        final int ipLength = inner.length - 14;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[VxlanEncapsulator.HEADROOM + ipLength]);
        b.putBytes(VxlanEncapsulator.HEADROOM, inner, 14, ipLength);
        final VxlanEncapsulator encapsulator = new VxlanEncapsulator(VxlanConfig.flannel(), from);
        final int at = encapsulator.encapsulate(b, VxlanEncapsulator.HEADROOM, ipLength, THIS_NODE,
            encapsulator.sourcePortFor(b, VxlanEncapsulator.HEADROOM));
        assertThat(at).isZero();
        return b.byteArray();
    }

    static byte[] mutate(final byte[] frame, final Consumer<UnsafeBuffer> mutation)
    {
        final byte[] copy = frame.clone();
        mutation.accept(new UnsafeBuffer(copy));
        return copy;
    }

    static byte[] slice(final byte[] frame, final int length)
    {
        return java.util.Arrays.copyOf(frame, length);
    }

    /** Change an IPv4 16-bit field and fix the header checksum, so that only the field is wrong. */
    static void patchIp(final UnsafeBuffer f, final int ip, final int field, final int value)
    {
        f.putShort(ip + field, (short)value, ByteOrder.BIG_ENDIAN);
        new Ipv4Flyweight().wrap(f, ip).updateChecksum();
    }

    static void patchIpByte(final UnsafeBuffer f, final int ip, final int field, final int value)
    {
        f.putByte(ip + field, (byte)value);
        new Ipv4Flyweight().wrap(f, ip).updateChecksum();
    }

    /** Change a byte of the VXLAN header and fix the outer UDP checksum, so that only the header is wrong. */
    static void vxlanByte(final UnsafeBuffer f, final int at, final int value)
    {
        f.putByte(at, (byte)value);
        new UdpFlyweight().wrap(f, OUTER_UDP).updateChecksum(f.getInt(OUTER_IP + 12, ByteOrder.BIG_ENDIAN),
            f.getInt(OUTER_IP + 16, ByteOrder.BIG_ENDIAN));
    }

    /** Make the outer UDP datagram {@code udpLength} bytes long (IPv4 and UDP lengths agree, UDP checksum off). */
    static void shortenOuterUdp(final UnsafeBuffer f, final int udpLength)
    {
        f.putShort(OUTER_UDP + 4, (short)udpLength, ByteOrder.BIG_ENDIAN);
        f.putShort(OUTER_UDP + 6, (short)0);
        patchIp(f, OUTER_IP, 2, 20 + udpLength);
    }

    /** The frame with three 802.1Q tags before its EtherType (the parser takes two). */
    static byte[] threeVlanTags(final byte[] frame)
    {
        final byte[] tagged = new byte[frame.length + 12];
        System.arraycopy(frame, 0, tagged, 0, 12);
        final UnsafeBuffer t = new UnsafeBuffer(tagged);
        for (int i = 0; i < 3; i++)
        {
            t.putShort(12 + 4 * i, (short)0x8100, ByteOrder.BIG_ENDIAN);
            t.putShort(14 + 4 * i, (short)(100 + i), ByteOrder.BIG_ENDIAN);
        }
        System.arraycopy(frame, 12, tagged, 24, frame.length - 12);
        return tagged;
    }
}
