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
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline && !run.isDone())
        {
            try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET))
            {
                probe.bind(new InetSocketAddress("127.0.1.0", port));
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
