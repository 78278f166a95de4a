package io.dpbench.wire;

import io.dpbench.cli.Main;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * dpbench run on loopback: VXLAN datagrams from pods on node 1 to ClusterIPs come out DNATed to the backends' nodes
 * (127.0.1.k) or to this node's pods (127.0.2.0); the backends' answers come back to node 1 from the VIP:port.
 */
class WireModeTest
{
    private static final int FLOWS = 40;
    /** Frames that come back as ICMP errors (or pass, when their backend is on this node). */
    private static final int ODD = 8;

    /** With 1 worker and socket, and with 2 workers on 2 SO_REUSEPORT sockets (each its own rx thread). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void requestsReachTheirBackendsNodesAndRepliesComeBackFromTheVip(final int workers) throws Exception
    {
        final int port = 20_000 + (int)(ProcessHandle.current().pid() % 20_000) + workers;
        final DatagramChannel[] nodes = new DatagramChannel[4];
        final DatagramChannel pods = bind("127.0.2.0", port);
        for (int k = 1; k < 4; k++)
        {
            nodes[k] = bind("127.0.1." + k, port);
        }
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.run(new String[]{"run", "--mode",
            "ipvs", "--scheduler", "mh", "--services", "20", "--nodes", "4", "--port", String.valueOf(port),
            "--duration", "6", "--interval", "0", "--workers", String.valueOf(workers), "--json"}, new PrintWriter(out),
            new PrintWriter(err)));
        try
        {
            awaitListening(port, run);
            final InetSocketAddress node0 = new InetSocketAddress("127.0.1.0", port);
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
            for (int i = 0; i < FLOWS; i++)
            {
                final int length = new FrameBuilder().addresses(Ipv4Address.parse("10.244.1.200") + i % 20,
                    Ipv4Address.parse("10.96.0.1") + i % 20).tcp(40000 + i, 80, 0x02).build(frame, 8);
                nodes[1].send(vxlan(frame, length), node0);
            }
            // what node 0 sent: each request to its backend's node, DNATed
            final List<byte[]> requests = new ArrayList<>();
            final Map<Integer, Integer> perNode = new HashMap<>();
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (requests.size() < FLOWS && System.nanoTime() < deadline)
            {
                for (int k = 0; k < 4; k++)
                {
                    final DatagramChannel c = k == 0 ? pods : nodes[k];
                    final ByteBuffer b = ByteBuffer.allocate(4096);
                    if (c.receive(b) == null)
                    {
                        continue;
                    }
                    final byte[] d = received(b);
                    assertThat(d[0]).as("VXLAN I flag").isEqualTo((byte)0x08);
                    final UnsafeBuffer v = new UnsafeBuffer(d);
                    final int backend = v.getInt(8 + 14 + 16, ByteOrder.BIG_ENDIAN);
                    assertThat((backend - Ipv4Address.parse("10.244.0.0")) >>> 8).as("backend on the node it was sent to")
                        .isEqualTo(k);
                    assertThat(v.getShort(8 + 36, ByteOrder.BIG_ENDIAN) & 0xFFFF).as("DNATed to the target port").isEqualTo(8080);
                    perNode.merge(k, 1, Integer::sum);
                    requests.add(d);
                }
                Thread.sleep(5);
            }
            assertThat(requests).hasSize(FLOWS);
            assertThat(perNode.keySet()).as("backends on several nodes").hasSizeGreaterThan(1);
            // each backend answers from its node
            for (final byte[] r : requests)
            {
                final UnsafeBuffer v = new UnsafeBuffer(r);
                final int client = v.getInt(8 + 14 + 12, ByteOrder.BIG_ENDIAN);
                final int backend = v.getInt(8 + 14 + 16, ByteOrder.BIG_ENDIAN);
                final int clientPort = v.getShort(8 + 34, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                final int k = (backend - Ipv4Address.parse("10.244.0.0")) >>> 8;
                final int length = new FrameBuilder().addresses(backend, client).tcp(8080, clientPort, 0x12).build(frame, 8);
                (k == 0 ? pods : nodes[k]).send(vxlan(frame, length), node0);
            }
            int replies = 0;
            final long until = System.nanoTime() + 10_000_000_000L;
            while (replies < FLOWS && System.nanoTime() < until)
            {
                final ByteBuffer b = ByteBuffer.allocate(4096);
                if (nodes[1].receive(b) == null)
                {
                    Thread.sleep(5);
                    continue;
                }
                final UnsafeBuffer v = new UnsafeBuffer(received(b));
                assertThat(v.getInt(8 + 14 + 12, ByteOrder.BIG_ENDIAN) >>> 8).as("from the VIP")
                    .isEqualTo(Ipv4Address.parse("10.96.0.0") >>> 8);
                assertThat(v.getShort(8 + 34, ByteOrder.BIG_ENDIAN) & 0xFFFF).as("from port 80").isEqualTo(80);
                replies++;
            }
            assertThat(replies).isEqualTo(FLOWS);
            assertThat(run.get(30, TimeUnit.SECONDS)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("\"received\":" + 2 * FLOWS).contains("\"sent\":" + 2 * FLOWS)
                .contains("\"dropped\":{}");
        }
        finally
        {
            run.get(30, TimeUnit.SECONDS);
            pods.close();
            for (int k = 1; k < 4; k++)
            {
                nodes[k].close();
            }
        }
    }

    /**
     * Zero copy changes nothing on the wire: the same datagrams (requests to Services on every node, a frame too
     * large for the overlay's MTU with DF set, one with TTL 1, a UDP request, replies) leave byte for byte the same
     * whether the node processes and sends the receive buffer itself or copies every frame in and out; and the
     * counters say which path each frame took, every received buffer given back at the end.
     */
    @Test
    void zeroCopyAndCopiedFramesLeaveTheSameBytes() throws Exception
    {
        final int port = 21_000 + (int)(ProcessHandle.current().pid() % 19_000);
        final RunOutput zeroCopy = exchange(port, false, null);
        final RunOutput copied = exchange(port, true, null);
        assertThat(zeroCopy.datagrams).as("what left the node, per destination").isEqualTo(copied.datagrams);
        final long icmp = zeroCopy.datagrams.values().stream().flatMap(List::stream)
            .filter(h -> h.startsWith("01", 2 * (8 + 14 + 9))).count();
        assertThat(icmp).as("ICMP errors for the frames too large or out of TTL").isBetween(1L, (long)ODD);
        final long out = zeroCopy.datagrams.values().stream().mapToInt(List::size).sum();
        final long in = 2L * (FLOWS + ODD) - icmp;
        assertThat(out).as("every frame left: requests, replies, ICMP errors; the odd frames answered").isEqualTo(in);

        final com.fasterxml.jackson.databind.JsonNode z = zeroCopy.counters;
        assertThat(z.get("received").asLong()).isEqualTo(in);
        assertThat(z.get("sent").asLong()).isEqualTo(out);
        assertThat(z.get("rx-zero-copy").asLong()).as("every frame handed over in its receive buffer").isEqualTo(in);
        assertThat(z.get("rx-copied").asLong()).isZero();
        assertThat(z.get("tx-copied").asLong()).as("only the ICMP errors, made in the forwarder's own buffer").isEqualTo(icmp);
        assertThat(z.get("tx-zero-copy").asLong()).isEqualTo(out - icmp);
        assertThat(z.get("held").asLong()).as("receive buffers still referenced after the stop").isZero();
        final com.fasterxml.jackson.databind.JsonNode c = copied.counters;
        assertThat(c.get("received").asLong()).isEqualTo(in);
        assertThat(c.get("rx-zero-copy").asLong()).isZero();
        assertThat(c.get("rx-copied").asLong()).isEqualTo(in);
        assertThat(c.get("tx-zero-copy").asLong()).isZero();
        assertThat(c.get("tx-copied").asLong()).isEqualTo(out);
    }

    /**
     * The issue's `--listen 127.0.0.1:PORT`: node 0 on a loopback address of its own, the other nodes still at
     * 127.0.1.k:PORT; the same frames leave as when it listens on its VTEP address. Bad listen addresses are clear
     * errors (exit 2).
     */
    @Test
    void nodeZeroListensWhereItIsTold() throws Exception
    {
        final int port = 22_000 + (int)(ProcessHandle.current().pid() % 18_000);
        final RunOutput there = exchange(port, false, "127.0.0.1");
        final RunOutput vtep = exchange(port, false, null);
        assertThat(there.datagrams).isEqualTo(vtep.datagrams);
        assertThat(there.counters.get("received").asLong()).isEqualTo(vtep.counters.get("received").asLong());
        for (final String[] bad : new String[][]{{"10.0.0.1:8472", "loopback"}, {"127.0.1.2:8472", "another node's VTEP"},
            {"127.0.2.0:8472", "local pods"}, {"nohost", "expected HOST:PORT"}, {"127.0.0.1:0", "1..65535"}})
        {
            final StringWriter err = new StringWriter();
            assertThat(Main.run(new String[]{"run", "--mode", "ipvs", "--services", "5", "--listen", bad[0], "--duration",
                "1"}, new PrintWriter(new StringWriter()), new PrintWriter(err))).as(bad[0]).isEqualTo(2);
            assertThat(err.toString()).contains(bad[1]);
        }
        final StringWriter err = new StringWriter();
        assertThat(Main.run(new String[]{"run", "--mode", "ipvs", "--services", "5", "--listen", "127.0.0.1:8000", "--port",
            "8001", "--duration", "1"}, new PrintWriter(new StringWriter()), new PrintWriter(err))).isEqualTo(2);
        assertThat(err.toString()).contains("differ");
    }

    private record RunOutput(Map<Integer, List<String>> datagrams, com.fasterxml.jackson.databind.JsonNode counters)
    {
    }

    /** One run: requests and odd frames from node 1, the backends' replies; what each destination received. */
    private static RunOutput exchange(final int port, final boolean copyFrames, final String listenHost) throws Exception
    {
        final DatagramChannel[] nodes = new DatagramChannel[4];
        nodes[0] = bind("127.0.2.0", port);
        for (int k = 1; k < 4; k++)
        {
            nodes[k] = bind("127.0.1." + k, port);
        }
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final List<String> args = new ArrayList<>(List.of("run", "--mode", "ipvs", "--scheduler", "mh", "--services",
            "20", "--nodes", "4", "--port", String.valueOf(port), "--duration", "4", "--interval", "0", "--json"));
        if (copyFrames)
        {
            args.add("--copy-frames");
        }
        if (listenHost != null)
        {
            args.add("--listen");
            args.add(listenHost + ":" + port);
        }
        final CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.run(args.toArray(new String[0]),
            new PrintWriter(out), new PrintWriter(err)));
        final Map<Integer, List<String>> seen = new java.util.TreeMap<>();
        try
        {
            awaitListening(listenHost != null ? listenHost : "127.0.1.0", port, run);
            final InetSocketAddress node0 = new InetSocketAddress(listenHost != null ? listenHost : "127.0.1.0", port);
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
            final int client = Ipv4Address.parse("10.244.1.200");
            for (int i = 0; i < FLOWS; i++)
            {
                final FrameBuilder b = new FrameBuilder().addresses(client + i % 20, Ipv4Address.parse("10.96.0.1") + i % 20);
                final int length = b.payload(new byte[i * 7], i * 7).tcp(40000 + i, 80, 0x02).build(frame, 8);
                nodes[1].send(vxlan(frame, length), node0);
            }
            // to backends on other nodes, too large for the overlay (1450) with DF, or with TTL 1: ICMP errors back,
            // which the forwarder makes in its own buffer (sent from a copy)
            final byte[] big = new byte[1460];
            for (int i = 0; i < ODD; i++)
            {
                final FrameBuilder b = new FrameBuilder().addresses(client, Ipv4Address.parse("10.96.0.1") + i % 10);
                nodes[1].send(vxlan(frame, (i < ODD / 2 ? b.flagsAndFragment(0x4000).payload(big, big.length) : b.ttl(1))
                    .tcp(39000 + i, 80, 0x02).build(frame, 8)), node0);
            }
            final List<byte[]> requests = new ArrayList<>();
            collect(nodes, FLOWS + ODD, seen, requests);
            for (final byte[] r : requests)
            {
                final UnsafeBuffer v = new UnsafeBuffer(r);
                if ((v.getByte(8 + 14 + 9) & 0xFF) == 1)
                {
                    continue; // an ICMP error to the client: no answer
                }
                final int from = v.getInt(8 + 14 + 12, ByteOrder.BIG_ENDIAN);
                final int backend = v.getInt(8 + 14 + 16, ByteOrder.BIG_ENDIAN);
                final int clientPort = v.getShort(8 + 34, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                final int k = (backend - Ipv4Address.parse("10.244.0.0")) >>> 8;
                final FrameBuilder b = new FrameBuilder().addresses(backend, from);
                final int length = b.tcp(8080, clientPort, 0x12).build(frame, 8);
                nodes[k].send(vxlan(frame, length), node0);
            }
            collect(nodes, (int)requests.stream().filter(r -> r[8 + 14 + 9] == 6).count(), seen, new ArrayList<>());
            assertThat(run.get(30, TimeUnit.SECONDS)).as(err.toString()).isZero();
        }
        finally
        {
            run.get(30, TimeUnit.SECONDS);
            for (final DatagramChannel c : nodes)
            {
                c.close();
            }
        }
        for (final List<String> l : seen.values())
        {
            java.util.Collections.sort(l);
        }
        final String json = out.toString().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow();
        return new RunOutput(seen, new com.fasterxml.jackson.databind.ObjectMapper().readTree(json));
    }

    /** Receive {@code expected} datagrams (bounded wait), recording them per destination (0: this node's pods). */
    private static void collect(final DatagramChannel[] nodes, final int expected, final Map<Integer, List<String>> seen,
        final List<byte[]> got) throws Exception
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        int n = 0;
        while (n < expected && System.nanoTime() < deadline)
        {
            boolean any = false;
            for (int k = 0; k < nodes.length; k++)
            {
                final ByteBuffer b = ByteBuffer.allocate(4096);
                if (nodes[k].receive(b) != null)
                {
                    final byte[] d = received(b);
                    seen.computeIfAbsent(k, x -> new ArrayList<>()).add(java.util.HexFormat.of().formatHex(d));
                    got.add(d);
                    n++;
                    any = true;
                }
            }
            if (!any)
            {
                Thread.sleep(2);
            }
        }
        assertThat(n).as("datagrams received").isEqualTo(expected);
    }

    /** SIGTERM: receiving stops, the workers drain, the final counters are printed and the conntrack file closed. */
    @Test
    void sigtermStopsCleanly(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir) throws Exception
    {
        final int port = 45_000 + (int)(ProcessHandle.current().pid() % 10_000);
        final java.nio.file.Path table = dir.resolve("conntrack.dat");
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
            "@" + System.getenv("DPBENCH_ROOT") + "/jvm.flags", "-cp", System.getProperty("java.class.path"),
            Main.class.getName(), "run", "--mode", "iptables", "--services", "10", "--port", String.valueOf(port),
            "--conntrack", table.toString(), "--interval", "0"));
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8));
        try
        {
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("run: node 0 listening"))
            {
                // JVM and Chronicle start-up lines
            }
            assertThat(line).as("started").isNotNull();
            // SIGTERM with kill(1): Process.destroy would also close our end of its output
            assertThat(new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor()).isZero();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("stopped").isTrue();
            final String rest = out.lines().reduce("", (a, b) -> a + b + "\n");
            assertThat(rest).contains("run: stopped: {received=0, sent=0");
        }
        finally
        {
            p.destroyForcibly();
        }
        final StringWriter count = new StringWriter();
        assertThat(Main.run(new String[]{"conntrack", "count", "--table", table.toString()}, new PrintWriter(count),
            new PrintWriter(new StringWriter()))).isZero();
        assertThat(count.toString().strip()).isEqualTo("0");
    }

    @Test
    void aPortInUseIsAClearError() throws Exception
    {
        final int port = 40_000 + (int)(ProcessHandle.current().pid() % 20_000);
        try (DatagramChannel taken = bind("127.0.1.0", port))
        {
            final StringWriter err = new StringWriter();
            assertThat(Main.run(new String[]{"run", "--mode", "ipvs", "--services", "5", "--port", String.valueOf(port),
                "--duration", "1"}, new PrintWriter(new StringWriter()), new PrintWriter(err))).isEqualTo(1);
            assertThat(err.toString()).contains("cannot listen on /127.0.1.0:" + port);
        }
        final StringWriter err = new StringWriter();
        assertThat(Main.run(new String[]{"run", "--mode", "ipvs", "--services", "5", "--port", "70000"},
            new PrintWriter(new StringWriter()), new PrintWriter(err))).isEqualTo(2);
        assertThat(err.toString()).contains("--port must be in 1..65535");
    }

    private static DatagramChannel bind(final String address, final int port) throws Exception
    {
        final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
        c.bind(new InetSocketAddress(address, port));
        c.configureBlocking(false);
        return c;
    }

    /** Wait (at most 20 s) until node 0's socket is bound: a plain bind of its address then fails. */
    private static void awaitListening(final int port, final CompletableFuture<Integer> run) throws Exception
    {
        awaitListening("127.0.1.0", port, run);
    }

    private static void awaitListening(final String host, final int port, final CompletableFuture<Integer> run)
        throws Exception
    {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline && !run.isDone())
        {
            try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET))
            {
                probe.bind(new InetSocketAddress(host, port));
            }
            catch (final java.net.BindException ex)
            {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("dpbench run did not start listening");
    }

    /** The VXLAN datagram for the inner frame at offset 8 of {@code frame}: header (I flag, VNI 1), then the frame. */
    private static ByteBuffer vxlan(final UnsafeBuffer frame, final int length)
    {
        frame.putInt(0, 0x0800_0000, ByteOrder.BIG_ENDIAN);
        frame.putInt(4, 1 << 8, ByteOrder.BIG_ENDIAN);
        final byte[] d = new byte[8 + length];
        frame.getBytes(0, d);
        return ByteBuffer.wrap(d);
    }

    private static byte[] received(final ByteBuffer b)
    {
        b.flip();
        final byte[] d = new byte[b.remaining()];
        b.get(d);
        return d;
    }
}
