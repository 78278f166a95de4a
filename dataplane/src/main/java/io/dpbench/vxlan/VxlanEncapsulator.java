package io.dpbench.vxlan;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.InternetChecksum;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.UdpFlyweight;
import io.dpbench.packet.VxlanFlyweight;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * RFC 7348 encapsulation as the Linux vxlan device puts it on the wire (measured with a flannel-style device on this
 * project's kernel), in place: the routed inner IPv4 packet stays where it is and the headers are written into the
 * headroom before it, like an skb's headroom, so nothing is copied.
 * <pre>
 *   outer Ethernet  dst = next hop (remote node) MAC, src = underlay MAC, type 0x0800
 *   outer IPv4      IHL 5, DSCP 0 + inner ECN (CE sent as ECT(0), RFC 6040), ID from a counter, DF clear,
 *                   TTL 64, UDP, local node to remote node
 *   outer UDP       source port from the inner flow's hash ({@link VxlanSourcePort}), destination 8472,
 *                   checksum over the pseudo-header and everything after it (0 with noudpcsum)
 *   VXLAN           flags 0x08 (I), VNI
 *   inner Ethernet  dst = remote VTEP MAC, src = local VTEP MAC, type 0x0800
 *   inner IPv4 ...  as routed (its TTL already decremented by {@link OverlayForwarder})
 * </pre>
 * The outer IP ID differs from a node's (the kernel draws it from a per-destination counter with a random start).
 * With {@link Encapsulation#UDP_PAYLOAD} (wire mode) only the VXLAN header and the inner Ethernet header are written:
 * the socket the frame is handed to writes the outer IPv4 and UDP headers itself.
 * One owner thread; no allocation.
 */
public final class VxlanEncapsulator
{
    /**
     * Bytes of headroom an inner IPv4 packet needs before it: outer headers and the inner Ethernet header (the most,
     * for whole frames; see {@link #headroom}).
     */
    public static final int HEADROOM = VxlanConfig.OVERHEAD + EthernetFlyweight.HEADER_LENGTH;

    private static final int ECN_MASK = 0x03;
    private static final int ECN_CE = 0x03;
    private static final int ECN_ECT0 = 0x02;

    /** What {@link #encapsulate} writes and hands back: the UDP payload needs no room for the outer IPv4 and UDP. */
    private static final int UDP_PAYLOAD_HEADROOM = VxlanFlyweight.HEADER_LENGTH + EthernetFlyweight.HEADER_LENGTH;

    private final VxlanConfig config;
    private final LocalVtep local;
    private final Encapsulation encapsulation;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final UdpFlyweight udp = new UdpFlyweight();
    private final VxlanFlyweight vxlan = new VxlanFlyweight();
    private int nextIdentification;

    /** A device that writes whole frames ({@link Encapsulation#FRAME}). */
    public VxlanEncapsulator(final VxlanConfig config, final LocalVtep local)
    {
        this(config, local, Encapsulation.FRAME);
    }

    public VxlanEncapsulator(final VxlanConfig config, final LocalVtep local, final Encapsulation encapsulation)
    {
        this.config = config;
        this.local = local;
        this.encapsulation = encapsulation;
    }

    public VxlanConfig config()
    {
        return config;
    }

    public Encapsulation encapsulation()
    {
        return encapsulation;
    }

    /** Bytes {@link #encapsulate} writes before an inner IPv4 packet: {@link #HEADROOM}, or 22 for the UDP payload. */
    public int headroom()
    {
        return encapsulation == Encapsulation.FRAME ? HEADROOM : UDP_PAYLOAD_HEADROOM;
    }

    /**
     * Encapsulate the IPv4 packet at {@code [ipOffset, ipOffset + ipLength)} for {@code remote}, writing the headers
     * into the {@link #headroom} bytes before it. Returns the offset of what is to be sent, whose length is
     * {@code ipLength + headroom()}: the outer frame, or the VXLAN header for {@link Encapsulation#UDP_PAYLOAD}
     * ({@code sourcePort} is then unused).
     */
    public int encapsulate(final MutableDirectBuffer buffer, final int ipOffset, final int ipLength,
        final RemoteVtep remote, final int sourcePort)
    {
        return encapsulate(buffer, ipOffset, ipLength, remote, sourcePort, false);
    }

    /**
     * As {@link #encapsulate(MutableDirectBuffer, int, int, RemoteVtep, int)}; {@code innerL4Verified} says the
     * inner packet's L4 checksum is known good and covers all its L4 bytes ({@link
     * io.dpbench.packet.ParsedPacket#l4ChecksumVerified}). Then the outer UDP checksum is computed as Linux's local
     * checksum offload does (lco_csum, Documentation/networking/checksum-offloads.rst): the inner L4 region sums to
     * the negation of its pseudo-header, so only the headers in front of it are read. The result is the checksum a
     * full sum gives, byte for byte.
     */
    public int encapsulate(final MutableDirectBuffer buffer, final int ipOffset, final int ipLength,
        final RemoteVtep remote, final int sourcePort, final boolean innerL4Verified)
    {
        if (ipOffset < headroom())
        {
            throw new IllegalArgumentException("encapsulation needs " + headroom() + " bytes of headroom, got "
                + ipOffset);
        }
        final int innerEthernet = ipOffset - EthernetFlyweight.HEADER_LENGTH;
        ethernet.wrap(buffer, innerEthernet).destination(remote.vtepMac()).source(local.vtepMac())
            .outerEtherType(EthernetFlyweight.ETHER_TYPE_IPV4);

        final int vxlanOffset = innerEthernet - VxlanFlyweight.HEADER_LENGTH;
        vxlan.wrap(buffer, vxlanOffset).set(config.vni());
        if (encapsulation == Encapsulation.UDP_PAYLOAD)
        {
            return vxlanOffset;
        }
        final int innerTos = buffer.getByte(ipOffset + Ipv4Flyweight.TOS_OFFSET) & 0xFF;

        final int udpOffset = vxlanOffset - UdpFlyweight.HEADER_LENGTH;
        final int udpLength = UdpFlyweight.HEADER_LENGTH + VxlanFlyweight.HEADER_LENGTH + EthernetFlyweight.HEADER_LENGTH
            + ipLength;
        udp.wrap(buffer, udpOffset).sourcePort(sourcePort).destinationPort(config.destinationPort()).length(udpLength)
            .checksum(0);

        final int ipOuter = udpOffset - Ipv4Flyweight.MIN_HEADER_LENGTH;
        ip.wrap(buffer, ipOuter).versionAndIhl(4, 5).tos(ecnEncapsulate(innerTos))
            .totalLength(Ipv4Flyweight.MIN_HEADER_LENGTH + udpLength)
            .identification(nextIdentification).flagsAndFragmentOffset(0).ttl(config.ttl())
            .protocol(Ipv4Flyweight.PROTOCOL_UDP).source(local.address()).destination(remote.address()).updateChecksum();
        nextIdentification = (nextIdentification + 1) & 0xFFFF;

        if (config.udpChecksum())
        {
            if (innerL4Verified)
            {
                udp.checksum(localChecksum(buffer, udpOffset, ipOffset, ipLength, udpLength, remote.address()));
            }
            else
            {
                udp.updateChecksum(local.address(), remote.address());
            }
        }

        final int frame = ipOuter - EthernetFlyweight.HEADER_LENGTH;
        ethernet.wrap(buffer, frame).destination(remote.underlayMac()).source(local.underlayMac())
            .outerEtherType(EthernetFlyweight.ETHER_TYPE_IPV4);
        return frame;
    }

    /**
     * The outer UDP checksum without reading the inner L4 bytes (lco_csum): the outer pseudo-header, the bytes from
     * the outer UDP header (checksum 0) to the end of the inner IPv4 header, and for TCP and UDP the negation of the
     * inner pseudo-header's sum (a good L4 checksum makes pseudo-header + L4 bytes sum to -0); an ICMP message's
     * bytes sum to -0 by themselves.
     */
    private long localChecksumSum(final MutableDirectBuffer buffer, final int udpOffset, final int ipOffset,
        final int ipLength, final int udpLength, final int outerDestination)
    {
        final int innerHeader = (buffer.getByte(ipOffset) & 0x0F) << 2;
        long sum = InternetChecksum.pseudoHeader(local.address(), outerDestination, Ipv4Flyweight.PROTOCOL_UDP, udpLength);
        sum = InternetChecksum.add(buffer, udpOffset, ipOffset + innerHeader - udpOffset, sum);
        final int protocol = buffer.getByte(ipOffset + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF;
        if (protocol != Ipv4Flyweight.PROTOCOL_ICMP)
        {
            final long inner = InternetChecksum.pseudoHeader(
                buffer.getInt(ipOffset + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN),
                buffer.getInt(ipOffset + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN),
                protocol, ipLength - innerHeader);
            sum += ~InternetChecksum.fold(inner) & 0xFFFF;
        }
        return sum;
    }

    private int localChecksum(final MutableDirectBuffer buffer, final int udpOffset, final int ipOffset,
        final int ipLength, final int udpLength, final int outerDestination)
    {
        final int computed = InternetChecksum.finish(
            localChecksumSum(buffer, udpOffset, ipOffset, ipLength, udpLength, outerDestination));
        return computed == 0 ? UdpFlyweight.CHECKSUM_MANGLED_ZERO : computed;
    }

    /** Linux's INET_ECN_encapsulate(0, inner): DSCP 0, the inner ECN bits, except CE, which goes out as ECT(0). */
    static int ecnEncapsulate(final int innerTos)
    {
        final int ecn = innerTos & ECN_MASK;
        return ecn == ECN_CE ? ECN_ECT0 : ecn;
    }

    /** The source port for the inner packet at {@code ipOffset} (see {@link VxlanSourcePort}). */
    public int sourcePortFor(final MutableDirectBuffer buffer, final int ipOffset)
    {
        ip.wrap(buffer, ipOffset);
        final int protocol = ip.protocol();
        final boolean fragment = ip.moreFragments() || ip.fragmentOffset() != 0;
        final int l4 = ipOffset + ip.headerLength();
        int sourcePort = 0;
        int destinationPort = 0;
        if (!fragment && (protocol == Ipv4Flyweight.PROTOCOL_TCP || protocol == Ipv4Flyweight.PROTOCOL_UDP
            || protocol == Ipv4Flyweight.PROTOCOL_SCTP))
        {
            sourcePort = buffer.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            destinationPort = buffer.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        return sourcePortFor(protocol, ip.source(), sourcePort, ip.destination(), destinationPort, fragment);
    }

    /** The source port for an inner packet with this flow (ports 0 for a fragment or a protocol without ports). */
    public int sourcePortFor(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort, final boolean fragment)
    {
        return VxlanSourcePort.fromHash(VxlanSourcePort.flowHash(protocol, sourceAddress, sourcePort,
            destinationAddress, destinationPort, fragment), config.sourcePortMin(), config.sourcePortMax());
    }
}
