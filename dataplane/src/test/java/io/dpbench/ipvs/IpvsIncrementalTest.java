package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.sched.Schedulers;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pieces the control path changes IPVS state with: specs, build, install, uninstall, templates across changes. */
class IpvsIncrementalTest
{
    private static final NodeConfig NODE = NodeConfig.defaults();

    private static int ip(final String text)
    {
        return Ipv4Address.parse(text);
    }

    @Test
    void persistenceTemplatesFollowTheirServerWhenTheListShifts()
    {
        final VirtualService vs = new VirtualService(6, ip("10.96.0.1"), 80, Schedulers.create("rr", SchedulerFlags.NONE),
            600);
        for (final String s : List.of("10.244.1.1", "10.244.1.2", "10.244.1.3"))
        {
            vs.addDestination(new RealServer(ip(s), 8080, 1));
        }
        final int[] bound = new int[12];
        for (int c = 0; c < bound.length; c++)
        {
            bound[c] = vs.destination(vs.schedule(ip("10.244.0.2") + c, 1000, 0)).address();
        }
        // an add puts the new server at the head: every index moves by one, each client keeps its server
        vs.addDestination(new RealServer(ip("10.244.1.4"), 8080, 1));
        for (int c = 0; c < bound.length; c++)
        {
            assertThat(vs.destination(vs.schedule(ip("10.244.0.2") + c, 1001, 1_000_000_000L)).address())
                .as("client %d after an add", c).isEqualTo(bound[c]);
        }
        // a delete: the deleted server's clients are scheduled afresh, every other client keeps its server
        vs.removeDestination(ip("10.244.1.2"), 8080);
        for (int c = 0; c < bound.length; c++)
        {
            final int now = vs.destination(vs.schedule(ip("10.244.0.2") + c, 1002, 2_000_000_000L)).address();
            assertThat(now).isNotEqualTo(ip("10.244.1.2"));
            if (bound[c] != ip("10.244.1.2"))
            {
                assertThat(now).as("client %d after a delete", c).isEqualTo(bound[c]);
            }
        }
    }

    @Test
    void specsBuildAndInstallGiveWhatAddServiceGives()
    {
        final Service lb = new Service("default", "lb", ServiceType.LOAD_BALANCER, "10.96.0.5", List.of("198.18.0.1"),
            List.of("172.16.0.1"), List.of("10.0.0.0/8"), List.of(new ServicePort("", Protocol.TCP, 80, "", 30080)),
            TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, false, 0, 0);
        final ClusterModel cluster = new ClusterModel(List.of(lb), List.of(new EndpointSlice("default", "lb-x", "lb",
            List.of(new Endpoint("10.244.1.1", true, true, false, "node-1"),
                new Endpoint("10.244.1.2", true, true, false, "node-1")),
            List.of(new EndpointSlice.EndpointPort("", Protocol.TCP, 8080)))));
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, NODE);
        final IpvsProxier proxier = new IpvsProxier(NODE, "rr", SchedulerFlags.NONE);
        final List<IpvsProxier.Spec> specs = proxier.specs(lb, endpoints);
        // cluster IP, external IP, load-balancer IP, node port on the node's one address
        assertThat(specs).extracting(IpvsProxier.Spec::kind).containsExactly(KubeServiceKind.CLUSTER_IP,
            KubeServiceKind.EXTERNAL_IP, KubeServiceKind.LOAD_BALANCER | KubeServiceKind.SOURCE_RANGES,
            KubeServiceKind.NODE_PORT);
        assertThat(specs.get(2).sourceRanges()).containsExactly("10.0.0.0/8");
        assertThat(specs.get(0).servers()).containsExactly(IpvsProxier.server(ip("10.244.1.1"), 8080),
            IpvsProxier.server(ip("10.244.1.2"), 8080));
        assertThat(specs.get(0).sameService(specs.get(0))).isTrue();
        assertThat(specs.get(0).sameService(specs.get(1))).isFalse();

        proxier.syncAll(cluster);
        assertThat(proxier.table().size()).isEqualTo(4);
        final VirtualService viaLb = proxier.table().find(6, ip("172.16.0.1"), 80);
        assertThat(proxier.sourceAllowed(viaLb, ip("10.1.2.3"))).isTrue();
        assertThat(proxier.sourceAllowed(viaLb, ip("192.0.2.1"))).isFalse();
        // the list is the add order reversed, as the kernel's head insertion leaves it
        assertThat(viaLb.destination(0).address()).isEqualTo(ip("10.244.1.2"));

        // a replacement built elsewhere, without ranges: installing it drops the old ranges with the old service
        final IpvsProxier.Spec open = new IpvsProxier.Spec(6, ip("172.16.0.1"), 80, 0, KubeServiceKind.LOAD_BALANCER,
            new long[]{IpvsProxier.server(ip("10.244.1.1"), 8080)}, List.of());
        final VirtualService replacement = proxier.build(open, open.servers());
        assertThat(proxier.install(replacement, open.sourceRanges())).isSameAs(viaLb);
        assertThat(proxier.table().find(6, ip("172.16.0.1"), 80)).isSameAs(replacement);
        assertThat(proxier.sourceAllowed(replacement, ip("192.0.2.1"))).isTrue();
        assertThat(proxier.uninstall(6, ip("172.16.0.1"), 80)).isSameAs(replacement);
        assertThat(proxier.uninstall(6, ip("172.16.0.1"), 80)).isNull();
        assertThat(proxier.table().size()).isEqualTo(3);
    }
}
