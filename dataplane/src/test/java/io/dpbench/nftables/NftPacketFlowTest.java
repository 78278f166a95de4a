package io.dpbench.nftables;

import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.iptables.PacketFlowStories;
import io.dpbench.model.Protocol;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * iptables mode's packet stories ({@link PacketFlowStories}, kube-proxy's runPacketFlowTests style) through the
 * nftables render of the same cluster, with the differences kube-proxy's nftables mode really has pinned here:
 * NodePorts only on the node's primary IP (nftables mode's default --nodeport-addresses), a ClusterIP's undefined
 * port rejected (cluster-ips-check), no NodePorts on localhost.
 */
class NftPacketFlowTest
{
    /** Stories whose outcome differs in nftables mode: name -> expected output. */
    static final Map<String, String> DIFFERENCES = Map.of(
        // kube-proxy's nftables mode defaults --nodeport-addresses to the primary IP: 192.168.1.2 takes no NodePorts
        "NodePort on the node's second IP", "192.168.1.2:3003",
        // cluster-ips-check: "Reject traffic to invalid ports of ClusterIPs" (iptables mode lets it through)
        "ClusterIP, wrong port: untouched", "REJECT");

    static NftProgram overallProgram(final NftablesSettings settings)
    {
        return NftProgram.compile(NftablesRenderer.render(KubeProxyGoldenTestAccess.overallCluster(),
            KubeProxyGoldenTestAccess.testNode().withNodeIPs(PacketFlowStories.NODE_IPS), settings));
    }

    static NftTracer.Result trace(final NftProgram program, final String source, final String destination, final int port)
    {
        return NftTracer.trace(program, PacketFlowStories.NODE_IPS, Protocol.TCP.number(), Ipv4Address.parse(source),
            33333, Ipv4Address.parse(destination), port, NftTracer.MAX_BRANCHES);
    }

    static String output(final NftTracer.Result r)
    {
        return "DROP".equals(r.verdict()) || "REJECT".equals(r.verdict()) ? r.verdict() : String.join(", ", r.destinations());
    }

    static void assertStories(final NftProgram program)
    {
        final List<String> failures = new ArrayList<>();
        for (final PacketFlowStories.Story s : PacketFlowStories.STORIES)
        {
            final NftTracer.Result r = trace(program, s.source(), s.destination(), s.port());
            final String expected = DIFFERENCES.getOrDefault(s.name(), s.output());
            final boolean masquerade = DIFFERENCES.containsKey(s.name()) ? false : s.masquerade();
            if (!output(r).equals(expected) || r.masquerade() != masquerade)
            {
                failures.add(s.name() + ": " + s.source() + " -> " + s.destination() + ":" + s.port() + ": expected "
                    + expected + (masquerade ? " masqueraded" : "") + ", got " + output(r)
                    + (r.masquerade() ? " masqueraded" : "") + "\n    " + String.join("\n    ", r.path()));
            }
        }
        assertThat(failures).as(String.join("\n", failures)).isEmpty();
    }

    @Test
    void iptablesStoriesPassWithTheRealDifferences()
    {
        assertStories(overallProgram(NftablesSettings.kubeProxyTests()));
    }

    @Test
    void theDifferencesAreRealDifferences()
    {
        for (final PacketFlowStories.Story s : PacketFlowStories.STORIES)
        {
            if (DIFFERENCES.containsKey(s.name()))
            {
                assertThat(s.output()).as(s.name()).isNotEqualTo(DIFFERENCES.get(s.name()));
            }
        }
    }

    @Test
    void noNodePortsOnLocalhost()
    {
        // iptables mode (route_localnet) DNATs the node's own 127.0.0.1:NodePort; kube-proxy's nftables mode does not
        final NftTracer.Result r = trace(overallProgram(NftablesSettings.kubeProxyTests()), "127.0.0.1", "127.0.0.1", 3003);
        assertThat(output(r)).isEqualTo("127.0.0.1:3003");
    }

    @Test
    void nodePortsOnEveryAddressWhenConfigured()
    {
        final NftablesSettings all = new NftablesSettings("0x4000", false, "10.0.0.0/8", null, List.of("172.30.0.0/16"),
            "192.168.0.2");
        final NftProgram program = overallProgram(all);
        assertThat(output(trace(program, "203.0.113.2", "192.168.1.2", 3003))).isEqualTo("10.180.0.3:80");
        assertThat(program.source().set(NftablesRenderer.NODEPORT_IPS)).isNull();
        assertThat(output(trace(program, "127.0.0.1", "127.0.0.1", 3003))).as("never on localhost").isEqualTo("127.0.0.1:3003");
    }

    @Test
    void unallocatedClusterIPIsDropped()
    {
        assertThat(output(trace(overallProgram(NftablesSettings.kubeProxyTests()), "10.0.0.2", "172.30.0.50", 80)))
            .isEqualTo("DROP");
    }
}
