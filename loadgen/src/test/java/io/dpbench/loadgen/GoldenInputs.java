package io.dpbench.loadgen;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The hand-built input captures of {@link ReplayGoldenTest}: seeded by construction (no randomness at all), so the
 * same code writes the same bytes. Built with dataplane's {@link FrameBuilder}; the test records each input's hash
 * too, so that a change of the builder shows up as an input change, not as a dataplane change.
 */
final class GoldenInputs
{
    /** 2025-11-24T16:00:00Z: a fixed pcap epoch. */
    static final long T0 = 1_764_000_000_000_000_000L;
    static final long MS = 1_000_000L;
    static final int NODES = 4;
    static final int NODE_IP = Ipv4Address.parse("192.168.0.10");
    static final int VXLAN_PORT = 8472;

    static final OverlayTopology TOPOLOGY = OverlayTopology.generate(NODES);

    private final FrameBuilder builder = new FrameBuilder();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1 << 17]);
    private final byte[] payload = new byte[70_000];

    GoldenInputs()
    {
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 31 + (i >>> 8));
        }
    }

    // ------------------------------------------------------------------------------------------------ frame helpers

    /** A fresh builder state: default MACs, no VLAN, DF, TTL 64, no options, no payload. */
    private FrameBuilder reset()
    {
        return builder.macs(0x02_00_00_00_00_01L, 0x02_00_00_00_00_02L).vlan(0, 100).tos(0).identification(0)
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

    /** {@code inner} as the VXLAN datagram node {@code from}'s VTEP sends to {@code to} (0 = this node). */
    byte[] vxlan(final byte[] inner, final int from, final int outerDestination, final int destinationPort,
        final int word0, final int word1, final boolean udpChecksum, final int outerFlags, final byte[] outerOptions,
        final int identification)
    {
        final RemoteVtep source = TOPOLOGY.remote(from);
        final byte[] udpPayload = new byte[8 + inner.length];
        final UnsafeBuffer p = new UnsafeBuffer(udpPayload);
        p.putInt(0, word0, ByteOrder.BIG_ENDIAN);
        p.putInt(4, word1, ByteOrder.BIG_ENDIAN);
        p.putBytes(8, inner);
        builder.macs(source.underlayMac(), TOPOLOGY.local().underlayMac()).vlan(0, 100).tos(0)
            .identification(identification).flagsAndFragment(outerFlags).ttl(64).ipOptions(outerOptions)
            .addresses(source.address(), outerDestination).udp(32768 + 1000 * from + (identification & 0xFF), destinationPort)
            .udpChecksum(udpChecksum).payload(udpPayload, udpPayload.length);
        return build();
    }

    /** The VXLAN datagram of flannel's device on node {@code from} to this node: VNI 1, I flag, checksummed. */
    byte[] vxlan(final byte[] inner, final int from, final int identification)
    {
        return vxlan(inner, from, TOPOLOGY.local().address(), VXLAN_PORT, 0x0800_0000, 1 << 8, true, 0, new byte[0],
            identification);
    }

    /** Inner MACs of a frame that node {@code from}'s vxlan device sends to this node's. */
    private FrameBuilder innerMacs(final int from)
    {
        return builder.macs(TOPOLOGY.remote(from).vtepMac(), TOPOLOGY.local().vtepMac());
    }

    private static void fixIpChecksum(final byte[] f, final int ip)
    {
        final UnsafeBuffer b = new UnsafeBuffer(f);
        b.putShort(ip + 10, (short)0);
        final int ihl = (f[ip] & 0x0F) * 4;
        long sum = 0;
        for (int i = 0; i < ihl; i += 2)
        {
            sum += b.getShort(ip + i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        b.putShort(ip + 10, (short)~sum, ByteOrder.BIG_ENDIAN);
    }

    private static void putShort(final byte[] f, final int at, final int value)
    {
        f[at] = (byte)(value >>> 8);
        f[at + 1] = (byte)value;
    }

    // --------------------------------------------------------------------------------------------- conversations

    /** One client's connection to a frontend (or to an address with no Service). */
    record Flow(int index, int client, int clientPort, int destination, int port, int protocol, boolean dontFragment,
        boolean answered)
    {
        int id()
        {
            return index + 1;
        }
    }

    /**
     * The flows of the conversation captures, from the cluster: two flows from one pod of this node to every
     * ClusterIP:port (ClientIP affinity, one backend per flow), an outside client to every node port, clients inside
     * and outside the source ranges to every load-balancer IP, an outside client to every external IP; hairpin
     * (a backend to its own Service), the node itself to ClusterIPs, ICMP echo, pod to pod without a Service, a port
     * no Service has; some UDP flows get no answer.
     */
    static List<Flow> flows(final ClusterModel model)
    {
        final List<Flow> flows = new ArrayList<>();
        final int pods = Ipv4Address.parse("10.244.0.200");
        final int outside = Ipv4Address.parse("203.0.113.1");
        final int outsideRanges = Ipv4Address.parse("192.0.2.1");
        final int externalClients = Ipv4Address.parse("198.51.100.1");
        for (final Service s : model.services())
        {
            for (final ServicePort p : s.ports())
            {
                final int protocol = p.protocol().number();
                final int clusterIP = Ipv4Address.parse(s.clusterIP());
                final int client = pods + flows.size() % 50;
                add(flows, client, clusterIP, p.port(), protocol);
                add(flows, client, clusterIP, p.port(), protocol);
                if (p.nodePort() > 0)
                {
                    add(flows, outside + flows.size() % 200, NODE_IP, p.nodePort(), protocol);
                }
                for (final String lb : s.loadBalancerIngressIPs())
                {
                    add(flows, outside + flows.size() % 200, Ipv4Address.parse(lb), p.port(), protocol);
                    add(flows, outsideRanges + flows.size() % 200, Ipv4Address.parse(lb), p.port(), protocol);
                }
                for (final String external : s.externalIPs())
                {
                    add(flows, externalClients + flows.size() % 100, Ipv4Address.parse(external), p.port(), protocol);
                }
            }
        }
        // hairpin: a local backend to its own Service
        int hairpins = 0;
        for (final EndpointSlice slice : model.endpointSlices())
        {
            final Service s = model.services().stream().filter(x -> x.name().equals(slice.serviceName())
                && x.namespace().equals(slice.namespace())).findFirst().orElseThrow();
            for (final Endpoint e : slice.endpoints())
            {
                if (hairpins < 8 && "node-0".equals(e.nodeName()))
                {
                    final ServicePort p = s.ports().get(0);
                    add(flows, Ipv4Address.parse(e.address()), Ipv4Address.parse(s.clusterIP()), p.port(),
                        p.protocol().number());
                    hairpins++;
                    break;
                }
            }
        }
        // the node itself (nat OUTPUT), ICMP echo, pod to pod, a port no Service has
        for (int i = 0; i < 6; i++)
        {
            final Service s = model.services().get(i * 7);
            add(flows, NODE_IP, Ipv4Address.parse(s.clusterIP()), s.ports().get(0).port(), s.ports().get(0).protocol().number());
        }
        for (int i = 0; i < 6; i++)
        {
            add(flows, pods + i, Ipv4Address.parse(model.services().get(i * 5).clusterIP()), 0, 1);
        }
        add(flows, pods + 7, Ipv4Address.parse("10.244.2.5"), 0, 1);
        add(flows, pods + 8, Ipv4Address.parse("10.244.1.3"), 8080, 6);
        add(flows, pods + 9, Ipv4Address.parse("10.244.0.3"), 8080, 6);
        add(flows, pods + 10, Ipv4Address.parse("10.244.3.4"), 5353, 17);
        add(flows, pods + 11, Ipv4Address.parse(model.services().get(0).clusterIP()), 9999, 6);
        add(flows, outside + 17, NODE_IP, 22, 6);
        return flows;
    }

    private static void add(final List<Flow> flows, final int client, final int destination, final int port,
        final int protocol)
    {
        final int index = flows.size();
        final int clientPort = protocol == 1 ? 0x4000 + index : 33000 + index * 7 % 20000 + index / 2900;
        flows.add(new Flow(index, client, clientPort, destination, port, protocol, index % 5 != 0,
            protocol != 17 || index % 7 != 3));
    }

    /** A flow's client-side packet of phase {@code phase} (1: SYN / request / echo). */
    private byte[] clientPacket(final Flow f, final int phase)
    {
        reset().addresses(f.client(), f.destination()).identification(f.id())
            .flagsAndFragment(f.dontFragment() ? 0x4000 : 0);
        switch (f.protocol())
        {
            case 6 ->
            {
                final long isn = 1000L * f.index();
                final int flags = phase == 1 ? 0x02 : phase == 3 ? 0x10 : phase == 4 ? 0x18 : phase == 6 ? 0x11 : 0x10;
                final int data = phase == 4 ? 1 + f.index() * 53 % 1460 : 0;
                builder.tcp(f.clientPort(), f.port(), flags).tcpSequence(
                    phase == 1 ? isn : isn + 1 + (phase > 4 ? 1 + f.index() * 53 % 1460 : 0) + (phase == 8 ? 1 : 0),
                    phase == 1 ? 0 : 7_000_000L + f.index() + 1 + (phase >= 6 ? 1 + f.index() * 29 % 1400 : 0)
                        + (phase == 8 ? 1 : 0))
                    .payload(payload, data);
                if (phase == 1)
                {
                    builder.tcpOptions(new byte[]{2, 4, 0x05, (byte)0xB4}); // MSS 1460
                }
            }
            case 17 -> builder.udp(f.clientPort(), f.port()).udpChecksum(f.index() % 11 != 4)
                .payload(payload, phase == 1 ? 20 + f.index() * 97 % 1460 : 40);
            default -> builder.icmpEcho(8, f.clientPort(), phase).payload(payload, 56);
        }
        return build();
    }

    /** The answer of phase {@code phase} (2: SYN-ACK / response / echo reply) to what the node delivered. */
    private byte[] serverPacket(final Flow f, final int phase, final Delivered d)
    {
        reset().addresses(d.backend(), d.client()).identification(0x8000 + f.index());
        switch (f.protocol())
        {
            case 6 ->
            {
                final long isn = 7_000_000L + f.index();
                final int flags = phase == 2 ? 0x12 : phase == 5 ? 0x18 : 0x11;
                final int data = phase == 5 ? 1 + f.index() * 29 % 1400 : 0;
                builder.tcp(d.backendPort(), d.clientPort(), flags).tcpSequence(
                    phase == 2 ? isn : isn + 1 + (phase == 7 ? 1 + f.index() * 29 % 1400 : 0),
                    1000L * f.index() + 1 + (phase >= 5 ? 1 + f.index() * 53 % 1460 : 0) + (phase == 7 ? 1 : 0))
                    .payload(payload, data);
            }
            case 17 -> builder.udp(d.backendPort(), d.clientPort()).payload(payload, 30 + f.index() * 13 % 500);
            default -> builder.icmpEcho(0, d.clientPort(), phase - 1).payload(payload, 56);
        }
        final int node = (d.backend() - OverlayTopology.POD_NETWORK) >>> 8;
        if (d.overlay() && node >= 1 && node < NODES)
        {
            innerMacs(node);
            return vxlan(build(), node, 0x4000 + f.index());
        }
        return build();
    }

    /** What the node sent for a flow's first packet: the translated tuple, so the backend can answer it. */
    record Delivered(int client, int clientPort, int backend, int backendPort, boolean overlay)
    {
    }

    /** Phase 1 of every flow, 1 ms apart. */
    void writeRequests(final List<Flow> flows, final Path file) throws IOException
    {
        try (PcapWriter w = PcapWriter.create(file))
        {
            long t = T0;
            for (final Flow f : flows)
            {
                final byte[] frame = clientPacket(f, 1);
                w.write(new UnsafeBuffer(frame), 0, frame.length, t += MS);
            }
        }
    }

    /**
     * Phase 1 again (the same frames at the same times, so the node makes the same choices as in {@code learned}),
     * then the conversations: TCP SYN-ACK, ACK, data both ways, FIN both ways and the last ACK; UDP response, a second
     * request and response; ICMP echo reply, a second echo and reply. Answers only to flows the node delivered in
     * {@code learned} (the output of replaying {@link #writeRequests}); the clients' later packets go anyway.
     */
    void writeConversation(final List<Flow> flows, final Path learned, final boolean overlay, final Path file)
        throws IOException
    {
        final Delivered[] delivered = new Delivered[flows.size()];
        try (PcapReader r = PcapReader.open(learned))
        {
            while (r.next())
            {
                final byte[] f = new byte[r.frameLength()];
                r.frame().getBytes(0, f);
                final Delivered d = delivered(f, overlay, flows);
                if (d != null)
                {
                    delivered[flowOf(f, overlay)] = d;
                }
            }
        }
        try (PcapWriter w = PcapWriter.create(file))
        {
            long t = T0;
            for (final Flow f : flows)
            {
                final byte[] frame = clientPacket(f, 1);
                w.write(new UnsafeBuffer(frame), 0, frame.length, t += MS);
            }
            for (int phase = 2; phase <= 8; phase++)
            {
                for (final Flow f : flows)
                {
                    final boolean server = f.protocol() == 6 ? phase == 2 || phase == 5 || phase == 7 : phase % 2 == 0;
                    if (f.protocol() != 6 && phase > 4)
                    {
                        continue;
                    }
                    final byte[] frame;
                    if (server)
                    {
                        if (delivered[f.index()] == null || !f.answered())
                        {
                            continue;
                        }
                        frame = serverPacket(f, phase, delivered[f.index()]);
                    }
                    else
                    {
                        frame = clientPacket(f, phase);
                    }
                    w.write(new UnsafeBuffer(frame), 0, frame.length, t += MS);
                }
            }
        }
    }

    private static int innerOffset(final byte[] f, final boolean overlay)
    {
        final boolean vxlan = overlay && f.length > 50 && (f[14 + 9] & 0xFF) == 17
            && ((f[36] & 0xFF) << 8 | f[37] & 0xFF) == VXLAN_PORT;
        return vxlan ? 50 : 0;
    }

    private static int flowOf(final byte[] f, final boolean overlay)
    {
        final int ip = innerOffset(f, overlay) + 14;
        return ((f[ip + 4] & 0xFF) << 8 | f[ip + 5] & 0xFF) - 1;
    }

    /** The flow's first packet as the node delivered it, or null for anything else (ICMP errors, later fragments). */
    private static Delivered delivered(final byte[] f, final boolean overlay, final List<Flow> flows)
    {
        final int inner = innerOffset(f, overlay);
        final int ip = inner + 14;
        if (f.length < ip + 28 || ((f[ip - 2] & 0xFF) << 8 | f[ip - 1] & 0xFF) != 0x0800)
        {
            return null;
        }
        final UnsafeBuffer b = new UnsafeBuffer(f);
        final int index = flowOf(f, overlay);
        final int protocol = f[ip + 9] & 0xFF;
        final int l4 = ip + (f[ip] & 0x0F) * 4;
        if (index < 0 || index >= flows.size() || flows.get(index).protocol() != protocol
            || (b.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x1FFF) != 0 || protocol == 1 && f[l4] != 8)
        {
            return null;
        }
        final int source = b.getInt(ip + 12, ByteOrder.BIG_ENDIAN);
        final int destination = b.getInt(ip + 16, ByteOrder.BIG_ENDIAN);
        if (protocol == 1)
        {
            final int id = b.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            return new Delivered(source, id, destination, 0, overlay);
        }
        return new Delivered(source, b.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF, destination,
            b.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF, overlay);
    }

    // ------------------------------------------------------------------------------------------------ vxlan input

    /**
     * What arrives from the other nodes' VTEPs: their pods to ClusterIPs, to this node's pods and to pods of a third
     * node, then datagrams the vxlan device must drop or treat specially (unknown VNI, I flag clear, reserved bits,
     * bad outer checksums, outer fragment, another UDP port, not this node's address, truncations, outer IP
     * options, padding, inner ARP and VLAN, inner TTL 1, inner too large for the overlay with DF).
     */
    void writeVxlanInput(final ClusterModel model, final Path file) throws IOException
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int j = 0; j < 240; j++)
        {
            final int k = 1 + j % 3;
            final int client = OverlayTopology.POD_NETWORK + (k << 8) + 200 + j % 50;
            reset();
            innerMacs(k).addresses(client, 0).identification(j + 1);
            switch (j % 4)
            {
                case 0, 1 ->
                {
                    final Service s = model.services().get(j * 7 % model.services().size());
                    final ServicePort p = s.ports().get(0);
                    builder.addresses(client, Ipv4Address.parse(s.clusterIP()));
                    if (p.protocol() == Protocol.UDP)
                    {
                        builder.udp(40000 + j, p.port()).payload(payload, 64);
                    }
                    else
                    {
                        builder.tcp(40000 + j, p.port(), 0x02);
                    }
                }
                case 2 -> builder.addresses(client, OverlayTopology.POD_NETWORK + 2 + j % 100).tcp(41000 + j, 8080, 0x02)
                    .payload(payload, j % 3 == 0 ? 600 : 0);
                default -> builder.addresses(client, OverlayTopology.POD_NETWORK + ((k % 3 + 1) << 8) + 2 + j % 100)
                    .udp(42000 + j, 5353).payload(payload, 100);
            }
            frames.add(vxlan(build(), k, 0x100 + j));
        }
        final int local = TOPOLOGY.local().address();
        final int pod = OverlayTopology.POD_NETWORK + (2 << 8) + 9;
        final byte[] inner = innerTcp(1, OverlayTopology.POD_NETWORK + (1 << 8) + 77, OverlayTopology.POD_NETWORK + 3, 0);
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0000, 2 << 8, true, 0, new byte[0], 1)); // unknown VNI
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0, 1 << 8, true, 0, new byte[0], 2)); // I flag clear
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0001, 1 << 8, true, 0, new byte[0], 3)); // reserved bits
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0C00_0000, 1 << 8, true, 0, new byte[0], 4)); // reserved flag
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0000, (1 << 8) | 0x5A, true, 0, new byte[0], 5)); // reserved byte
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0000, 1 << 8, false, 0, new byte[0], 6)); // no UDP checksum
        final byte[] badUdp = vxlan(inner, 1, 7);
        badUdp[40] ^= 0x5A;
        frames.add(badUdp);
        final byte[] badIp = vxlan(inner, 1, 8);
        badIp[24] ^= 0x5A;
        frames.add(badIp);
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0000, 1 << 8, true, 0x2000, new byte[0], 9)); // outer MF
        frames.add(vxlan(inner, 1, local, 4789, 0x0800_0000, 1 << 8, true, 0, new byte[0], 10)); // another port
        frames.add(vxlan(inner, 1, TOPOLOGY.remote(2).address(), VXLAN_PORT, 0x0800_0000, 1 << 8, true, 0, new byte[0], 11));
        frames.add(vxlan(inner, 1, local, VXLAN_PORT, 0x0800_0000, 1 << 8, true, 0, new byte[]{1, 1, 1, 0}, 12)); // options
        final byte[] padded = Arrays.copyOf(vxlan(inner, 1, 13), inner.length + 50 + 12);
        frames.add(padded);
        frames.add(Arrays.copyOf(vxlan(inner, 1, 14), 14 + 20 + 8 + 4)); // cut in the VXLAN header
        frames.add(vxlan(Arrays.copyOf(inner, 10), 1, 15)); // inner frame cut in its Ethernet header
        frames.add(vxlan(Arrays.copyOf(inner, 14 + 12), 1, 16)); // inner IPv4 header cut
        final byte[] arp = Arrays.copyOf(inner, 60);
        putShort(arp, 12, 0x0806);
        frames.add(vxlan(arp, 1, 17));
        reset();
        innerMacs(1).vlan(1, 42).addresses(OverlayTopology.POD_NETWORK + (1 << 8) + 78, OverlayTopology.POD_NETWORK + 3)
            .tcp(43001, 8080, 0x02);
        frames.add(vxlan(build(), 1, 18)); // inner 802.1Q tag
        frames.add(vxlan(innerTcp(1, OverlayTopology.POD_NETWORK + (1 << 8) + 79, pod, 1), 1, 19)); // inner TTL 1
        reset();
        innerMacs(3).addresses(OverlayTopology.POD_NETWORK + (3 << 8) + 80, OverlayTopology.POD_NETWORK + (1 << 8) + 9)
            .tcp(43002, 8080, 0x18).payload(payload, 1460);
        frames.add(vxlan(build(), 3, 20)); // inner 1500 bytes with DF to another node: above the overlay MTU
        reset();
        innerMacs(3).addresses(OverlayTopology.POD_NETWORK + (3 << 8) + 81, OverlayTopology.POD_NETWORK + (1 << 8) + 9)
            .flagsAndFragment(0).udp(43003, 5353).payload(payload, 1460);
        frames.add(vxlan(build(), 3, 21)); // the same without DF: fragmented
        final byte[] innerBadIp = innerTcp(2, OverlayTopology.POD_NETWORK + (2 << 8) + 82, OverlayTopology.POD_NETWORK + 4, 0);
        innerBadIp[14 + 10] ^= 0x11;
        frames.add(vxlan(innerBadIp, 2, 22));
        try (PcapWriter w = PcapWriter.create(file))
        {
            long t = T0;
            for (final byte[] f : frames)
            {
                w.write(new UnsafeBuffer(f), 0, f.length, t += MS);
            }
        }
    }

    private byte[] innerTcp(final int from, final int source, final int destination, final int ttlOrZero)
    {
        reset();
        innerMacs(from).addresses(source, destination).tcp(43000 + (source & 0xFF), 8080, 0x02);
        if (ttlOrZero > 0)
        {
            builder.ttl(ttlOrZero);
        }
        return build();
    }

    // ------------------------------------------------------------------------------------------------- edge input

    /**
     * Malformed and edge frames, one or a few of each, with nanosecond timestamps: every parser verdict, conntrack's
     * INVALID TCP flag combinations, TTL 1 and 0, IP options, Ethernet padding, fragments (first and non-first), DF
     * and non-DF frames too large for the overlay, QinQ, a UDP checksum of 0, a bad TCP checksum (not verified), a
     * capture record cut short by the snap length, and a frame larger than any slot (oversize).
     */
    void writeEdgeInput(final ClusterModel model, final Path file) throws IOException
    {
        final int client = Ipv4Address.parse("10.244.0.230");
        final Service tcpService = model.services().stream().filter(s -> s.ports().get(0).protocol() == Protocol.TCP
            && s.ports().get(0).nodePort() == 0).findFirst().orElseThrow();
        final Service udpService = model.services().stream().filter(s -> s.ports().get(0).protocol() == Protocol.UDP)
            .findFirst().orElseThrow();
        final int vip = Ipv4Address.parse(tcpService.clusterIP());
        final int vipPort = tcpService.ports().get(0).port();
        final int udpVip = Ipv4Address.parse(udpService.clusterIP());
        final List<byte[]> frames = new ArrayList<>();
        final java.util.Map<Integer, Integer> originalLengths = new java.util.HashMap<>();
        int port = 45000;

        frames.add(Arrays.copyOf(valid(client, vip, vipPort, port++), 10)); // truncated-ethernet
        final byte[] arp = valid(client, vip, vipPort, port++);
        putShort(arp, 12, 0x0806);
        frames.add(arp); // not-ipv4 (ARP)
        final byte[] ipv6 = valid(client, vip, vipPort, port++);
        putShort(ipv6, 12, 0x86DD);
        frames.add(ipv6); // not-ipv4 (IPv6)
        reset().vlan(2, 10).addresses(client, vip).tcp(port++, vipPort, 0x02);
        final byte[] qinq = build();
        frames.add(qinq); // two tags: fine
        final byte[] three = new byte[qinq.length + 4];
        System.arraycopy(qinq, 0, three, 0, 12);
        putShort(three, 12, 0x8100);
        putShort(three, 14, 7);
        System.arraycopy(qinq, 12, three, 16, qinq.length - 12);
        frames.add(three); // too-many-vlan-tags
        frames.add(Arrays.copyOf(valid(client, vip, vipPort, port++), 14 + 12)); // truncated-ipv4
        final byte[] v6 = valid(client, vip, vipPort, port++);
        v6[14] = 0x65;
        fixIpChecksum(v6, 14);
        frames.add(v6); // bad-ip-version
        final byte[] ihl4 = valid(client, vip, vipPort, port++);
        ihl4[14] = 0x44;
        frames.add(ihl4); // bad-ihl
        final byte[] ihl15 = Arrays.copyOf(valid(client, vip, vipPort, port++), 14 + 40);
        ihl15[14] = 0x4F;
        frames.add(ihl15); // ihl-beyond-frame
        final byte[] badSum = valid(client, vip, vipPort, port++);
        badSum[14 + 10] ^= 0x01;
        frames.add(badSum); // bad-ip-checksum
        final byte[] beyond = valid(client, vip, vipPort, port++);
        putShort(beyond, 14 + 2, 1400);
        fixIpChecksum(beyond, 14);
        frames.add(beyond); // total-length-beyond-frame
        final byte[] below = valid(client, vip, vipPort, port++);
        putShort(below, 14 + 2, 12);
        fixIpChecksum(below, 14);
        frames.add(below); // total-length-below-header
        reset().addresses(client, udpVip).identification(777).flagsAndFragment(0x2000).udp(port, 53).payload(payload, 200);
        frames.add(build()); // first fragment (MF), carries the ports
        reset().addresses(client, udpVip).identification(777).flagsAndFragment(25).udp(port++, 53).payload(payload, 200);
        frames.add(build()); // non-first-fragment
        final byte[] tcpCut = valid(client, vip, vipPort, port++);
        putShort(tcpCut, 14 + 2, 20 + 10);
        fixIpChecksum(tcpCut, 14);
        frames.add(Arrays.copyOf(tcpCut, 14 + 30)); // truncated-tcp
        final byte[] offset4 = valid(client, vip, vipPort, port++);
        offset4[14 + 20 + 12] = 0x40;
        frames.add(offset4); // bad-tcp-data-offset (4 words)
        final byte[] offset15 = valid(client, vip, vipPort, port++);
        offset15[14 + 20 + 12] = (byte)0xF0;
        frames.add(offset15); // bad-tcp-data-offset (beyond the segment)
        reset().addresses(client, vip).udp(port++, 53).payload(payload, 30);
        final byte[] udpCut = build();
        putShort(udpCut, 14 + 2, 20 + 4);
        fixIpChecksum(udpCut, 14);
        frames.add(Arrays.copyOf(udpCut, 14 + 24)); // truncated-udp
        reset().addresses(client, vip).udp(port++, 53).payload(payload, 30);
        final byte[] udpLength = build();
        putShort(udpLength, 14 + 20 + 4, 4);
        frames.add(udpLength); // bad-udp-length (below 8)
        reset().addresses(client, vip).udp(port++, 53).payload(payload, 30);
        final byte[] udpLong = build();
        putShort(udpLong, 14 + 20 + 4, 300);
        frames.add(udpLong); // bad-udp-length (beyond the datagram)
        reset().addresses(client, vip).icmpEcho(8, 0x7001, 1).payload(payload, 0);
        final byte[] icmpCut = build();
        putShort(icmpCut, 14 + 2, 20 + 4);
        fixIpChecksum(icmpCut, 14);
        frames.add(Arrays.copyOf(icmpCut, 14 + 24)); // truncated-icmp
        for (final int type : new int[]{13, 3, 11, 5})
        {
            reset().addresses(client, vip).icmpEcho(8, 0x7100 + type, 1).payload(payload, 28);
            final byte[] icmp = build();
            icmp[14 + 20] = (byte)type;
            frames.add(icmp); // unsupported-icmp-type (timestamp, unreachable, time exceeded, redirect)
        }
        for (final int protocol : new int[]{47, 132, 50, 0})
        {
            final byte[] other = valid(client, vip, vipPort, port++);
            other[14 + 9] = (byte)protocol;
            fixIpChecksum(other, 14);
            frames.add(other); // unsupported-protocol (GRE, SCTP, ESP, hop-by-hop)
        }
        final byte[] badTcpSum = valid(client, vip, vipPort, port++);
        badTcpSum[14 + 20 + 16] ^= 0x01;
        frames.add(badTcpSum); // a bad TCP checksum: not verified on this path, NAT keeps it wrong
        reset().addresses(client, udpVip).udp(port++, 53).udpChecksum(false).payload(payload, 48);
        frames.add(build()); // UDP checksum 0 ("none") stays 0
        for (final int flags : new int[]{0x03, 0x00, 0x04, 0x01, 0x10, 0x29, 0x14, 0xC2})
        {
            reset().addresses(client, vip).tcp(port++, vipPort, flags);
            frames.add(build()); // SYN+FIN, none, RST, FIN, ACK, FIN+PSH+URG, RST+ACK, SYN+ECE+CWR for no connection
        }
        final byte[] syn = valid(client, vip, vipPort, port++);
        frames.add(syn);
        frames.add(syn.clone()); // a retransmitted SYN
        reset().addresses(client, vip).ttl(1).tcp(port++, vipPort, 0x02);
        frames.add(build()); // TTL 1
        reset().addresses(client, vip).ttl(0).tcp(port++, vipPort, 0x02);
        frames.add(build()); // TTL 0
        reset().addresses(client, Ipv4Address.parse("10.244.2.7")).ttl(1).tcp(port++, 8080, 0x02);
        frames.add(build()); // TTL 1 to a pod on another node
        reset().addresses(client, vip).ipOptions(new byte[]{(byte)0x94, 4, 0, 0}).tcp(port++, vipPort, 0x02);
        frames.add(build()); // IP options (router alert)
        reset().addresses(client, vip).tcpOptions(new byte[]{2, 4, 5, (byte)0xB4, 1, 3, 3, 7}).tcp(port++, vipPort, 0x02);
        frames.add(build()); // TCP options
        frames.add(Arrays.copyOf(valid(client, vip, vipPort, port++), 14 + 40 + 22)); // Ethernet padding
        reset().addresses(client, vip).tos(0x03).tcp(port++, vipPort, 0x02);
        frames.add(build()); // ECN CE
        reset().addresses(client, Ipv4Address.parse("10.244.1.9")).udp(port++, 5353).payload(payload, 1460);
        frames.add(build()); // DF, 1488 bytes of IP to a pod on another node
        reset().addresses(client, Ipv4Address.parse("10.244.1.9")).flagsAndFragment(0).udp(port++, 5353)
            .payload(payload, 1460);
        frames.add(build()); // the same without DF
        reset().addresses(client, udpVip).flagsAndFragment(0).udp(port++, 53).payload(payload, 3000);
        frames.add(build()); // a jumbo frame
        reset().addresses(client, vip).udp(port++, 53).payload(payload, 8000);
        final byte[] cut = build();
        frames.add(Arrays.copyOf(cut, 200)); // a record cut by the snap length: captured 200 of its bytes
        originalLengths.put(frames.size() - 1, cut.length);
        reset().addresses(client, vip).flagsAndFragment(0).udp(port++, 53).payload(payload, 65_507);
        final byte[] largest = build();
        frames.add(largest); // the largest IPv4 datagram: fits a slot
        final byte[] oversize = Arrays.copyOf(largest, 66_000);
        frames.add(oversize); // larger than any slot
        reset().addresses(Ipv4Address.parse("0.0.0.0"), vip).tcp(port++, vipPort, 0x02);
        frames.add(build()); // source 0.0.0.0
        reset().addresses(client, Ipv4Address.parse("255.255.255.255")).udp(port++, 67);
        frames.add(build()); // broadcast
        reset().addresses(client, Ipv4Address.parse("224.0.0.251")).udp(port++, 5353);
        frames.add(build()); // multicast
        reset().addresses(client, NODE_IP).udp(port++, VXLAN_PORT).payload(payload, 20);
        frames.add(build()); // UDP to this node's VXLAN port that is no VXLAN
        try (PcapWriter w = PcapWriter.create(file, true))
        {
            long t = T0;
            for (int i = 0; i < frames.size(); i++)
            {
                final byte[] f = frames.get(i);
                final int original = originalLengths.getOrDefault(i, f.length);
                w.write(new UnsafeBuffer(f), 0, f.length, original, t += 1_234_567L);
            }
        }
    }

    /** A valid TCP SYN from {@code client} to the frontend. */
    private byte[] valid(final int client, final int vip, final int port, final int clientPort)
    {
        reset().addresses(client, vip).tcp(clientPort, port, 0x02);
        return build();
    }
}
