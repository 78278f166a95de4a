package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.Scheduler;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * IPVS mode over the same cluster and node as the iptables packet stories: where kube-proxy's two modes behave
 * alike, the same stories hold; where they really differ, {@link #differencesFromIptablesMode()} pins the difference.
 */
class IpvsModeTest
{
    static final NodeConfig NODE = KubeProxyGoldenTestAccess.testNode().withNodeIPs(List.of("192.168.0.2", "192.168.1.2"));

    record Story(String name, String source, String destination, int port, String output, boolean masquerade)
    {
    }

    static final List<Story> SAME_AS_IPTABLES = List.of(
        new Story("pod to ClusterIP", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
        new Story("off-cluster source to ClusterIP is masqueraded", "192.168.0.3", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("hairpin: endpoint to its own Service", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("node to ClusterIP, masqueraded", "192.168.0.2", "172.30.0.41", 80, "10.180.0.1:80", true),
        new Story("ClusterIP with two endpoints: both reachable", "10.0.0.2", "172.30.0.44", 80, "10.180.0.4:80, 10.180.0.5:80", false),
        new Story("NodePort, externalTrafficPolicy Cluster", "203.0.113.2", "192.168.0.2", 3003, "10.180.0.3:80", true),
        new Story("NodePort on the node's second IP", "203.0.113.2", "192.168.1.2", 3003, "10.180.0.3:80", true),
        new Story("external IP, eTP Cluster", "203.0.113.2", "192.168.99.33", 80, "10.180.0.4:80, 10.180.0.5:80", true),
        new Story("Service without endpoints is rejected", "10.0.0.2", "172.30.0.46", 80, "REJECT", false),
        new Story("load balancer, source inside loadBalancerSourceRanges", "203.0.113.1", "5.6.7.8", 80, "10.180.0.3:80", true),
        new Story("load balancer, source outside loadBalancerSourceRanges", "203.0.113.200", "5.6.7.8", 80, "DROP", false),
        new Story("ClientIP affinity Service (first flow)", "10.0.0.2", "172.30.0.45", 80, "10.180.0.3:80", false),
        new Story("other node port: untouched", "203.0.113.2", "192.168.0.2", 9999, "192.168.0.2:9999", false),
        new Story("ClusterIP, wrong port: untouched", "10.0.0.2", "172.30.0.41", 81, "172.30.0.41:81", false));

    static IpvsProxier proxier(final String scheduler)
    {
        return new IpvsProxier(NODE, scheduler, SchedulerFlags.NONE).syncAll(KubeProxyGoldenTestAccess.overallCluster());
    }

    static void assertStory(final IpvsProxier proxier, final Story s)
    {
        final IpvsTracer.Result r = IpvsTracer.trace(proxier, 6, Ipv4Address.parse(s.source()), 33333,
            Ipv4Address.parse(s.destination()), s.port(), 0);
        final String output = "DROP".equals(r.verdict()) || "REJECT".equals(r.verdict()) ? r.verdict()
            : String.join(", ", r.destinations());
        assertThat(output).as(s.name()).isEqualTo(s.output());
        assertThat(r.masquerade()).as("masquerade: " + s.name()).isEqualTo(s.masquerade());
    }

    @Test
    void theIptablesStoriesHoldInIpvsModeWhereTheSemanticsAreTheSame()
    {
        for (final String scheduler : List.of("rr", "wrr", "lc", "wlc", "sed", "nq"))
        {
            final IpvsProxier proxier = proxier(scheduler);
            for (final Story s : SAME_AS_IPTABLES)
            {
                assertStory(proxier, s);
            }
        }
    }

    /**
     * Real differences between kube-proxy's modes for externalTrafficPolicy Local without a local endpoint: iptables
     * mode DROPs in KUBE-EXTERNAL-SERVICES, IPVS mode has a virtual service with no real server and IPVS answers ICMP
     * port unreachable (ip_vs_leave), a REJECT; and iptables mode short-circuits pod and node traffic to external
     * IPs into the cluster-wide KUBE-SVC chain, while IPVS mode's virtual service holds only local endpoints.
     */
    @Test
    void differencesFromIptablesMode()
    {
        final IpvsProxier proxier = proxier("rr");
        assertStory(proxier, new Story("NodePort eTP Local, no local endpoint: REJECT (iptables: DROP)",
            "203.0.113.2", "192.168.0.2", 3001, "REJECT", false));
        assertStory(proxier, new Story("external IP eTP Local from outside: REJECT (iptables: DROP)",
            "203.0.113.2", "192.168.99.22", 80, "REJECT", false));
        assertStory(proxier, new Story("external IP eTP Local from a pod: REJECT (iptables: 10.180.0.2:80 via KUBE-SVC)",
            "10.0.0.2", "192.168.99.22", 80, "REJECT", false));
        assertStory(proxier, new Story("health-check node port: no virtual service, untouched as in iptables",
            "203.0.113.2", "192.168.0.2", 30000, "192.168.0.2:30000", false));
    }

    @Test
    void clientIPAffinityIsPersistence()
    {
        final IpvsProxier proxier = new IpvsProxier(NODE, "rr", SchedulerFlags.NONE).syncAll(
            SyntheticCluster.generate(1, 5, 3, SyntheticCluster.Mix.CLUSTER_IP));
        final VirtualService vs = proxier.table().find(6, Ipv4Address.parse("10.96.0.1"), 80);
        assertThat(vs.persistenceSeconds()).isZero();
        // the same Service with affinity: every flow of one client lands on one server, other clients rotate
        final ClusterModel sticky = KubeProxyGoldenTestAccess.withAffinity(SyntheticCluster.generate(1, 5, 3,
            SyntheticCluster.Mix.CLUSTER_IP), 600);
        final IpvsProxier p2 = new IpvsProxier(NODE, "rr", SchedulerFlags.NONE).syncAll(sticky);
        final IpvsClassifier c = new IpvsClassifier(p2);
        final IpvsFlow f = new IpvsFlow();
        int first = -1;
        for (int i = 0; i < 100; i++)
        {
            f.reset(6, Ipv4Address.parse("10.244.9.9"), 40000 + i, Ipv4Address.parse("10.96.0.1"), 80);
            f.nowNanos = i * 1_000_000_000L;
            assertThat(c.classifyNewFlow(f)).isEqualTo(IpvsFlow.DNAT);
            if (first < 0)
            {
                first = f.server().address();
            }
            assertThat(f.server().address()).isEqualTo(first);
        }
        // after the timeout (600 s idle) the client is scheduled afresh: rr moves on
        f.reset(6, Ipv4Address.parse("10.244.9.9"), 50000, Ipv4Address.parse("10.96.0.1"), 80);
        f.nowNanos = 2_000_000_000_000L;
        c.classifyNewFlow(f);
        assertThat(f.server().address()).isNotEqualTo(first);
    }

    @Test
    void incrementalSyncTouchesOnlyTheChangedService()
    {
        final ClusterModel cluster = SyntheticCluster.generate(200, 3, 5, SyntheticCluster.Mix.CLUSTER_IP);
        // mh with mh-fallback: flows hashed to a weight-0 server go to the next usable one (without it they fail)
        final IpvsProxier proxier = new IpvsProxier(NodeConfig.defaults(), "mh", new SchedulerFlags(true, false)).syncAll(cluster);
        assertThat(proxier.table().size()).isEqualTo(200);
        final VirtualService other = proxier.table().find(6, Ipv4Address.parse("10.96.0.7"), 80);
        final Scheduler otherScheduler = other.scheduler();
        final VirtualService vs = proxier.table().find(6, Ipv4Address.parse("10.96.0.1"), 80);
        final RealServer gone = vs.destination(0);
        assertThat(vs.removeDestination(gone.address(), gone.port())).isTrue();
        assertThat(vs.destinationCount()).isEqualTo(2);
        assertThat(vs.reweight(vs.destination(0).address(), vs.destination(0).port(), 0)).isTrue();
        // weight 0: no new flows go there
        final IpvsClassifier c = new IpvsClassifier(proxier);
        final IpvsFlow f = new IpvsFlow();
        for (int i = 0; i < 1000; i++)
        {
            f.reset(6, Ipv4Address.parse("10.244.0.0") + i, 40000, Ipv4Address.parse("10.96.0.1"), 80);
            c.classifyNewFlow(f);
            assertThat(f.server()).isSameAs(vs.destination(1));
        }
        assertThat(proxier.table().find(6, Ipv4Address.parse("10.96.0.7"), 80)).isSameAs(other);
        assertThat(other.scheduler()).isSameAs(otherScheduler);

        proxier.removeService(cluster.services().get(1));
        assertThat(proxier.table().size()).isEqualTo(199);
        proxier.addService(cluster.services().get(1), ServicePortEndpoints.of(cluster, NodeConfig.defaults()));
        assertThat(proxier.table().size()).isEqualTo(200);
        assertThat(proxier.table().find(6, Ipv4Address.parse("10.96.0.7"), 80)).isSameAs(other);
    }

    @Test
    void ipvsadmSaveRoundTripsAndKeepsTheKernelListOrder() throws Exception
    {
        final IpvsProxier proxier = new IpvsProxier(NODE, "wrr", SchedulerFlags.NONE).syncAll(
            SyntheticCluster.generate(300, 3, 8, SyntheticCluster.Mix.REALISTIC));
        final String text = IpvsadmFormat.render(proxier.table(), SchedulerFlags.NONE);
        assertThat(text).containsPattern("-A -t 10\\.96\\.0\\.\\d+:80 -s wrr\n").containsPattern("-A -t 10\\.96\\.0\\.\\d+:80 -s wrr -p 10800\n").contains(" -m -w 1\n");
        final VirtualServiceTable parsed = IpvsadmFormat.parse(text, "save", NODE.nodeIPs());
        final String again = IpvsadmFormat.render(parsed, SchedulerFlags.NONE);
        final String[] a = text.split("\n");
        final String[] b = again.split("\n");
        for (int i = 0; i < Math.min(a.length, b.length); i++)
        {
            assertThat(b[i]).as("line %d", i + 1).isEqualTo(a[i]);
        }
        assertThat(again).isEqualTo(text);
        assertThat(parsed.size()).isEqualTo(proxier.table().size());
        // endpoints are added in sorted order; the kernel inserts at the head, so the list is reverse-sorted
        final VirtualService vs = parsed.all().stream().filter(v -> v.destinationCount() == 3).findFirst().orElseThrow();
        assertThat(Ipv4Address.toString(vs.destination(0).address()).compareTo(
            Ipv4Address.toString(vs.destination(vs.destinationCount() - 1).address()))).isPositive();
    }

    @Test
    void ipvsadmErrorsNameTheLine()
    {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> IpvsadmFormat.parse(
            "-A -t 10.96.0.1:80 -s rr\n-a -t 10.96.0.1:80 -r 10.244.0.5:8080 -g -w 1\n", "f", List.of()))
            .hasMessage("f:2: -g: only masquerading (-m, NAT) is modelled; kube-proxy uses -m");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> IpvsadmFormat.parse(
            "-A -t 10.96.0.1:80 -s fancy\n", "f", List.of())).hasMessageStartingWith("f:1: ");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> IpvsadmFormat.parse(
            "-a -t 10.96.0.1:80 -r 10.244.0.5:8080 -m -w 1\n", "f", List.of()))
            .hasMessage("f:1: -a before its service's -A line");
    }
}
