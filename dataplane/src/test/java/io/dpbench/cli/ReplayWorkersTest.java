package io.dpbench.cli;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * replay --workers N: the multi-worker pipeline. With a flow-hash scheduler the output is the one worker's, frame for
 * frame (outer IP ID aside: each worker's vxlan device counts its own); with rr every flow still has exactly one
 * backend and its replies come back translated.
 */
class ReplayWorkersTest
{
    private static final int NODES = 4;
    private static final int REQUESTS = 1200;

    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();
    private final OverlayTopology topology = OverlayTopology.generate(NODES);

    /**
     * The acceptance: --mode ipvs --scheduler mh --workers 2 --nodes 4 equals --workers 1, both directions;
     * sh, the other flow-hash scheduler, too.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mh", "sh"})
    void flowHashSchedulersGiveTheOneWorkerTranslationsAndVteps(final String scheduler) throws Exception
    {
        final Path requests = dir.resolve("requests.pcap");
        writeRequests(requests);
        final Path learn = dir.resolve("learn.pcap");
        replay("ipvs", scheduler, 1, requests, learn, null);
        final Path both = dir.resolve("both.pcap");
        final List<byte[]> replies = replies(learn);
        assertThat(replies).hasSize(REQUESTS);
        writeRequestsAndReplies(both, replies);

        final Path one = dir.resolve("one.pcap");
        final Path two = dir.resolve("two.pcap");
        final String oneCounters = replay("ipvs", scheduler, 1, both, one, null);
        final String twoCounters = replay("ipvs", scheduler, 2, both, two, null);
        assertThat(oneCounters).contains("\"packets_out\":" + 2 * REQUESTS).contains("\"new_flows\":" + REQUESTS);
        assertThat(twoCounters).contains("\"packets_out\":" + 2 * REQUESTS).contains("\"new_flows\":" + REQUESTS)
            .containsPattern("\"workers\":\\[[1-9][0-9]*,[1-9][0-9]*\\]");
        final List<byte[]> a = frames(one);
        final List<byte[]> b = frames(two);
        assertThat(b).hasSameSizeAs(a);
        int encapsulated = 0;
        for (int i = 0; i < a.size(); i++)
        {
            if (isVxlan(a.get(i)))
            {
                encapsulated++;
                maskOuterIdentification(a.get(i));
                maskOuterIdentification(b.get(i));
            }
            assertThat(b.get(i)).as("frame %d", i).isEqualTo(a.get(i));
        }
        assertThat(encapsulated).as("requests to pods on nodes 1-3 leave encapsulated").isGreaterThan(REQUESTS / 2);
        // the replies left un-NATed: from the Service's VIP:80 back to the client
        for (int i = REQUESTS; i < a.size(); i++)
        {
            final byte[] f = a.get(i);
            assertThat(ipv4(f, 14 + 12) >>> 16).as("reply %d from a VIP", i).isEqualTo(Ipv4Address.parse("10.96.0.0") >>> 16);
            assertThat(port(f, 34)).isEqualTo(80);
        }
    }

    /**
     * rr gives each worker its own cursor, iptables mode its own random draws: choices differ from one worker's, but
     * each flow has one backend, and its replies come back through the same translation.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ipvs", "iptables"})
    void perWorkerSelectionGivesEveryFlowOneBackendBothWays(final String mode) throws Exception
    {
        final Path requests = dir.resolve("requests.pcap");
        writeRequests(requests);
        final Path table = dir.resolve("conntrack.dat");
        final Path out1 = dir.resolve("out1.pcap");
        replay(mode, "rr", 2, requests, out1, table);
        final List<byte[]> replies = replies(out1);
        final Path replyIn = dir.resolve("replies.pcap");
        try (PcapWriter writer = PcapWriter.create(replyIn))
        {
            long t = 2_000_000_000L;
            for (final byte[] r : replies)
            {
                writer.write(new UnsafeBuffer(r), 0, r.length, t += 1_000_000L);
            }
        }
        final Path out2 = dir.resolve("out2.pcap");
        final String counters = replay(mode, "rr", 2, replyIn, out2, table);
        assertThat(counters).contains("\"packets_out\":" + REQUESTS).contains("\"new_flows\":0");
        final List<byte[]> back = frames(out2);
        assertThat(back).hasSize(REQUESTS);
        final Set<String> clients = new HashSet<>();
        for (final byte[] f : back)
        {
            assertThat(ipv4(f, 14 + 12) >>> 16).isEqualTo(Ipv4Address.parse("10.96.0.0") >>> 16);
            clients.add(Ipv4Address.toString(ipv4(f, 14 + 16)) + ":" + port(f, 36));
        }
        assertThat(clients).as("every flow's reply reached its own client").hasSize(REQUESTS);
    }

    @Test
    void badWorkerCountsAndStageChainsAreUsageErrors()
    {
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--workers", "0", "--in", "x", "--out", "y"))
            .isEqualTo(2);
        assertThat(cli.err.toString()).contains("--workers must be between 1 and 64");
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--stages", "conntrack,encap,tx",
            "--in", "x", "--out", "y")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("--stages: stage 'encap' needs an overlay topology");
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--stages", "conntrack,nat,tx",
            "--in", "x", "--out", "y")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("unknown stage 'nat'");
    }

    private String replay(final String mode, final String scheduler, final int workers, final Path in, final Path out,
        final Path table)
    {
        final List<String> args = new ArrayList<>(List.of("replay", "--mode", mode, "--scheduler", scheduler,
            "--services", "100", "--endpoints", "4", "--nodes", String.valueOf(NODES), "--workers", String.valueOf(workers),
            "--in", in.toString(), "--out", out.toString(), "--json"));
        if (table != null)
        {
            args.addAll(List.of("--conntrack", table.toString()));
        }
        assertThat(cli.run(args.toArray(new String[0]))).as(cli.err.toString()).isZero();
        return cli.out.toString();
    }

    /** SYNs from 200 pods of this node (10.244.0.0/24) to 100 ClusterIPs, one new flow each. */
    private void writeRequests(final Path file) throws Exception
    {
        try (PcapWriter writer = PcapWriter.create(file))
        {
            for (final byte[] f : requestFrames())
            {
                writer.write(new UnsafeBuffer(f), 0, f.length, 0);
            }
        }
    }

    private List<byte[]> requestFrames()
    {
        final List<byte[]> frames = new ArrayList<>();
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        for (int i = 0; i < REQUESTS; i++)
        {
            final int length = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.20") + i % 200,
                Ipv4Address.parse("10.96.0.1") + (i * 7) % 100).tcp(40000 + i, 80, 0x02).build(b, 0);
            final byte[] f = new byte[length];
            b.getBytes(0, f);
            frames.add(f);
        }
        return frames;
    }

    private void writeRequestsAndReplies(final Path file, final List<byte[]> replies) throws Exception
    {
        try (PcapWriter writer = PcapWriter.create(file))
        {
            long t = 0;
            for (final byte[] f : requestFrames())
            {
                writer.write(new UnsafeBuffer(f), 0, f.length, t += 1_000_000L);
            }
            for (final byte[] f : replies)
            {
                writer.write(new UnsafeBuffer(f), 0, f.length, t += 1_000_000L);
            }
        }
    }

    /**
     * Each backend's SYN-ACK to a translated request: plain from a pod of this node, VXLAN-encapsulated from the
     * backend's node to this one otherwise (as that node's flannel.1 sends it).
     */
    private List<byte[]> replies(final Path translated) throws Exception
    {
        final VxlanDecapsulator decap = new VxlanDecapsulator(VxlanConfig.flannel());
        final RemoteVtep us = new RemoteVtep(topology.local().address(), topology.local().underlayMac(),
            topology.local().vtepMac());
        final Map<Integer, VxlanEncapsulator> fromNode = new HashMap<>();
        final List<byte[]> out = new ArrayList<>();
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        for (final byte[] frame : frames(translated))
        {
            final UnsafeBuffer f = new UnsafeBuffer(frame);
            int inner = 0;
            if (isVxlan(frame))
            {
                inner = decap.decapsulate(f, 0, frame.length);
                assertThat(inner).isPositive();
            }
            final int client = f.getInt(inner + 14 + 12, ByteOrder.BIG_ENDIAN);
            final int backend = f.getInt(inner + 14 + 16, ByteOrder.BIG_ENDIAN);
            final int clientPort = f.getShort(inner + 34, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            final int backendPort = f.getShort(inner + 36, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            final int node = (backend - OverlayTopology.POD_NETWORK) >>> 8;
            final int length = new FrameBuilder().addresses(backend, client).tcp(backendPort, clientPort, 0x12).build(b, 64);
            final byte[] reply;
            if (node == 0)
            {
                reply = new byte[length];
                b.getBytes(64, reply);
            }
            else
            {
                final VxlanEncapsulator encap = fromNode.computeIfAbsent(node, k -> new VxlanEncapsulator(VxlanConfig.flannel(),
                    new LocalVtep(topology.remote(k).address(), topology.remote(k).underlayMac(), topology.remote(k).vtepMac(),
                        OverlayTopology.POD_NETWORK + (k << 8) + 1)));
                final int start = encap.encapsulate(b, 64 + 14, length - 14, us, 40000 + node);
                reply = new byte[length + VxlanConfig.OVERHEAD];
                b.getBytes(start, reply);
            }
            out.add(reply);
        }
        return out;
    }

    private static List<byte[]> frames(final Path pcap) throws Exception
    {
        final List<byte[]> frames = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(pcap))
        {
            while (reader.next())
            {
                final byte[] f = new byte[reader.frameLength()];
                reader.frame().getBytes(0, f);
                frames.add(f);
            }
        }
        return frames;
    }

    private static boolean isVxlan(final byte[] f)
    {
        return f.length > 50 && (f[14 + 9] & 0xFF) == 17 && port(f, 36) == 8472;
    }

    /** The outer IPv4 identification and the header checksum that covers it: a per-device counter in Linux too. */
    private static void maskOuterIdentification(final byte[] f)
    {
        Arrays.fill(f, 14 + 4, 14 + 6, (byte)0);
        Arrays.fill(f, 14 + 10, 14 + 12, (byte)0);
    }

    private static int ipv4(final byte[] f, final int at)
    {
        return new UnsafeBuffer(f).getInt(at, ByteOrder.BIG_ENDIAN);
    }

    private static int port(final byte[] f, final int at)
    {
        return new UnsafeBuffer(f).getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }
}
