package io.dpbench.loadgen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dpbench.cli.Main;
import io.dpbench.loadgen.drive.LoadGenerator;
import io.dpbench.loadgen.drive.LoadResult;
import io.dpbench.loadgen.drive.TransportTap;
import io.dpbench.loadgen.workload.WorkloadSpec;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.vxlan.OverlayTopology;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Golden outputs of the wire path: {@code dpbench run} (node 0 of a 4-node overlay, a userspace VTEP on loopback UDP,
 * run in this JVM) fed VXLAN datagrams, compared with what it sent when the expectations were recorded
 * ({@code src/test/resources/golden/wire.golden}; format and re-recording as in {@link ReplayGoldenTest}).
 * <p>
 * <b>What is compared.</b> The order in which the node sends datagrams across sockets, rx threads and workers is not
 * deterministic, so each case records the <em>multiset</em> of the datagrams it sent: every UDP payload (the VXLAN
 * header and the inner frame) as hex (in the scripted cases prefixed with the socket it reached: 0 = this node's pods
 * at 127.0.2.0, k = node k's VTEP at 127.0.1.k), sorted, joined with line breaks and hashed (SHA-256); and the
 * node's final counters ({@code run --json}) without {@code heap-after-gc} and {@code heap-bytes-per-datagram}, which
 * measure the JVM, not the dataplane. The IP and UDP headers around the payload are the host kernel's and are not
 * seen; wire mode has no outer IP ID of its own.
 * <ul>
 *   <li>{@code scripted/...}: a fixed exchange in three rounds on the realistic mix (120 Services). Round 1, from pods
 *   of node 1: TCP SYNs (with payloads of several sizes) and UDP requests to ClusterIPs whose Services always have a
 *   ready endpoint, frames to pods of nodes 0, 2 and 3 without a Service, ICMP echo, frames above the overlay MTU
 *   with DF (ICMP fragmentation needed) and without (fragments), TTL 1 frames, and datagrams the node drops (I flag
 *   clear, reserved flags, unknown VNI, shorter than the VXLAN header, a cut inner frame, a bad inner IPv4 checksum)
 *   or sends on (to 8.8.8.8). Round 2: every backend answers what it was delivered, from its node's VTEP (this node's
 *   pods from 127.0.2.0). Round 3: every TCP client of a Service sends its ACK with data. Each round waits until
 *   every frame of it has come out (recognised by its inner IPv4 ID, both ends of a fragmented one, or the ID an ICMP
 *   error quotes), so no round races another and which frames get answers does not depend on timing. Run with
 *   iptables, IPVS mh (1 worker; 2 workers on 2 SO_REUSEPORT sockets), IPVS rr (2 workers) and mh with
 *   {@code --copy-frames} (same datagrams as without, other counters).</li>
 *   <li>{@code loadgen/...}: the load generator in wire mode ({@code LoadGenerator} with a target: its
 *   {@code WireTransport}, 8 flows, closed loop, TCP handshake, data, FIN and last ACK, IMIX sizes; the ClusterIP mix,
 *   whose Services all have 4 ready endpoints: no request goes unanswered) until 192 requests (three turns of the
 *   generator's loop, 64 requests each), against {@code run --mix clusterip}. The datagrams are seen through
 *   {@link TransportTap}, which also makes the generator run <b>one exchange at a time</b>: with several exchanges in
 *   flight, which reply comes back first decides which flow makes the generator's next seeded random draws (frame
 *   sizes, the next flow's Service and client), so its workload, and the node's output with it, would depend on
 *   timing. (A single flow would also do, but the generator refuses fewer than 8 flows: Agrona's
 *   {@code IntArrayQueue} has a minimum capacity of 8.) <b>Normalised</b>: every packet carries the generator's
 *   17-byte tag whose first 8 bytes are its send time ({@code System.nanoTime()}); they are set to 0 and the TCP/UDP
 *   checksum is adjusted for it incrementally (RFC 1624), so a checksum the node got wrong stays wrong. The
 *   generator's counters that do not measure time are recorded too. A run where an exchange took longer than the
 *   generator's 500 ms time-out (the machine stalled) has another workload; it is run again, at most 3 times.</li>
 * </ul>
 * <b>Run</b> (about 40 s: each node runs for a fixed time, 3 s scripted, 6 s under the generator):
 * <pre>
 * mvn -B -ntp -pl loadgen -am test -Dtest=WireGoldenTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * <b>Re-record</b> with {@code -Ddpbench.golden.record=true}; {@code -Ddpbench.golden.dump=DIR} writes each case's
 * sorted datagrams (hex) into DIR to compare two versions with {@code diff}.
 */
class WireGoldenTest
{
    static final String HEADER = """
        WireGoldenTest: what dpbench run sends over loopback UDP (io.dpbench.loadgen.WireGoldenTest's javadoc says what each case is).
        One case a line: NAME SHA256-OF-SORTED-DATAGRAMS datagrams=N node=FINAL-COUNTERS [generator=COUNTERS].
        Re-record (intended changes only): mvn -B -ntp -pl loadgen -am test -Dtest=WireGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Ddpbench.golden.record=true""";

    static final int SERVICES = 120;
    static final int NODES = 4;
    static final String[] CLUSTER = {"--services", "120", "--endpoints", "4", "--seed", "1", "--nodes", "4",
        "--max-conntrack", "131072"};
    private static final int POD_NETWORK = OverlayTopology.POD_NETWORK;

    private final GoldenFile golden = new GoldenFile("wire.golden", HEADER);
    private final ClusterModel model = SyntheticCluster.generate(SERVICES, 4, 1, SyntheticCluster.Mix.REALISTIC, NODES);
    /** How long the node of a scripted case runs (its exchange takes well under a second). */
    static final double SCRIPTED_NODE_SECONDS = 3;
    /** The load generator's bound (requests), and how long its node runs (the generator stops 2 s before). */
    static final int LOADGEN_REQUESTS = 192;
    static final double LOADGEN_NODE_SECONDS = 6;
    private int nextPort = 24_000 + (int)(ProcessHandle.current().pid() % 8_000) * 2;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void runSendsTheRecordedDatagramsAndCounters() throws Exception
    {
        final long start = System.nanoTime();
        scripted("scripted/iptables/w1", List.of("--mode", "iptables"));
        scripted("scripted/ipvs-mh/w1", List.of("--mode", "ipvs", "--scheduler", "mh"));
        scripted("scripted/ipvs-mh/w2", List.of("--mode", "ipvs", "--scheduler", "mh", "--workers", "2"));
        scripted("scripted/ipvs-rr/w2", List.of("--mode", "ipvs", "--scheduler", "rr", "--workers", "2"));
        scripted("scripted/ipvs-mh/w1/copy-frames", List.of("--mode", "ipvs", "--scheduler", "mh", "--copy-frames"));
        loadgen("loadgen/ipvs-rr/w1", List.of("--mode", "ipvs", "--scheduler", "rr"));
        loadgen("loadgen/iptables/w2", List.of("--mode", "iptables", "--workers", "2"));
        System.out.printf("WireGoldenTest: %d cases in %.1f s (dataplane classes from %s)%n", golden.actual().size(),
            (System.nanoTime() - start) / 1e9, Main.class.getProtectionDomain().getCodeSource().getLocation());
        golden.verify();
    }

    // --------------------------------------------------------------------------------------------------- the node

    /** dpbench run in this JVM for {@code seconds}; its stdout collects the final counters. */
    private record Node(int port, CompletableFuture<Integer> exit, StringWriter out, StringWriter err)
    {
        /** The final counters, less the JVM's own measures. */
        String counters() throws Exception
        {
            final String json = out.toString().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no final counters from run: " + out + err));
            final ObjectNode counters = (ObjectNode)new ObjectMapper().readTree(json);
            counters.remove("heap-after-gc");
            counters.remove("heap-bytes-per-datagram");
            return new ObjectMapper().writeValueAsString(counters);
        }
    }

    private Node startNode(final List<String> mode, final double seconds) throws Exception
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            final int port = nextPort++;
            final List<String> args = new ArrayList<>(List.of("run"));
            args.addAll(mode);
            args.addAll(List.of(CLUSTER));
            args.addAll(List.of("--port", String.valueOf(port), "--duration", String.valueOf(seconds), "--interval", "0",
                "--json"));
            final StringWriter out = new StringWriter();
            final StringWriter err = new StringWriter();
            final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> Main.run(args.toArray(new String[0]),
                new PrintWriter(out), new PrintWriter(err)));
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline && !exit.isDone() && !out.toString().contains("listening on"))
            {
                Thread.sleep(10);
            }
            if (out.toString().contains("listening on"))
            {
                return new Node(port, exit, out, err);
            }
            if (!exit.isDone() || !err.toString().contains("cannot listen"))
            {
                fail("dpbench run did not start: " + out + err);
            }
            // the port is taken (another test on this machine): the next one
        }
        throw new AssertionError("no free port for dpbench run");
    }

    // ---------------------------------------------------------------------------------------------- scripted cases

    private void scripted(final String name, final List<String> mode) throws Exception
    {
        final List<String> args = new ArrayList<>(mode);
        args.addAll(List.of("--mix", "realistic"));
        final Node node = startNode(args, SCRIPTED_NODE_SECONDS);
        final long listening = System.nanoTime();
        final DatagramChannel[] vteps = new DatagramChannel[NODES]; // [0]: this node's pods (127.0.2.0)
        final List<String> seen = new ArrayList<>();
        try
        {
            for (int k = 0; k < NODES; k++)
            {
                vteps[k] = DatagramChannel.open(StandardProtocolFamily.INET);
                vteps[k].setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                vteps[k].bind(new InetSocketAddress(k == 0 ? "127.0.2.0" : "127.0.1." + k, node.port()));
                vteps[k].configureBlocking(false);
            }
            final InetSocketAddress node0 = new InetSocketAddress("127.0.1.0", node.port());
            final Exchange x = new Exchange();

            // round 1: node 1's pods
            final Map<Integer, byte[]> round1 = x.requestsFor(model);
            for (final byte[] junk : x.dropped())
            {
                vteps[1].send(ByteBuffer.wrap(junk), node0);
            }
            for (final byte[] frame : round1.values())
            {
                vteps[1].send(vxlan(frame), node0);
            }
            final List<byte[]> delivered = collect(vteps, round1.keySet(), seen, node, "round 1");
            // round 2: every backend answers from its node
            final Map<Integer, byte[]> round2 = new HashMap<>();
            final Map<Integer, Integer> from = new HashMap<>();
            final List<byte[]> established = new ArrayList<>();
            for (final byte[] d : delivered)
            {
                final byte[] answer = x.answer(d);
                if (answer != null)
                {
                    final int id = ipId(answer, 0);
                    round2.put(id, answer);
                    final int backend = new UnsafeBuffer(answer).getInt(14 + 12, ByteOrder.BIG_ENDIAN);
                    from.put(id, (backend - POD_NETWORK) >>> 8);
                    if ((answer[14 + 9] & 0xFF) == 6 && Exchange.isServiceFlow(d))
                    {
                        established.add(d);
                    }
                }
            }
            for (final Map.Entry<Integer, byte[]> e : round2.entrySet())
            {
                vteps[from.get(e.getKey())].send(vxlan(e.getValue()), node0);
            }
            collect(vteps, round2.keySet(), seen, node, "round 2");
            // round 3: the TCP clients' ACK with data, on the established connections
            final Map<Integer, byte[]> round3 = x.acks(established);
            for (final byte[] frame : round3.values())
            {
                vteps[1].send(vxlan(frame), node0);
            }
            collect(vteps, round3.keySet(), seen, node, "round 3");
            System.out.printf("WireGoldenTest: %s: the exchange took %.2f s of the node's %.1f s%n", name,
                (System.nanoTime() - listening) / 1e9, SCRIPTED_NODE_SECONDS);
            assertThat(node.exit().get(30, TimeUnit.SECONDS)).as(node.err().toString()).isZero();
            drain(vteps, seen); // anything more it sent
        }
        finally
        {
            node.exit().get(30, TimeUnit.SECONDS);
            for (final DatagramChannel c : vteps)
            {
                if (c != null)
                {
                    c.close();
                }
            }
        }
        record(name, seen, "node=" + node.counters());
    }

    private void record(final String name, final List<String> datagrams, final String detail)
    {
        final List<String> sorted = new ArrayList<>(datagrams);
        Collections.sort(sorted);
        golden.put(name, GoldenFile.sha256(String.join("\n", sorted).getBytes(StandardCharsets.US_ASCII)),
            "datagrams=" + sorted.size() + " " + detail);
        final String dump = System.getProperty("dpbench.golden.dump");
        if (dump != null)
        {
            try
            {
                java.nio.file.Files.createDirectories(java.nio.file.Path.of(dump));
                java.nio.file.Files.write(java.nio.file.Path.of(dump, name.replace('/', '_') + ".datagrams"), sorted);
            }
            catch (final java.io.IOException ex)
            {
                throw new java.io.UncheckedIOException(ex);
            }
        }
    }

    /**
     * Receive until every frame of {@code ids} has come out (at most 20 s): forwarded (its inner IPv4 ID), both ends
     * of it when fragmented, or answered with an ICMP error (quoting its ID). Records each datagram as
     * {@code VTEP HEX}; returns those of this round.
     */
    private static List<byte[]> collect(final DatagramChannel[] vteps, final java.util.Set<Integer> ids,
        final List<String> seen, final Node node, final String round) throws Exception
    {
        final Map<Integer, Integer> pending = new HashMap<>(); // id -> 1: first piece seen, 2: last piece seen
        final java.util.Set<Integer> missing = new java.util.TreeSet<>(ids);
        final List<byte[]> got = new ArrayList<>();
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (!missing.isEmpty() && System.nanoTime() < deadline)
        {
            boolean any = false;
            for (int k = 0; k < vteps.length; k++)
            {
                final ByteBuffer b = ByteBuffer.allocate(70_000);
                if (vteps[k].receive(b) == null)
                {
                    continue;
                }
                any = true;
                b.flip();
                final byte[] d = new byte[b.remaining()];
                b.get(d);
                seen.add(k + " " + HexFormat.of().formatHex(d));
                got.add(d);
                if (d.length < 8 + 14 + 20)
                {
                    continue;
                }
                final int ip = 8 + 14;
                final int id = ipId(d, 8);
                final int fragment = new UnsafeBuffer(d).getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF;
                if ((d[ip + 9] & 0xFF) == 1 && d.length >= ip + 20 + 8 + 20 && (d[ip + 20] == 3 || d[ip + 20] == 11))
                {
                    missing.remove(ipId(d, ip + 20 + 8 - 14)); // an ICMP error quoting the frame
                }
                else if (fragment == 0)
                {
                    missing.remove(id);
                }
                else
                {
                    final int piece = ((fragment & 0x1FFF) == 0 ? 1 : 0) | ((fragment & 0x2000) == 0 ? 2 : 0);
                    if ((pending.merge(id, piece, (a, c) -> a | c)) == 3)
                    {
                        missing.remove(id);
                    }
                }
            }
            if (!any)
            {
                if (node.exit().isDone())
                {
                    break;
                }
                Thread.sleep(1);
            }
        }
        if (!missing.isEmpty())
        {
            fail(round + ": no output for the frames with IPv4 IDs " + missing + " (the node stopped: "
                + node.exit().isDone() + "; its output: " + node.out() + node.err() + ")");
        }
        return got;
    }

    private static void drain(final DatagramChannel[] vteps, final List<String> seen) throws Exception
    {
        for (int k = 0; k < vteps.length; k++)
        {
            while (true)
            {
                final ByteBuffer b = ByteBuffer.allocate(70_000);
                if (vteps[k].receive(b) == null)
                {
                    break;
                }
                b.flip();
                final byte[] d = new byte[b.remaining()];
                b.get(d);
                seen.add(k + " " + HexFormat.of().formatHex(d));
            }
        }
    }

    /** The IPv4 ID of the frame whose Ethernet header starts at {@code frame}. */
    private static int ipId(final byte[] d, final int frame)
    {
        return (d[frame + 14 + 4] & 0xFF) << 8 | d[frame + 14 + 5] & 0xFF;
    }

    /** The VXLAN datagram for an inner frame: I flag, VNI 1. */
    private static ByteBuffer vxlan(final byte[] frame)
    {
        final ByteBuffer b = ByteBuffer.allocate(8 + frame.length);
        b.putInt(0x0800_0000).putInt(1 << 8).put(frame).flip();
        return b;
    }

    /** The scripted frames, each with its own inner IPv4 ID. */
    private static final class Exchange
    {
        private final FrameBuilder builder = new FrameBuilder();
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        private final byte[] payload = new byte[1600];

        Exchange()
        {
            for (int i = 0; i < payload.length; i++)
            {
                payload[i] = (byte)(i * 7 + 3);
            }
        }

        private FrameBuilder reset(final int id)
        {
            return builder.macs(0x0A_00_00_00_00_02L, 0x0A_00_00_00_00_01L).vlan(0, 1).tos(0).identification(id)
                .flagsAndFragment(0x4000).ttl(64).ipOptions(new byte[0]).tcpOptions(new byte[0]).tcpSequence(0, 0)
                .udpChecksum(true).payload(payload, 0);
        }

        private byte[] build()
        {
            final int length = builder.build(buffer, 0);
            final byte[] f = new byte[length];
            buffer.getBytes(0, f);
            return f;
        }

        /** ClusterIPs that always have a ready endpoint for a pod of another node: no drop, whatever the mode. */
        private static List<int[]> frontends(final ClusterModel model)
        {
            final List<int[]> frontends = new ArrayList<>();
            for (final Service s : model.services())
            {
                final EndpointSlice slice = model.endpointSlices().stream().filter(e -> e.serviceName().equals(s.name())
                    && e.namespace().equals(s.namespace())).findFirst().orElse(null);
                final boolean ready = slice != null && !slice.endpoints().isEmpty()
                    && slice.endpoints().stream().allMatch(e -> e.ready() && !e.terminating());
                if (ready && s.internalTrafficPolicy() == TrafficPolicy.CLUSTER)
                {
                    final ServicePort p = s.ports().get(0);
                    frontends.add(new int[]{Ipv4Address.parse(s.clusterIP()), p.port(), p.protocol().number()});
                }
            }
            return frontends;
        }

        /** Round 1, by ID: requests to Services, to pods, ICMP echo, frames above the MTU, TTL 1. */
        Map<Integer, byte[]> requests(final ClusterModel model)
        {
            final Map<Integer, byte[]> frames = new java.util.LinkedHashMap<>();
            final List<int[]> frontends = frontends(model);
            final int client = POD_NETWORK + (1 << 8) + 200;
            for (int i = 0; i < 60; i++)
            {
                final int[] f = frontends.get(i * 7 % frontends.size());
                reset(1000 + i).addresses(client + i % 20, f[0]);
                if (f[2] == Protocol.UDP.number())
                {
                    builder.udp(40000 + i, f[1]).payload(payload, 10 + i * 13 % 500);
                }
                else
                {
                    builder.tcp(40000 + i, f[1], 0x02).tcpSequence(100_000L * i, 0).payload(payload, i * 7);
                }
                frames.put(1000 + i, build());
            }
            for (int i = 0; i < 6; i++)
            {
                final int k = i % 3 == 0 ? 0 : i % 3 + 1; // pods of nodes 0, 2, 3
                reset(1100 + i).addresses(client + 30 + i, POD_NETWORK + (k << 8) + 2 + i);
                if (i % 2 == 0)
                {
                    builder.tcp(41000 + i, 8080, 0x02);
                }
                else
                {
                    builder.udp(41000 + i, 5353).payload(payload, 100 + i);
                }
                frames.put(1100 + i, build());
            }
            reset(1110).addresses(client + 40, POD_NETWORK + 5).icmpEcho(8, 0x5151, 1).payload(payload, 56);
            frames.put(1110, build());
            reset(1111).addresses(client + 41, POD_NETWORK + (2 << 8) + 5).icmpEcho(8, 0x5152, 1).payload(payload, 56);
            frames.put(1111, build());
            // above the overlay MTU (1450) to a pod of node 2: with DF an ICMP error, without it fragments
            reset(1120).addresses(client + 42, POD_NETWORK + (2 << 8) + 9).tcp(42000, 8080, 0x18).payload(payload, 1460);
            frames.put(1120, build());
            reset(1121).addresses(client + 43, POD_NETWORK + (3 << 8) + 9).flagsAndFragment(0).udp(42001, 5353)
                .payload(payload, 1460);
            frames.put(1121, build());
            // TTL 1: to a pod of node 3, to a pod of this node, to a Service
            reset(1130).addresses(client + 44, POD_NETWORK + (3 << 8) + 10).ttl(1).tcp(42002, 8080, 0x02);
            frames.put(1130, build());
            reset(1131).addresses(client + 45, POD_NETWORK + 10).ttl(1).tcp(42003, 8080, 0x02);
            frames.put(1131, build());
            final int[] f = frontends.get(0);
            reset(1132).addresses(client + 46, f[0]).ttl(1);
            if (f[2] == Protocol.UDP.number())
            {
                builder.udp(42004, f[1]);
            }
            else
            {
                builder.tcp(42004, f[1], 0x02);
            }
            frames.put(1132, build());
            return frames;
        }

        /** Round 1's datagrams the node drops without output: bad VXLAN headers, truncated, not routable. */
        List<byte[]> dropped()
        {
            final List<byte[]> out = new ArrayList<>();
            reset(1200).addresses(POD_NETWORK + (1 << 8) + 250, POD_NETWORK + 3).tcp(43000, 8080, 0x02);
            final byte[] inner = build();
            out.add(ByteBuffer.allocate(8 + inner.length).putInt(0).putInt(1 << 8).put(inner).array()); // I flag clear
            out.add(ByteBuffer.allocate(8 + inner.length).putInt(0x0800_0000).putInt(7 << 8).put(inner).array()); // VNI 7
            out.add(ByteBuffer.allocate(8 + inner.length).putInt(0x0C00_0000).putInt(1 << 8).put(inner).array()); // reserved
            out.add(new byte[]{0x08, 0, 0, 0, 0, 0, 1}); // shorter than the VXLAN header
            out.add(ByteBuffer.allocate(8 + 10).putInt(0x0800_0000).putInt(1 << 8).put(inner, 0, 10).array()); // cut frame
            reset(1201).addresses(POD_NETWORK + (1 << 8) + 251, Ipv4Address.parse("8.8.8.8")).udp(43001, 53);
            out.add(vxlan(build()).array()); // to the Internet: not routable on the overlay
            reset(1202).addresses(POD_NETWORK + (1 << 8) + 252, POD_NETWORK + 4).tcp(43002, 80, 0x02);
            final byte[] bad = build();
            bad[14 + 10] ^= 0x33;
            out.add(vxlan(bad).array()); // bad inner IPv4 checksum
            return out;
        }

        static boolean isServiceFlow(final byte[] delivered)
        {
            final int id = ipId(delivered, 8);
            return id >= 1000 && id < 1060;
        }

        /** Round 2: what the backend (or pod) answers to a delivered request; null for ICMP errors and fragments. */
        byte[] answer(final byte[] d)
        {
            final int ip = 8 + 14;
            final UnsafeBuffer v = new UnsafeBuffer(d);
            final int protocol = d[ip + 9] & 0xFF;
            final int fragment = v.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF;
            if (fragment != 0 || d[ip + 8] == 0)
            {
                return null;
            }
            final int id = ipId(d, 8);
            final int source = v.getInt(ip + 12, ByteOrder.BIG_ENDIAN);
            final int destination = v.getInt(ip + 16, ByteOrder.BIG_ENDIAN);
            final int l4 = ip + (d[ip] & 0x0F) * 4;
            reset(5000 + id % 1000).addresses(destination, source);
            switch (protocol)
            {
                case 6 ->
                {
                    final int flags = d[l4 + 13] & 0x3F;
                    if (flags != 0x02)
                    {
                        return null;
                    }
                    builder.tcp(v.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF, v.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF,
                        0x12).tcpSequence(9_000_000L + id, v.getInt(l4 + 4, ByteOrder.BIG_ENDIAN) + 1L);
                }
                case 17 -> builder.udp(v.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF,
                    v.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF).payload(payload, 20 + id % 300);
                case 1 ->
                {
                    if (d[l4] != 8)
                    {
                        return null;
                    }
                    builder.icmpEcho(0, v.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF, 1).payload(payload, 56);
                }
                default ->
                {
                    return null;
                }
            }
            final int k = (destination - POD_NETWORK) >>> 8;
            return k >= 0 && k < NODES ? build() : null;
        }

        /** Round 3: the clients' ACK with data on each established TCP connection to a Service (to its VIP). */
        Map<Integer, byte[]> acks(final List<byte[]> delivered)
        {
            final Map<Integer, byte[]> frames = new java.util.LinkedHashMap<>();
            for (final byte[] d : delivered)
            {
                final int id = ipId(d, 8);
                final int i = id - 1000;
                final byte[] request = requestOf(i);
                final UnsafeBuffer r = new UnsafeBuffer(request);
                reset(3000 + i).addresses(r.getInt(14 + 12, ByteOrder.BIG_ENDIAN), r.getInt(14 + 16, ByteOrder.BIG_ENDIAN))
                    .tcp(r.getShort(34, ByteOrder.BIG_ENDIAN) & 0xFFFF, r.getShort(36, ByteOrder.BIG_ENDIAN) & 0xFFFF, 0x18)
                    .tcpSequence(100_000L * i + 1, 9_000_000L + id + 1).payload(payload, 1 + i * 23 % 1200);
                frames.put(3000 + i, build());
            }
            return frames;
        }

        private Map<Integer, byte[]> requests;

        private byte[] requestOf(final int i)
        {
            return requests.get(1000 + i);
        }

        Map<Integer, byte[]> requestsFor(final ClusterModel m)
        {
            requests = requests(m);
            return requests;
        }
    }

    // ----------------------------------------------------------------------------------------------- the loadgen

    private void loadgen(final String name, final List<String> mode) throws Exception
    {
        for (int attempt = 1; ; attempt++)
        {
            final List<String> args = new ArrayList<>(mode);
            args.addAll(List.of("--mix", "clusterip"));
            final Node node = startNode(args, LOADGEN_NODE_SECONDS);
            final List<String> datagrams = new ArrayList<>();
            final LoadResult r;
            final TransportTap tap;
            try
            {
                final WorkloadSpec workload = new WorkloadSpec(SERVICES, 4, 1, NODES, 8, 0.25, 0.8, WorkloadSpec.IMIX, 1.0,
                    SyntheticCluster.Mix.CLUSTER_IP);
                final LoadGenerator generator = new LoadGenerator(new LoadGenerator.Options(mode.get(1), "rr", 1,
                    (long)((LOADGEN_NODE_SECONDS - 2) * 1e9), LOADGEN_REQUESTS, 0, workload, 0, 131072,
                    new InetSocketAddress("127.0.1.0", node.port()), false), line -> { }, null);
                tap = TransportTap.install(generator, d -> datagrams.add(HexFormat.of().formatHex(normaliseTag(d))), true);
                r = generator.run();
                assertThat(node.exit().get(30, TimeUnit.SECONDS)).as(node.err().toString()).isZero();
            }
            finally
            {
                node.exit().get(30, TimeUnit.SECONDS);
            }
            System.out.printf("WireGoldenTest: %s: %d requests in %.2f s (the generator's bound: %.0f s), %d timed out%n",
                name, r.requests(), r.elapsedNanos() / 1e9, LOADGEN_NODE_SECONDS - 2, r.timedOut());
            if ((r.timedOut() > 0 || r.late() > 0) && attempt < 3)
            {
                System.out.println("WireGoldenTest: " + name + ": an exchange took over the generator's 500 ms time-out "
                    + "(the machine stalled), which changes the workload: running it again");
                continue;
            }
            assertThat(r.timedOut()).as("exchanges timed out (3 attempts): the workload depended on timing").isZero();
            assertThat(r.late()).isZero();
            assertThat(tap.waits()).as("requests made to wait for the exchange before them").isPositive();
            assertThat(r.requests()).as("the generator reached its bound before its time ran out")
                .isGreaterThanOrEqualTo(LOADGEN_REQUESTS);
            record(name, datagrams, "node=" + node.counters() + " generator={sent=" + r.sent() + ",received="
                + r.received() + ",requests=" + r.requests() + ",flows_completed=" + r.flowsCompleted() + ",timed_out="
                + r.timedOut() + ",late=" + r.late() + ",backend_changed=" + r.backendChanged() + ",untranslated="
                + r.untranslated() + ",unexpected=" + r.unexpected() + "}");
            return;
        }
    }

    /**
     * A datagram the generator received with its tag's send time (the first 8 bytes of the TCP/UDP payload) set to
     * 0 and the L4 checksum adjusted incrementally (RFC 1624: HC' = ~(~HC + ~m + m')), so that only the time goes.
     */
    static byte[] normaliseTag(final byte[] d)
    {
        final int ip = 8 + 14;
        if (d.length < ip + 20 || (d[ip] & 0xF0) != 0x40)
        {
            return d;
        }
        final int protocol = d[ip + 9] & 0xFF;
        final int l4 = ip + (d[ip] & 0x0F) * 4;
        final int fragment = (d[ip + 6] & 0x3F) << 8 | d[ip + 7] & 0xFF;
        if (fragment != 0 || (protocol != 6 && protocol != 17) || d.length < l4 + 20)
        {
            return d;
        }
        final int tag = l4 + (protocol == 6 ? ((d[l4 + 12] & 0xF0) >>> 2) : 8);
        final int checksumAt = l4 + (protocol == 6 ? 16 : 6);
        if (d.length < tag + 8)
        {
            return d;
        }
        final byte[] n = d.clone();
        final int checksum = (n[checksumAt] & 0xFF) << 8 | n[checksumAt + 1] & 0xFF;
        if (protocol == 17 && checksum == 0)
        {
            java.util.Arrays.fill(n, tag, tag + 8, (byte)0); // no checksum to adjust
            return n;
        }
        long sum = ~checksum & 0xFFFF;
        for (int i = 0; i < 8; i += 2)
        {
            final int old = (n[tag + i] & 0xFF) << 8 | n[tag + i + 1] & 0xFF;
            sum += ~old & 0xFFFF; // + ~m, and m' = 0
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        int adjusted = ~(int)sum & 0xFFFF;
        if (protocol == 17 && adjusted == 0)
        {
            adjusted = 0xFFFF; // UDP sends a computed 0 as all ones
        }
        java.util.Arrays.fill(n, tag, tag + 8, (byte)0);
        n[checksumAt] = (byte)(adjusted >>> 8);
        n[checksumAt + 1] = (byte)adjusted;
        return n;
    }
}
