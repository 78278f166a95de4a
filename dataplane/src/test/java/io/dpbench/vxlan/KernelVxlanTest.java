package io.dpbench.vxlan;

import io.dpbench.NetnsSandbox;
import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.UdpFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Linux kernel as the oracle for the overlay: a flannel-style node in network namespaces (a pod namespace
 * behind a veth, the node with a {@code vxlan id 1 dstport 8472 nolearning} device, FDB and neighbour entries as
 * flannel writes them, and a veth underlay to a remote node), three packets from the pod (a small UDP datagram sent
 * twice on one socket, a 1500-byte one with DF, a 1500-byte one without), captured with dumpcap as they enter the
 * node and as they leave it. dpbench forwards the captured inner frames and must produce the same frames byte for
 * byte, except the fields the kernel draws at random, which this test names and then copies over before comparing:
 * the outer IPv4 identification (a per-destination counter with a random start), the outer UDP source port (the
 * flow hash is seeded per boot: only its range 32768-60998 and its stability per flow are checked) and the two
 * checksums that cover them; for the ICMP error, its IPv4 identification and header checksum.
 */
class KernelVxlanTest
{
    private static final long POD_MAC = 0x02_00_00_00_00_05L;
    private static final long NODE_POD_SIDE_MAC = 0x02_00_00_00_00_01L;
    private static final long UNDERLAY_MAC = 0x02_00_00_00_0a_0aL;
    private static final long REMOTE_UNDERLAY_MAC = 0x02_00_00_00_0b_0bL;
    private static final long VTEP_MAC = 0x0a_00_00_00_00_01L;
    private static final long REMOTE_VTEP_MAC = 0x0a_00_00_00_00_02L;

    @TempDir
    Path dir;

    @Test
    void dpbenchPutsOnTheWireWhatTheKernelsVxlanDevicePuts() throws Exception
    {
        NetnsSandbox.requireOrSkip("dumpcap", "bash", "ethtool");
        try (NetnsSandbox sandbox = new NetnsSandbox())
        {
            final String pod = sandbox.create();
            final String node = sandbox.create();
            final String remote = sandbox.create();
            ok("ip", "link", "add", "pv0", "netns", pod, "type", "veth", "peer", "name", "pv1", "netns", node);
            ok("ip", "link", "add", "uv0", "netns", node, "type", "veth", "peer", "name", "uv1", "netns", remote);
            ok("ip", "-n", pod, "link", "set", "pv0", "address", mac(POD_MAC), "up");
            ok("ip", "-n", pod, "addr", "add", "10.244.0.5/24", "dev", "pv0");
            ok("ip", "-n", pod, "route", "add", "default", "via", "10.244.0.1");
            ok("ip", "-n", pod, "neigh", "add", "10.244.0.1", "lladdr", mac(NODE_POD_SIDE_MAC), "dev", "pv0", "nud", "permanent");
            ok("ip", "-n", node, "link", "set", "pv1", "address", mac(NODE_POD_SIDE_MAC), "up");
            ok("ip", "-n", node, "addr", "add", "10.244.0.1/24", "dev", "pv1");
            ok("ip", "-n", node, "link", "set", "uv0", "address", mac(UNDERLAY_MAC), "up");
            ok("ip", "-n", node, "addr", "add", "192.168.0.10/24", "dev", "uv0");
            // veth offloads checksums: without this the captures show partial (pseudo-header) UDP checksums that a
            // NIC would complete, not what goes on a wire (on the underlay, and in the pod's packets the node forwards)
            ok("ip", "netns", "exec", node, "ethtool", "-K", "uv0", "tx", "off");
            ok("ip", "netns", "exec", pod, "ethtool", "-K", "pv0", "tx", "off");
            ok("ip", "-n", remote, "link", "set", "uv1", "address", mac(REMOTE_UNDERLAY_MAC), "up");
            ok("ip", "-n", remote, "addr", "add", "192.168.0.11/24", "dev", "uv1");
            ok("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            final NetnsSandbox.Result vxlan = NetnsSandbox.run(null, "ip", "-n", node, "link", "add", "flannel.1", "type",
                "vxlan", "id", "1", "local", "192.168.0.10", "dev", "uv0", "dstport", "8472", "nolearning");
            assumeTrue(vxlan.exit() == 0, "skipped: this kernel or iproute2 cannot create a vxlan device: " + vxlan.err());
            ok("ip", "-n", node, "link", "set", "flannel.1", "address", mac(VTEP_MAC), "up");
            ok("ip", "-n", node, "addr", "add", "10.244.0.0/32", "dev", "flannel.1");
            ok("ip", "-n", node, "neigh", "add", "10.244.1.0", "lladdr", mac(REMOTE_VTEP_MAC), "dev", "flannel.1", "nud", "permanent");
            ok("ip", "-n", node, "route", "add", "10.244.1.0/24", "via", "10.244.1.0", "dev", "flannel.1", "onlink");
            ok("bridge", "-n", node, "fdb", "add", mac(REMOTE_VTEP_MAC), "dev", "flannel.1", "dst", "192.168.0.11");
            ok("ip", "-n", node, "neigh", "add", "192.168.0.11", "lladdr", mac(REMOTE_UNDERLAY_MAC), "dev", "uv0", "nud", "permanent");
            assertThat(NetnsSandbox.run(null, "ip", "-n", node, "link", "show", "flannel.1").out()).contains("mtu 1450");

            final Path inner = dir.resolve("inner.pcap");
            final Path outer = dir.resolve("outer.pcap");
            // pod side: 2 small datagrams, the DF one, the fragmented one in, the ICMP error out
            final Process innerCapture = capture(node, "pv1", "ip", 5, inner);
            // underlay: 2 small encapsulated frames and 2 fragments (the remote answers port unreachable: filtered out)
            final Process outerCapture = capture(node, "uv0", "udp dst port 8472", 4, outer);
            send(pod, "exec 3>/dev/udp/10.244.1.7/5002; printf hi >&3; printf hi >&3");
            send(pod, "printf '%01472d' 0 > /dev/udp/10.244.1.7/5001");
            ok("ip", "netns", "exec", pod, "sysctl", "-qw", "net.ipv4.ip_no_pmtu_disc=1");
            send(pod, "printf '%01472d' 0 > /dev/udp/10.244.1.9/5003");
            assertThat(innerCapture.waitFor(20, TimeUnit.SECONDS)).as("pod-side capture finished").isTrue();
            assertThat(outerCapture.waitFor(20, TimeUnit.SECONDS)).as("underlay capture finished").isTrue();

            final List<byte[]> podFrames = read(inner);
            final List<byte[]> kernelOuter = read(outer);
            final List<byte[]> fromPod = new ArrayList<>();
            final List<byte[]> kernelIcmp = new ArrayList<>();
            for (final byte[] f : podFrames)
            {
                (EthernetFlyweight.readMac(new UnsafeBuffer(f), 6) == POD_MAC ? fromPod : kernelIcmp).add(f);
            }
            assertThat(fromPod).hasSize(4);
            assertThat(kernelIcmp).hasSize(1);
            assertThat(kernelOuter).hasSize(4);

            final LocalVtep local = new LocalVtep(Ipv4Address.parse("192.168.0.10"), UNDERLAY_MAC, VTEP_MAC,
                Ipv4Address.parse("10.244.0.1"));
            final RemoteVtep peer = new RemoteVtep(Ipv4Address.parse("192.168.0.11"), REMOTE_UNDERLAY_MAC, REMOTE_VTEP_MAC);
            final OverlayForwarder forwarder = new OverlayForwarder(new VxlanEncapsulator(VxlanConfig.flannel(), local), local);
            final List<byte[]> dpbenchOut = new ArrayList<>();
            for (final byte[] f : fromPod)
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[f.length + 128]);
                buffer.putBytes(64, f);
                forwarder.forward(buffer, 64, f.length, peer, (b, offset, length) ->
                {
                    final byte[] copy = new byte[length];
                    b.getBytes(offset, copy);
                    dpbenchOut.add(copy);
                });
            }
            final List<byte[]> dpbenchOuter = new ArrayList<>();
            final List<byte[]> dpbenchIcmp = new ArrayList<>();
            for (final byte[] f : dpbenchOut)
            {
                (EthernetFlyweight.readMac(new UnsafeBuffer(f), 0) == POD_MAC ? dpbenchIcmp : dpbenchOuter).add(f);
            }
            assertThat(dpbenchOuter).hasSize(4);
            assertThat(dpbenchIcmp).hasSize(1);
            assertThat(forwarder.count(OverlayForwarder.Counter.FRAG_NEEDED)).isOne();
            assertThat(forwarder.count(OverlayForwarder.Counter.FRAGMENTS)).isEqualTo(2);

            final int[] ports = new int[4];
            for (int i = 0; i < 4; i++)
            {
                final byte[] kernel = kernelOuter.get(i);
                final UnsafeBuffer k = new UnsafeBuffer(kernel);
                ports[i] = k.getShort(34, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                assertThat(ports[i]).as("kernel's outer source port of frame %d", i).isBetween(32768, 60998);
                final byte[] ours = adoptKernelRandomFields(dpbenchOuter.get(i), k);
                assertThat(HexFormat.of().formatHex(ours)).as("outer frame %d, byte for byte", i)
                    .isEqualTo(HexFormat.of().formatHex(kernel));
            }
            assertThat(ports[1]).as("one flow, one source port").isEqualTo(ports[0]);
            assertThat(ports[3]).as("both fragments of a packet, one source port").isEqualTo(ports[2]);

            final byte[] kernelError = kernelIcmp.get(0);
            final byte[] ourError = dpbenchIcmp.get(0);
            assertThat(kernelError.length).isEqualTo(14 + 576);
            final UnsafeBuffer e = new UnsafeBuffer(ourError);
            e.putShort(14 + 4, new UnsafeBuffer(kernelError).getShort(14 + 4));
            new Ipv4Flyweight().wrap(e, 14).updateChecksum();
            assertThat(HexFormat.of().formatHex(ourError)).as("ICMP fragmentation-needed, byte for byte")
                .isEqualTo(HexFormat.of().formatHex(kernelError));
        }
    }

    /** dpbench's frame with the kernel's outer IPv4 identification and UDP source port, checksums recomputed. */
    static byte[] adoptKernelRandomFields(final byte[] frame, final UnsafeBuffer kernel)
    {
        final byte[] copy = frame.clone();
        final UnsafeBuffer b = new UnsafeBuffer(copy);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, 14);
        ip.identification(kernel.getShort(14 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF).updateChecksum();
        final UdpFlyweight udp = new UdpFlyweight().wrap(b, 34);
        udp.sourcePort(kernel.getShort(34, ByteOrder.BIG_ENDIAN) & 0xFFFF).updateChecksum(ip.source(), ip.destination());
        return copy;
    }

    private static Process capture(final String ns, final String device, final String filter, final int packets,
        final Path file) throws Exception
    {
        final Process p = new ProcessBuilder("ip", "netns", "exec", ns, "dumpcap", "-q", "-P", "-i", device, "-f", filter,
            "-c", Integer.toString(packets), "-a", "duration:15", "-w", file.toString()).redirectErrorStream(true).start();
        // dumpcap says "Capturing on 'dev'" once it is ready; send nothing before that
        final BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String line;
        while ((line = out.readLine()) != null && !line.contains("Capturing on"))
        {
            assertThat(System.nanoTime()).as("dumpcap did not start: " + line).isLessThan(deadline);
        }
        assertThat(line).as("dumpcap on " + device + " exited before capturing").isNotNull();
        Thread.sleep(1000); // "Capturing on" comes just before the capture filter is in place
        new Thread(() ->
        {
            try
            {
                out.transferTo(java.io.Writer.nullWriter());
            }
            catch (final java.io.IOException ignored)
            {
                // dumpcap exited
            }
        }).start();
        return p;
    }

    private static void send(final String ns, final String script) throws Exception
    {
        ok("ip", "netns", "exec", ns, "bash", "-c", script);
    }

    private static List<byte[]> read(final Path file) throws Exception
    {
        final List<byte[]> frames = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(file))
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

    private static void ok(final String... command) throws Exception
    {
        final NetnsSandbox.Result r = NetnsSandbox.run(null, command);
        assertThat(r.exit()).as("%s: %s", String.join(" ", command), r.err()).isZero();
    }

    private static String mac(final long mac)
    {
        return EthernetFlyweight.macToString(mac);
    }
}
