package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;

import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSelector;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PcapWriter;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Builds TCP and UDP conversations to Services of a synthetic cluster by playing them through a dataplane: each
 * forward packet learns the backend its flow got, and the backend's replies are addressed to what the client's packet
 * became. Records the input frames (a pcap to replay) and the frames that left (the expected output).
 */
final class ReplayConversations
{
    static final int SERVICES = 40;
    static final int ENDPOINTS = 3;
    static final long SEED = 5;
    static final String[] CLUSTER_ARGS = {"--services", "40", "--endpoints", "3", "--seed", "5", "--mix", "realistic"};

    record Flow(int id, int protocol, int client, int clientPort, int vip, int port, List<String> backends)
    {
    }

    final List<byte[]> input = new ArrayList<>();
    final List<Long> times = new ArrayList<>();
    final List<byte[]> output = new ArrayList<>();
    final List<Integer> flowOf = new ArrayList<>();
    final List<Boolean> forward = new ArrayList<>();
    final List<Flow> flows = new ArrayList<>();
    final List<String> backendOf = new ArrayList<>();

    static ClusterModel cluster()
    {
        return SyntheticCluster.generate(SERVICES, ENDPOINTS, SEED, SyntheticCluster.Mix.REALISTIC);
    }

    /** The same dataplane replay builds for --mode iptables with --seed 1 (deterministic choices). */
    static ConntrackNatEngine dataplane(final ClusterModel cluster, final ConntrackTable table) throws Exception
    {
        final NodeConfig node = NodeConfig.defaults();
        final String restore = KubeProxyRenderer.render(cluster, node, KubeProxyRenderer.Options.production());
        return new ConntrackNatEngine(new IptablesSelector(new Classifier(ChainEngine.compile(
            NodeRules.assemble(restore, "rendered"), "rendered", node.nodeIPs(), IpSets.EMPTY), 1,
            Ipv4Address.parse(node.primaryNodeIP()))), table, ConntrackTimeouts.kubernetesNode());
    }

    /** Play {@code count} conversations (interleaved in two halves when {@code halves}). */
    void play(final ConntrackNatEngine dataplane, final int count) throws Exception
    {
        final ClusterModel cluster = cluster();
        final ServicePortEndpoints eps = ServicePortEndpoints.of(cluster, NodeConfig.defaults());
        final List<Object[]> targets = new ArrayList<>();
        for (final Service s : cluster.services())
        {
            for (final ServicePort p : s.ports())
            {
                final ServicePortEndpoints.Categorized c = eps.categorize(s, p);
                if (!c.cluster().isEmpty() && !s.internalPolicyLocal())
                {
                    final List<String> backends = new ArrayList<>();
                    c.cluster().forEach(e -> backends.add(e.hostPort()));
                    targets.add(new Object[]{s, p, backends});
                }
            }
        }
        final SplittableRandom random = new SplittableRandom(9);
        for (int i = 0; i < count; i++)
        {
            final Object[] t = targets.get(random.nextInt(targets.size()));
            final Service s = (Service)t[0];
            final ServicePort p = (ServicePort)t[1];
            @SuppressWarnings("unchecked") final List<String> backends = (List<String>)t[2];
            // clients in the pod CIDR whose host part (200-249) no synthetic endpoint has: no hairpin SNAT here
            flows.add(new Flow(i, p.protocol().number(),
                Ipv4Address.parse("10.244.0.200") + (random.nextInt(200) << 8) + random.nextInt(50),
                20000 + random.nextInt(40000), Ipv4Address.parse(s.clusterIP()), p.port(), backends));
            backendOf.add(null);
        }
        if (!splitInTwoPhases)
        {
            for (final Flow f : flows)
            {
                conversation(dataplane, f, 0);
                conversation(dataplane, f, 1);
            }
            return;
        }
        for (final Flow f : flows)
        {
            conversation(dataplane, f, 0);
        }
        secondPhaseStart = input.size();
        for (final Flow f : flows)
        {
            conversation(dataplane, f, 1);
        }
    }

    /** When set, every flow's opening packets come first, then every flow's remaining packets. */
    boolean splitInTwoPhases;
    /** Index of the first packet of the second phase. */
    int secondPhaseStart;

    private long now = 1_764_000_000_000_000_000L;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
    private final FrameBuilder builder = new FrameBuilder();
    private final PacketParser parser = new PacketParser(true);
    private final ParsedPacket parsed = new ParsedPacket();

    /** Phase 0: the opening (TCP handshake, first UDP exchange); phase 1: data and teardown. */
    private void conversation(final ConntrackNatEngine dataplane, final Flow f, final int phase) throws Exception
    {
        if (f.protocol() == 6 && phase == 0)
        {
            send(dataplane, f, true, TcpFlyweight.SYN, 0);
            send(dataplane, f, false, TcpFlyweight.SYN | TcpFlyweight.ACK, 0);
            send(dataplane, f, true, TcpFlyweight.ACK, 0);
        }
        else if (f.protocol() == 6)
        {
            send(dataplane, f, true, TcpFlyweight.ACK | TcpFlyweight.PSH, 100);
            send(dataplane, f, false, TcpFlyweight.ACK | TcpFlyweight.PSH, 77);
            send(dataplane, f, true, TcpFlyweight.FIN | TcpFlyweight.ACK, 0);
            send(dataplane, f, false, TcpFlyweight.FIN | TcpFlyweight.ACK, 0);
            send(dataplane, f, true, TcpFlyweight.ACK, 0);
        }
        else
        {
            send(dataplane, f, true, 0, 40);
            send(dataplane, f, false, 0, 90);
        }
    }

    /** Build one packet of the flow (forward from the client, or reply from its backend), process it, record it. */
    private void send(final ConntrackNatEngine dataplane, final Flow f, final boolean isForward, final int flags,
        final int payload) throws Exception
    {
        final byte[] bytes = new byte[payload];
        if (isForward)
        {
            builder.addresses(f.client(), f.vip());
            ports(f, f.clientPort(), f.port(), flags);
        }
        else
        {
            final String backend = backendOf.get(f.id());
            assertThat(backend).as("flow %d has a backend before its reply", f.id()).isNotNull();
            final int colon = backend.indexOf(':');
            builder.addresses(Ipv4Address.parse(backend.substring(0, colon)), f.client());
            ports(f, Integer.parseInt(backend.substring(colon + 1)), f.clientPort(), flags);
        }
        builder.payload(bytes, payload);
        final int length = builder.build(buffer, 0);
        final byte[] in = new byte[length];
        buffer.getBytes(0, in);
        now += 1_000_000L;
        input.add(in);
        times.add(now);
        flowOf.add(f.id());
        forward.add(isForward);
        assertThat(dataplane.process(buffer, 0, length, now)).as("flow %d packet %d", f.id(), input.size()).isTrue();
        final byte[] out = new byte[length];
        buffer.getBytes(0, out);
        output.add(out);
        assertThat(parser.parse(buffer, 0, length, parsed)).isEqualTo(Verdict.OK);
        if (isForward && backendOf.get(f.id()) == null)
        {
            backendOf.set(f.id(), Ipv4Address.toString(parsed.destinationAddress) + ":" + parsed.destinationPort);
        }
    }

    private void ports(final Flow f, final int source, final int destination, final int flags)
    {
        if (f.protocol() == 6)
        {
            builder.tcp(source, destination, flags);
        }
        else
        {
            builder.udp(source, destination);
        }
    }

    void writeInput(final Path file, final int from, final int to) throws Exception
    {
        try (PcapWriter writer = PcapWriter.create(file))
        {
            for (int i = from; i < to; i++)
            {
                final byte[] b = input.get(i);
                writer.write(new UnsafeBuffer(b), 0, b.length, times.get(i));
            }
        }
    }
}
