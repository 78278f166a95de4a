package io.dpbench.iptables;

import io.dpbench.model.Protocol;
import io.dpbench.packet.Ipv4Address;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Packet stories in kube-proxy's style (runPacketFlowTests): source, destination, expected outcome and masquerade,
 * over {@link KubeProxyGoldenTest#overallCluster()} rendered for {@link KubeProxyGoldenTest#TEST_NODE} (cluster
 * CIDR 10.0.0.0/8, node IPs 192.168.0.2 and 192.168.1.2). Shared by the tests on dpbench's rendered text and on
 * the text the real kernel's iptables-save printed after loading it.
 */
public final class PacketFlowStories
{
    public static final List<String> NODE_IPS = List.of("192.168.0.2", "192.168.1.2");

    /** @param output "ip:port[, ip:port...]" after NAT, or DROP / REJECT */
    public record Story(String name, String source, String destination, int port, String output, boolean masquerade)
    {
    }

    public static final List<Story> STORIES = List.of(
        new Story("pod to ClusterIP", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
        new Story("off-cluster source to ClusterIP is masqueraded", "192.168.0.3", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("hairpin: endpoint to its own Service", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("node to ClusterIP (starts at OUTPUT), masqueraded", "192.168.0.2", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("ClusterIP with two endpoints: both reachable", "10.0.0.2", "172.30.0.44", 80, "10.180.0.4:80, 10.180.0.5:80", false),
        new Story("NodePort, externalTrafficPolicy Cluster", "203.0.113.2", "192.168.0.2", 3003, "10.180.0.3:80", true),
        new Story("NodePort on the node's second IP", "203.0.113.2", "192.168.1.2", 3003, "10.180.0.3:80", true),
        new Story("NodePort, externalTrafficPolicy Local, no local endpoint", "203.0.113.2", "192.168.0.2", 3001, "DROP", false),
        new Story("external IP, eTP Local, from the node", "192.168.0.2", "192.168.99.22", 80, "10.180.0.2:80", true),
        new Story("external IP, eTP Local, from a pod (short-circuit)", "10.0.0.2", "192.168.99.22", 80, "10.180.0.2:80", false),
        new Story("external IP, eTP Local, from outside", "203.0.113.2", "192.168.99.22", 80, "DROP", false),
        new Story("load-balancer IP, eTP Local, from outside", "203.0.113.2", "1.2.3.4", 80, "DROP", false),
        new Story("external IP, eTP Cluster", "203.0.113.2", "192.168.99.33", 80, "10.180.0.4:80, 10.180.0.5:80", true),
        new Story("Service without endpoints is rejected", "10.0.0.2", "172.30.0.46", 80, "REJECT", false),
        new Story("load balancer, source inside loadBalancerSourceRanges", "203.0.113.1", "5.6.7.8", 80, "10.180.0.3:80", true),
        new Story("load balancer, source outside loadBalancerSourceRanges", "203.0.113.200", "5.6.7.8", 80, "DROP", false),
        new Story("ClientIP affinity Service (first flow)", "10.0.0.2", "172.30.0.45", 80, "10.180.0.3:80", false),
        new Story("health-check node port is accepted", "203.0.113.2", "192.168.0.2", 30000, "192.168.0.2:30000", false),
        new Story("other node port: untouched", "203.0.113.2", "192.168.0.2", 9999, "192.168.0.2:9999", false),
        new Story("ClusterIP, wrong port: untouched", "10.0.0.2", "172.30.0.41", 81, "172.30.0.41:81", false));

    private PacketFlowStories()
    {
    }

    static void assertAll(final CompiledRules rules)
    {
        for (final Story s : STORIES)
        {
            final Tracer.Result r = Tracer.trace(rules, Ipv4Address.parse(NODE_IPS.get(0)), Protocol.TCP.number(),
                Ipv4Address.parse(s.source()), 33333, Ipv4Address.parse(s.destination()), s.port(), 0);
            final String output = "DROP".equals(r.verdict()) || "REJECT".equals(r.verdict()) ? r.verdict()
                : String.join(", ", r.destinations());
            final String why = s.name() + ": " + s.source() + " -> " + s.destination() + ":" + s.port()
                + "\nmatched:\n  " + String.join("\n  ", r.path());
            assertThat(output).as(why).isEqualTo(s.output());
            assertThat(r.masquerade()).as("masquerade, " + why).isEqualTo(s.masquerade());
        }
    }
}
