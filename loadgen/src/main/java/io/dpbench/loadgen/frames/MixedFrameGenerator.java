package io.dpbench.loadgen.frames;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.IcmpFlyweight;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.UdpFlyweight;
import org.agrona.MutableDirectBuffer;

import java.util.SplittableRandom;

/**
 * Seeded stream of varied, valid frames as pods send them to Services: clients in the pod CIDR (10.244.0.0/16),
 * destinations among Service ClusterIPs (10.96.0.0/12) on typical ports, a TCP/UDP/ICMP-echo mix, some frames VLAN
 * tagged, sizes fixed or IMIX. A flow's first TCP frame is its SYN, later ones ACK+PSH with data.
 * <p>
 * Frames are irregular on purpose (protocols, header lengths, sizes, destinations interleave) so that benchmarks
 * fed from it do not flatter branch prediction. The same seed gives the same frames.
 */
public final class MixedFrameGenerator
{
    /** Simple IMIX (frame sizes 64, 594, 1518 bytes in 7:4:1), the classic mix of Internet packet sizes. */
    public static final int IMIX = 0;

    private static final int[] IMIX_SIZES = {64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518};
    private static final int[] TCP_PORTS = {80, 443, 8080, 6443, 9090, 3306};
    private static final int[] UDP_PORTS = {53, 53, 53, 123, 8125, 4789};

    private final SplittableRandom random;
    private final FrameBuilder builder = new FrameBuilder();
    private final byte[] payload = new byte[1518];
    private final int frameSize;
    private final int vlanPercent;

    private final int[] protocol;
    private final int[] source;
    private final int[] sourcePort;
    private final int[] destination;
    private final int[] destinationPort;
    private final long[] sent;

    /**
     * @param seed        seed of every random choice
     * @param flows       number of distinct flows the frames belong to (at least 1)
     * @param services    number of distinct Service ClusterIPs (at least 1)
     * @param tcpPercent  share of TCP flows, percent
     * @param udpPercent  share of UDP flows, percent (the rest are ICMP echo)
     * @param vlanPercent share of frames with a VLAN tag, percent
     * @param frameSize   fixed frame size in bytes (at least the headers' size), or {@link #IMIX}
     */
    public MixedFrameGenerator(final long seed, final int flows, final int services, final int tcpPercent,
        final int udpPercent, final int vlanPercent, final int frameSize)
    {
        if (flows < 1 || services < 1)
        {
            throw new IllegalArgumentException("flows and services must be at least 1");
        }
        if (tcpPercent < 0 || udpPercent < 0 || tcpPercent + udpPercent > 100 || vlanPercent < 0 || vlanPercent > 100)
        {
            throw new IllegalArgumentException("percentages must be 0..100 and TCP + UDP at most 100");
        }
        if (frameSize != IMIX && (frameSize < 60 || frameSize > 1518))
        {
            throw new IllegalArgumentException("frame size " + frameSize + " outside 60..1518");
        }
        this.random = new SplittableRandom(seed);
        this.frameSize = frameSize;
        this.vlanPercent = vlanPercent;
        random.nextBytes(payload);
        protocol = new int[flows];
        source = new int[flows];
        sourcePort = new int[flows];
        destination = new int[flows];
        destinationPort = new int[flows];
        sent = new long[flows];
        final int podBase = Ipv4Address.parse("10.244.0.0");
        final int serviceBase = Ipv4Address.parse("10.96.0.0");
        for (int f = 0; f < flows; f++)
        {
            final int draw = random.nextInt(100);
            protocol[f] = draw < tcpPercent ? Ipv4Flyweight.PROTOCOL_TCP
                : draw < tcpPercent + udpPercent ? Ipv4Flyweight.PROTOCOL_UDP : Ipv4Flyweight.PROTOCOL_ICMP;
            source[f] = podBase + 2 + random.nextInt(65_000);
            sourcePort[f] = 32768 + random.nextInt(28232); // Linux ip_local_port_range 32768-60999
            destination[f] = serviceBase + 1 + random.nextInt(services);
            destinationPort[f] = protocol[f] == Ipv4Flyweight.PROTOCOL_TCP ? TCP_PORTS[random.nextInt(TCP_PORTS.length)]
                : protocol[f] == Ipv4Flyweight.PROTOCOL_UDP ? UDP_PORTS[random.nextInt(UDP_PORTS.length)] : 0;
        }
    }

    /** Write the next frame at {@code offset} (room for 1518 bytes needed); returns its length. */
    public int next(final MutableDirectBuffer buffer, final int offset)
    {
        final int f = random.nextInt(protocol.length);
        final int size = frameSize == IMIX ? IMIX_SIZES[random.nextInt(IMIX_SIZES.length)] : frameSize;
        final boolean vlan = random.nextInt(100) < vlanPercent;
        final int l2 = EthernetFlyweight.HEADER_LENGTH + (vlan ? EthernetFlyweight.VLAN_TAG_LENGTH : 0);
        builder.vlan(vlan ? 1 : 0, 100).addresses(source[f], destination[f]).identification(random.nextInt(65536));
        final int headers;
        switch (protocol[f])
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
            {
                final boolean first = sent[f] == 0;
                builder.tcp(sourcePort[f], destinationPort[f], first ? TcpFlyweight.SYN : TcpFlyweight.ACK | TcpFlyweight.PSH)
                    .tcpSequence(1000L + sent[f] * 1460L, first ? 0 : 5000);
                headers = l2 + Ipv4Flyweight.MIN_HEADER_LENGTH + TcpFlyweight.MIN_HEADER_LENGTH;
                break;
            }
            case Ipv4Flyweight.PROTOCOL_UDP:
                builder.udp(sourcePort[f], destinationPort[f]).udpChecksum(true);
                headers = l2 + Ipv4Flyweight.MIN_HEADER_LENGTH + UdpFlyweight.HEADER_LENGTH;
                break;
            default:
                builder.icmpEcho(IcmpFlyweight.TYPE_ECHO_REQUEST, sourcePort[f] & 0xFFFF, (int)(sent[f] & 0xFFFF));
                headers = l2 + Ipv4Flyweight.MIN_HEADER_LENGTH + IcmpFlyweight.HEADER_LENGTH;
                break;
        }
        final boolean syn = protocol[f] == Ipv4Flyweight.PROTOCOL_TCP && sent[f] == 0;
        builder.payload(payload, syn ? 0 : Math.max(0, size - headers));
        sent[f]++;
        return builder.build(buffer, offset);
    }

    public int flows()
    {
        return protocol.length;
    }
}
