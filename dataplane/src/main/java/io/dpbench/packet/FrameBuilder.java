package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

/**
 * Builds well-formed Ethernet / [VLAN] / IPv4 [options] / TCP|UDP|ICMP-echo frames with every checksum computed in
 * full. For test vectors, load generation and benchmark input pools; configure once, then {@link #build} writes the
 * frame (no allocation per build). Setters return {@code this}; unset fields keep their last value.
 */
public final class FrameBuilder
{
    private long sourceMac = 0x02_00_00_00_00_01L;
    private long destinationMac = 0x02_00_00_00_00_02L;
    private int vlanTags;
    private int vlanId = 100;

    private int sourceAddress;
    private int destinationAddress;
    private int tos;
    private int identification;
    private int flagsAndFragment = Ipv4Flyweight.FLAG_DONT_FRAGMENT;
    private int ttl = 64;
    private byte[] ipOptions = new byte[0];

    private int protocol = Ipv4Flyweight.PROTOCOL_TCP;
    private int sourcePort;
    private int destinationPort;
    private int tcpFlags = TcpFlyweight.SYN;
    private long sequence;
    private long acknowledgment;
    private int window = 64240;
    private byte[] tcpOptions = new byte[0];
    private boolean udpChecksum = true;
    private int icmpType = IcmpFlyweight.TYPE_ECHO_REQUEST;

    private byte[] payload = new byte[0];
    private int payloadLength;

    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();
    private final UdpFlyweight udp = new UdpFlyweight();
    private final IcmpFlyweight icmp = new IcmpFlyweight();

    public FrameBuilder macs(final long source, final long destination)
    {
        sourceMac = source;
        destinationMac = destination;
        return this;
    }

    /** Number of VLAN tags (0, 1 = 802.1Q, 2 = 802.1ad outer + 802.1Q inner) and their VLAN id. */
    public FrameBuilder vlan(final int tags, final int id)
    {
        vlanTags = tags;
        vlanId = id;
        return this;
    }

    public FrameBuilder addresses(final int source, final int destination)
    {
        sourceAddress = source;
        destinationAddress = destination;
        return this;
    }

    public FrameBuilder tos(final int tos)
    {
        this.tos = tos;
        return this;
    }

    public FrameBuilder identification(final int identification)
    {
        this.identification = identification;
        return this;
    }

    /** The whole flags + fragment-offset word (DF by default). */
    public FrameBuilder flagsAndFragment(final int value)
    {
        flagsAndFragment = value;
        return this;
    }

    public FrameBuilder ttl(final int ttl)
    {
        this.ttl = ttl;
        return this;
    }

    /** IPv4 options bytes; length must be a multiple of 4, at most 40. */
    public FrameBuilder ipOptions(final byte[] options)
    {
        if ((options.length & 3) != 0 || options.length > 40)
        {
            throw new IllegalArgumentException("IPv4 options length " + options.length + " not a multiple of 4 up to 40");
        }
        ipOptions = options;
        return this;
    }

    public FrameBuilder tcp(final int sourcePort, final int destinationPort, final int flags)
    {
        protocol = Ipv4Flyweight.PROTOCOL_TCP;
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
        tcpFlags = flags;
        return this;
    }

    public FrameBuilder tcpSequence(final long sequence, final long acknowledgment)
    {
        this.sequence = sequence;
        this.acknowledgment = acknowledgment;
        return this;
    }

    /** TCP options bytes; length must be a multiple of 4, at most 40. */
    public FrameBuilder tcpOptions(final byte[] options)
    {
        if ((options.length & 3) != 0 || options.length > 40)
        {
            throw new IllegalArgumentException("TCP options length " + options.length + " not a multiple of 4 up to 40");
        }
        tcpOptions = options;
        return this;
    }

    public FrameBuilder udp(final int sourcePort, final int destinationPort)
    {
        protocol = Ipv4Flyweight.PROTOCOL_UDP;
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
        return this;
    }

    /** Whether the UDP checksum is computed (true) or sent as 0, "none" (false). */
    public FrameBuilder udpChecksum(final boolean computed)
    {
        udpChecksum = computed;
        return this;
    }

    /** ICMP echo request (type 8) or reply (type 0) with identifier and sequence. */
    public FrameBuilder icmpEcho(final int type, final int identifier, final int sequenceNumber)
    {
        protocol = Ipv4Flyweight.PROTOCOL_ICMP;
        icmpType = type;
        sourcePort = identifier;
        destinationPort = sequenceNumber;
        return this;
    }

    /** Payload: the first {@code length} bytes of {@code bytes} (kept by reference, not copied). */
    public FrameBuilder payload(final byte[] bytes, final int length)
    {
        payload = bytes;
        payloadLength = length;
        return this;
    }

    /** Length in bytes of the frame {@link #build} will write. */
    public int frameLength()
    {
        return EthernetFlyweight.HEADER_LENGTH + vlanTags * EthernetFlyweight.VLAN_TAG_LENGTH + ipTotalLength();
    }

    private int l4HeaderLength()
    {
        switch (protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP: return TcpFlyweight.MIN_HEADER_LENGTH + tcpOptions.length;
            case Ipv4Flyweight.PROTOCOL_UDP: return UdpFlyweight.HEADER_LENGTH;
            default: return IcmpFlyweight.HEADER_LENGTH;
        }
    }

    private int ipTotalLength()
    {
        return Ipv4Flyweight.MIN_HEADER_LENGTH + ipOptions.length + l4HeaderLength() + payloadLength;
    }

    /** Write the frame at {@code offset}; returns its length. */
    public int build(final MutableDirectBuffer buffer, final int offset)
    {
        ethernet.wrap(buffer, offset).destination(destinationMac).source(sourceMac);
        int at = offset + EthernetFlyweight.ETHER_TYPE_OFFSET;
        for (int i = 0; i < vlanTags; i++)
        {
            final int tpid = (i == 0 && vlanTags == 2) ? EthernetFlyweight.ETHER_TYPE_QINQ : EthernetFlyweight.ETHER_TYPE_VLAN;
            buffer.putShort(at, (short)tpid, java.nio.ByteOrder.BIG_ENDIAN);
            buffer.putShort(at + 2, (short)(vlanId + i), java.nio.ByteOrder.BIG_ENDIAN);
            at += EthernetFlyweight.VLAN_TAG_LENGTH;
        }
        buffer.putShort(at, (short)EthernetFlyweight.ETHER_TYPE_IPV4, java.nio.ByteOrder.BIG_ENDIAN);
        final int l3 = at + 2;
        final int ipHeaderLength = Ipv4Flyweight.MIN_HEADER_LENGTH + ipOptions.length;
        final int totalLength = ipTotalLength();
        ip.wrap(buffer, l3)
            .versionAndIhl(4, ipHeaderLength >>> 2)
            .tos(tos)
            .totalLength(totalLength)
            .identification(identification)
            .flagsAndFragmentOffset(flagsAndFragment)
            .ttl(ttl)
            .protocol(protocol)
            .source(sourceAddress)
            .destination(destinationAddress);
        buffer.putBytes(l3 + Ipv4Flyweight.MIN_HEADER_LENGTH, ipOptions);
        ip.updateChecksum();

        final int l4 = l3 + ipHeaderLength;
        final int l4HeaderLength = l4HeaderLength();
        buffer.putBytes(l4 + l4HeaderLength, payload, 0, payloadLength);
        final int l4Length = totalLength - ipHeaderLength;
        switch (protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
                tcp.wrap(buffer, l4)
                    .sourcePort(sourcePort)
                    .destinationPort(destinationPort)
                    .sequence(sequence)
                    .acknowledgment(acknowledgment)
                    .dataOffset(l4HeaderLength >>> 2)
                    .flags(tcpFlags)
                    .window(window)
                    .urgentPointer(0);
                buffer.putBytes(l4 + TcpFlyweight.MIN_HEADER_LENGTH, tcpOptions);
                tcp.updateChecksum(sourceAddress, destinationAddress, l4Length);
                break;
            case Ipv4Flyweight.PROTOCOL_UDP:
                udp.wrap(buffer, l4).sourcePort(sourcePort).destinationPort(destinationPort).length(l4Length);
                if (udpChecksum)
                {
                    udp.updateChecksum(sourceAddress, destinationAddress);
                }
                else
                {
                    udp.checksum(0);
                }
                break;
            default:
                icmp.wrap(buffer, l4).type(icmpType).code(0).identifier(sourcePort).sequence(destinationPort);
                icmp.updateChecksum(l4Length);
                break;
        }
        return l4 + l4Length - offset;
    }
}
