package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;

import io.dpbench.cli.Main;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TCP and UDP conversations to Services, backends answering: every forward packet of a flow is DNATed to one backend
 * of its Service, every reply is translated back to the VIP:port, checksums verify; and `dpbench replay` of the same
 * input pcap writes exactly the frames the in-process dataplane produced.
 */
class ReplayTest
{
    @TempDir
    Path dir;

    @Test
    void forwardPacketsGoToOneBackendPerFlowAndRepliesComeBackFromTheVip() throws Exception
    {
        final ReplayConversations c = new ReplayConversations();
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            final ConntrackNatEngine dataplane = ReplayConversations.dataplane(ReplayConversations.cluster(), table);
            c.play(dataplane, 60);
            assertThat(dataplane.newFlows()).isEqualTo(60);
            assertThat(dataplane.packetsOut()).isEqualTo(c.input.size());
        }
        final PacketParser parser = new PacketParser(true); // L4 checksums verified
        final ParsedPacket p = new ParsedPacket();
        final Map<Integer, String> backendSeen = new HashMap<>();
        int forwardCount = 0;
        int replyCount = 0;
        for (int i = 0; i < c.output.size(); i++)
        {
            final byte[] out = c.output.get(i);
            assertThat(parser.parse(new org.agrona.concurrent.UnsafeBuffer(out), 0, out.length, p))
                .as("output frame %d verifies", i).isEqualTo(Verdict.OK);
            final ReplayConversations.Flow f = c.flows.get(c.flowOf.get(i));
            if (c.forward.get(i))
            {
                final String backend = Ipv4Address.toString(p.destinationAddress) + ":" + p.destinationPort;
                assertThat(f.backends()).contains(backend);
                assertThat(backendSeen.computeIfAbsent(f.id(), k -> backend)).as("flow %d keeps its backend", f.id())
                    .isEqualTo(backend);
                assertThat(p.sourceAddress).isEqualTo(f.client());
                forwardCount++;
            }
            else
            {
                assertThat(p.sourceAddress).as("reply source is the VIP").isEqualTo(f.vip());
                assertThat(p.sourcePort).isEqualTo(f.port());
                assertThat(p.destinationAddress).isEqualTo(f.client());
                assertThat(p.destinationPort).isEqualTo(f.clientPort());
                replyCount++;
            }
        }
        assertThat(forwardCount).isGreaterThan(100);
        assertThat(replyCount).isGreaterThan(60);
        assertThat(c.flows.stream().map(ReplayConversations.Flow::protocol).distinct()).contains(6, 17);

        // the replay verb over the recorded input writes exactly the same frames
        final Path in = dir.resolve("in.pcap");
        final Path out = dir.resolve("out.pcap");
        c.writeInput(in, 0, c.input.size());
        final StringWriter stdout = new StringWriter();
        final StringWriter stderr = new StringWriter();
        final String[] args = concat(new String[]{"replay", "--mode", "iptables", "--in", in.toString(), "--out",
            out.toString(), "--json"}, ReplayConversations.CLUSTER_ARGS);
        assertThat(Main.run(args, new PrintWriter(stdout), new PrintWriter(stderr))).as(stderr.toString()).isZero();
        assertThat(stdout.toString()).contains("\"packets_in\":" + c.input.size(), "\"new_flows\":60");
        try (PcapReader reader = PcapReader.open(out))
        {
            for (int i = 0; i < c.output.size(); i++)
            {
                assertThat(reader.next()).isTrue();
                final byte[] b = new byte[reader.frameLength()];
                reader.frame().getBytes(0, b);
                assertThat(b).as("frame %d", i).isEqualTo(c.output.get(i));
                assertThat(reader.timestampNanos()).isEqualTo(c.times.get(i));
            }
            assertThat(reader.next()).isFalse();
        }

        // Wireshark agrees: every IPv4, TCP and UDP checksum of what left the node is good, nothing is malformed
        io.dpbench.packet.Tshark.requireOrSkip();
        final java.util.List<String> statuses = io.dpbench.packet.Tshark.run(dir, out, "-T", "fields", "-E",
            "separator=,", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status");
        assertThat(statuses).hasSize(c.output.size()).allMatch(l -> l.matches("1,(1,|,1)"));
        assertThat(io.dpbench.packet.Tshark.run(dir, out, "-Y", "_ws.expert.severity == error || _ws.malformed")).isEmpty();
    }

    static String[] concat(final String[] a, final String[] b)
    {
        final String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
