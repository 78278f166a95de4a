package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.node.NodeCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.IcmpFlyweight;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayTopology;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static io.dpbench.pipeline.DropReasonCoverageTest.OUTER_IP;
import static io.dpbench.pipeline.DropReasonCoverageTest.VXLAN;
import static io.dpbench.pipeline.DropReasonCoverageTest.bytes;
import static io.dpbench.pipeline.DropReasonCoverageTest.mutate;
import static io.dpbench.pipeline.DropReasonCoverageTest.tcp;
import static io.dpbench.pipeline.DropReasonCoverageTest.udp;
import static io.dpbench.pipeline.DropReasonCoverageTest.vxlan;
import static io.dpbench.pipeline.DropReasonCoverageTest.vxlanByte;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A frame is parsed once on its way through a node: by rx, where it arrives ({@link RxParse}); steering, decap,
 * conntrack/NAT, route and encap then read that parse from the batch. Through a node running the overlay chain,
 * with one worker and with two: plain TCP and UDP to Services from this node's pods, a second packet of some of
 * those connections, ICMP echo, VXLAN from the other nodes' pods to Services (decapsulated here), and malformed
 * frames (each dropped, from the one parse, under its reason). The only parser calls are rx's, one per frame; the
 * conntrack/NAT engine (which counts the verdicts) and the decap stage parse nothing.
 */
class ParseOnceTest
{
    private static final int OVERLAY_NODES = 4;
    private static final OverlayTopology TOPOLOGY = OverlayTopology.generate(OVERLAY_NODES);
    private static final long START_NANOS = 1_000_000_000L;

    /** The frames and what the node should make of them. */
    private static final class Traffic
    {
        final List<byte[]> frames = new ArrayList<>();
        final Map<DropReason, Long> drops = new EnumMap<>(DropReason.class);
        /** Frames the decap stage should decapsulate. */
        long decapsulated;
        /** Frames that reach conntrack (all but those decap drops). */
        long toConntrack;

        void add(final byte[] frame, final boolean vxlan)
        {
            frames.add(frame);
            decapsulated += vxlan ? 1 : 0;
            toConntrack++;
        }

        /** A frame that stage drops for {@code reason}. */
        void dropped(final byte[] frame, final boolean vxlan, final DropReason reason)
        {
            frames.add(frame);
            drops.merge(reason, 1L, Long::sum);
            final boolean decapDrop = reason.where() == DropReason.Where.DECAP;
            decapsulated += vxlan && !decapDrop ? 1 : 0;
            toConntrack += decapDrop ? 0 : 1;
        }
    }

    /** Services with endpoints, by protocol: (ClusterIP, port) pairs. */
    private static List<int[]> services(final ClusterModel cluster, final Protocol protocol)
    {
        final List<int[]> out = new ArrayList<>();
        for (final Service s : cluster.services())
        {
            final boolean endpoints = cluster.endpointSlices().stream()
                .anyMatch(e -> e.serviceName().equals(s.name()) && e.namespace().equals(s.namespace())
                    && e.endpoints().stream().anyMatch(p -> p.ready()));
            for (final ServicePort p : s.ports())
            {
                if (endpoints && p.protocol() == protocol && s.hasClusterIP())
                {
                    out.add(new int[] {Ipv4Address.parse(s.clusterIP()), p.port()});
                }
            }
        }
        return out;
    }

    private static Traffic traffic(final ClusterModel cluster)
    {
        final List<int[]> tcp = services(cluster, Protocol.TCP);
        final List<int[]> udp = services(cluster, Protocol.UDP);
        assertThat(tcp).isNotEmpty();
        assertThat(udp).isNotEmpty();
        final Traffic t = new Traffic();
        for (int i = 0; i < 120; i++)
        {
            final int[] ts = tcp.get(i % tcp.size());
            final int[] us = udp.get(i % udp.size());
            final int localPod = OverlayTopology.POD_NETWORK + 200 + (i % 50); // this node's pod CIDR
            final int node = 1 + i % (OVERLAY_NODES - 1);
            final int remotePod = OverlayTopology.POD_NETWORK + (node << 8) + 200 + (i % 50);
            final LocalVtep from = new LocalVtep(TOPOLOGY.remote(node).address(), TOPOLOGY.remote(node).underlayMac(),
                TOPOLOGY.remote(node).vtepMac(), OverlayTopology.POD_NETWORK + (node << 8) + 1);
            final int port = 20000 + i;
            t.add(bytes(tcp(localPod, port, ts[0], ts[1], TcpFlyweight.SYN)), false);
            t.add(bytes(udp(localPod, port, us[0], us[1]).payload(new byte[48], 48)), false);
            if (i % 3 == 0) // connections already there: a retransmitted SYN, a second datagram
            {
                t.add(bytes(tcp(localPod, port, ts[0], ts[1], TcpFlyweight.SYN)), false);
                t.add(bytes(udp(localPod, port, us[0], us[1]).payload(new byte[100], 100)), false);
            }
            t.add(vxlan(bytes(tcp(remotePod, port, ts[0], ts[1], TcpFlyweight.SYN)), from), true);
            t.add(vxlan(bytes(udp(remotePod, port, us[0], us[1]).payload(new byte[30], 30)), from), true);
            if (i % 10 == 0)
            {
                t.add(bytes(new FrameBuilder().addresses(localPod, ts[0])
                    .icmpEcho(IcmpFlyweight.TYPE_ECHO_REQUEST, port, 1).payload(new byte[56], 56)), false);
            }
            if (i % 12 == 0) // a few malformed frames, each judged from its one parse
            {
                final byte[] good = bytes(udp(localPod, port + 1000, us[0], us[1]).payload(new byte[20], 20));
                final byte[] goodVxlan = vxlan(bytes(tcp(remotePod, port + 1000, ts[0], ts[1], TcpFlyweight.SYN)),
                    from);
                t.dropped(mutate(good, f -> f.putByte(14 + 8, (byte)1)), false, DropReason.BAD_IP_CHECKSUM);
                t.dropped(java.util.Arrays.copyOf(good, 9), false, DropReason.TRUNCATED_ETHERNET);
                t.dropped(mutate(good, f -> f.putShort(12, (short)0x0806, ByteOrder.BIG_ENDIAN)), false,
                    DropReason.NOT_IPV4);
                t.dropped(bytes(tcp(localPod, port + 2000, ts[0], ts[1], TcpFlyweight.SYN | TcpFlyweight.ACK)), false,
                    DropReason.CONNTRACK_INVALID);
                t.dropped(mutate(goodVxlan, f -> vxlanByte(f, VXLAN + 6, 0x07)), true, DropReason.DECAP_UNKNOWN_VNI);
                t.dropped(mutate(goodVxlan, f -> f.putByte(OUTER_IP + 8, (byte)1)), true,
                    DropReason.DECAP_BAD_OUTER_IP_CHECKSUM);
                // the outer headers are fine, the inner packet's header checksum is not: decapsulated, then dropped
                t.dropped(vxlan(mutate(good, f -> f.putByte(14 + 8, (byte)1)), from), true,
                    DropReason.BAD_IP_CHECKSUM);
            }
        }
        return t;
    }

    private static NodeConfig config(final int workers)
    {
        return NodeConfig.builder().mode("iptables").scheduler("rr").workers(workers).overlayNodes(OVERLAY_NODES)
            .maxConntrack(100_000).idle(Pipeline.Idle.BACKOFF).build();
    }

    @ParameterizedTest(name = "workers {0}")
    @ValueSource(ints = {1, 2})
    void everyFrameIsParsedOnceByRxAndNeverAgain(final int workers) throws Exception
    {
        final ClusterModel cluster = SyntheticCluster.generate(30, 3, 11, SyntheticCluster.Mix.REALISTIC,
            OVERLAY_NODES);
        final Traffic traffic = traffic(cluster);
        final int n = traffic.frames.size();
        final NodeConfig config = config(workers);
        assertThat(config.stageChain()).isEqualTo(StageChain.OVERLAY);
        final NodeCounters counters;
        try (Node node = Node.open(config, cluster))
        {
            final Pipeline pipeline = node.start(w -> (sequence, timestamp, buffer, offset, length) -> { });
            for (int k = 0; k < n; k++)
            {
                final byte[] frame = traffic.frames.get(k);
                assertThat(pipeline.submit(new UnsafeBuffer(frame), 0, frame.length, START_NANOS + k * 1000L, k))
                    .isTrue();
            }
            pipeline.close(); // drains and joins the workers: their counts are visible here
            counters = node.counters();

            assertThat(pipeline.processed()).isEqualTo(n);
            assertThat(pipeline.parses()).as("rx parses, every producer").isEqualTo(n);
            long judged = 0;
            for (int w = 0; w < workers; w++)
            {
                final ConntrackNatEngine engine = node.engine(w);
                assertThat(engine.parser().parses()).as("worker %d's conntrack/NAT engine parses", w).isZero();
                judged += engine.parser().total(); // the verdicts it acted on: rx's, counted here
                final DecapStage decap = pipeline.chain(w).stage(DecapStage.class);
                assertThat(decap.parses()).as("worker %d's decap stage parses", w).isZero();
                if (workers > 1)
                {
                    assertThat(pipeline.processed(w)).as("worker %d had frames", w).isPositive();
                }
            }
            assertThat(judged).as("verdicts conntrack acted on").isEqualTo(traffic.toConntrack);
        }
        assertThat(counters.decapsulated()).isEqualTo(traffic.decapsulated);
        for (final DropReason reason : DropReason.values())
        {
            assertThat(counters.drops(reason)).as(reason.label()).isEqualTo(traffic.drops.getOrDefault(reason, 0L));
        }
    }

    /**
     * The one case the decap stage parses again: rx parsed the inner frame up to the end of the received frame, but
     * the outer IPv4 packet ends before it (Ethernet padding), so the inner frame is shorter than rx assumed. The
     * counters are not vacuous: that frame costs exactly one parse more.
     */
    @Test
    void aVxlanFrameWithBytesAfterItsOuterPacketIsParsedOnceMoreByDecap() throws Exception
    {
        final ClusterModel cluster = DropReasonCoverageTest.cluster();
        final byte[] vxlan = vxlan(bytes(udp(DropReasonCoverageTest.WEB_POD, 40000, DropReasonCoverageTest.DNS_VIP,
            53).payload(new byte[20], 20)));
        final byte[] padded = java.util.Arrays.copyOf(vxlan, vxlan.length + 6); // 6 bytes of trailer
        try (Node node = Node.open(config(1), cluster))
        {
            final Pipeline pipeline = node.start(w -> (sequence, timestamp, buffer, offset, length) -> { });
            pipeline.submit(new UnsafeBuffer(vxlan), 0, vxlan.length, START_NANOS, 0);
            pipeline.submit(new UnsafeBuffer(padded), 0, padded.length, START_NANOS + 1000, 1);
            pipeline.close();
            assertThat(pipeline.parses()).isEqualTo(2);
            assertThat(pipeline.chain(0).stage(DecapStage.class).parses()).isEqualTo(1);
            assertThat(node.engine(0).parser().parses()).isZero();
            final NodeCounters counters = node.counters();
            assertThat(counters.decapsulated()).isEqualTo(2);
            long drops = 0;
            for (final DropReason reason : DropReason.values())
            {
                drops += counters.drops(reason);
            }
            assertThat(drops).isZero();
        }
    }
}
