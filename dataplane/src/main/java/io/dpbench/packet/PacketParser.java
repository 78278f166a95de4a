package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The validating parser: classifies every frame as {@link Verdict#OK} or exactly one drop reason, counts it, and
 * for OK frames fills a {@link ParsedPacket}. It never throws and never reads outside
 * {@code [offset, offset + length)}, whatever the bytes: each read is preceded by the length check that makes it safe.
 * <p>
 * Order of checks follows Linux: {@code ip_rcv_core} (version/IHL, header in frame, header checksum, total length
 * against frame, total length against IHL), then the L4 header checks of the conntrack trackers
 * ({@code tcp_error}, {@code udp_error}, {@code icmp_error}). L4 checksum verification is optional, as it is in
 * Linux ({@code nf_conntrack_checksum}; NICs usually validate it): off by default.
 * <p>
 * Single-threaded: one parser per worker; its counters are plain longs read by the owner (or after it stops).
 */
public final class PacketParser
{
    private final long[] counters = new long[Verdict.count()];
    private final boolean verifyL4Checksum;

    public PacketParser()
    {
        this(false);
    }

    public PacketParser(final boolean verifyL4Checksum)
    {
        this.verifyL4Checksum = verifyL4Checksum;
    }

    /** Parse the frame at {@code [offset, offset + length)}, count the verdict and return it. */
    public Verdict parse(final MutableDirectBuffer buffer, final int offset, final int length, final ParsedPacket out)
    {
        final Verdict verdict = inspect(buffer, offset, length, out);
        counters[verdict.ordinal()]++;
        return verdict;
    }

    /**
     * Parse without counting: where a frame is parsed (rx) is not where its verdict is acted on and counted (the
     * stage that drops it, {@link #record}), since a stage before may still drop it for a reason of its own.
     */
    public Verdict inspect(final MutableDirectBuffer buffer, final int offset, final int length, final ParsedPacket out)
    {
        parses++;
        return classify(buffer, offset, length, out);
    }

    /** Count a verdict {@link #inspect} gave (the frame's parse travelled with it). */
    public void record(final Verdict verdict)
    {
        counters[verdict.ordinal()]++;
    }

    /** Frames parsed by this parser (tests count parses per frame: one). */
    public long parses()
    {
        return parses;
    }

    private long parses;

    public long count(final Verdict verdict)
    {
        return counters[verdict.ordinal()];
    }

    /** Total frames seen, all verdicts. */
    public long total()
    {
        long sum = 0;
        for (final long c : counters)
        {
            sum += c;
        }
        return sum;
    }

    /** Copy the counters (indexed by {@link Verdict#ordinal()}) into {@code into}, which must be large enough. */
    public void copyCounters(final long[] into)
    {
        System.arraycopy(counters, 0, into, 0, counters.length);
    }

    private Verdict classify(final MutableDirectBuffer buffer, final int offset, final int length, final ParsedPacket p)
    {
        p.buffer = buffer;
        p.frameOffset = offset;
        p.frameLength = length;
        p.l4ChecksumVerified = false;
        final int end = offset + length;

        // L2: step over up to two VLAN tags.
        int etherTypeAt = offset + EthernetFlyweight.ETHER_TYPE_OFFSET;
        if (length < EthernetFlyweight.HEADER_LENGTH)
        {
            return Verdict.TRUNCATED_ETHERNET;
        }
        int etherType = buffer.getShort(etherTypeAt, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int tags = 0;
        while (EthernetFlyweight.isVlanTpid(etherType))
        {
            if (tags == EthernetFlyweight.MAX_VLAN_TAGS)
            {
                return Verdict.TOO_MANY_VLAN_TAGS;
            }
            etherTypeAt += EthernetFlyweight.VLAN_TAG_LENGTH;
            if (etherTypeAt + 2 > end)
            {
                return Verdict.TRUNCATED_ETHERNET;
            }
            etherType = buffer.getShort(etherTypeAt, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            tags++;
        }
        p.vlanTags = tags;
        if (etherType != EthernetFlyweight.ETHER_TYPE_IPV4)
        {
            return Verdict.NOT_IPV4;
        }

        // L3: ip_rcv_core's order.
        final int l3 = etherTypeAt + 2;
        final int l3Available = end - l3;
        if (l3Available < Ipv4Flyweight.MIN_HEADER_LENGTH)
        {
            return Verdict.TRUNCATED_IPV4;
        }
        final int versionIhl = buffer.getByte(l3) & 0xFF;
        if ((versionIhl >>> 4) != 4)
        {
            return Verdict.BAD_IP_VERSION;
        }
        final int ihl = versionIhl & 0x0F;
        if (ihl < 5)
        {
            return Verdict.BAD_IHL;
        }
        final int headerLength = ihl << 2;
        if (headerLength > l3Available)
        {
            return Verdict.IHL_BEYOND_FRAME;
        }
        if (InternetChecksum.fold(InternetChecksum.add(buffer, l3, headerLength, 0)) != 0xFFFF)
        {
            return Verdict.BAD_IP_CHECKSUM;
        }
        final int totalLength = buffer.getShort(l3 + Ipv4Flyweight.TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (totalLength > l3Available)
        {
            return Verdict.TOTAL_LENGTH_BEYOND_FRAME;
        }
        if (totalLength < headerLength)
        {
            return Verdict.TOTAL_LENGTH_BELOW_HEADER;
        }
        final int fragment = buffer.getShort(l3 + Ipv4Flyweight.FLAGS_FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((fragment & Ipv4Flyweight.FRAGMENT_OFFSET_MASK) != 0)
        {
            return Verdict.NON_FIRST_FRAGMENT;
        }
        final int protocol = buffer.getByte(l3 + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF;
        final int source = buffer.getInt(l3 + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
        final int destination = buffer.getInt(l3 + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
        final int l4 = l3 + headerLength;
        final int l4Length = totalLength - headerLength;
        final boolean firstFragment = (fragment & Ipv4Flyweight.FLAG_MORE_FRAGMENTS) != 0;

        p.l3Offset = l3;
        p.ipHeaderLength = headerLength;
        p.ipTotalLength = totalLength;
        p.protocol = protocol;
        p.sourceAddress = source;
        p.destinationAddress = destination;
        p.firstFragment = firstFragment;
        p.l4Offset = l4;
        p.l4Length = l4Length;
        p.tcpFlags = 0;
        p.icmpType = -1;

        // L4: the conntrack trackers' header checks.
        switch (protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
            {
                if (l4Length < TcpFlyweight.MIN_HEADER_LENGTH)
                {
                    return Verdict.TRUNCATED_TCP;
                }
                final int tcpHeaderLength = (buffer.getByte(l4 + TcpFlyweight.DATA_OFFSET_OFFSET) & 0xF0) >>> 2;
                if (tcpHeaderLength < TcpFlyweight.MIN_HEADER_LENGTH || tcpHeaderLength > l4Length)
                {
                    return Verdict.BAD_TCP_DATA_OFFSET;
                }
                p.sourcePort = buffer.getShort(l4 + TcpFlyweight.SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                p.destinationPort = buffer.getShort(l4 + TcpFlyweight.DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                p.tcpFlags = buffer.getByte(l4 + TcpFlyweight.FLAGS_OFFSET) & 0xFF;
                if (verifyL4Checksum && !firstFragment && !pseudoChecksumValid(buffer, l4, l4Length, source, destination, protocol))
                {
                    return Verdict.BAD_L4_CHECKSUM;
                }
                return Verdict.OK;
            }
            case Ipv4Flyweight.PROTOCOL_UDP:
            {
                if (l4Length < UdpFlyweight.HEADER_LENGTH)
                {
                    return Verdict.TRUNCATED_UDP;
                }
                final int udpLength = buffer.getShort(l4 + UdpFlyweight.LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                // udp_error: the UDP length may be shorter than the IP payload (trailing bytes), never longer.
                if (!firstFragment && (udpLength < UdpFlyweight.HEADER_LENGTH || udpLength > l4Length))
                {
                    return Verdict.BAD_UDP_LENGTH;
                }
                p.sourcePort = buffer.getShort(l4 + UdpFlyweight.SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                p.destinationPort = buffer.getShort(l4 + UdpFlyweight.DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                if (verifyL4Checksum && !firstFragment
                    && (buffer.getShort(l4 + UdpFlyweight.CHECKSUM_OFFSET) != 0)
                    && !pseudoChecksumValid(buffer, l4, udpLength, source, destination, protocol))
                {
                    return Verdict.BAD_L4_CHECKSUM;
                }
                return Verdict.OK;
            }
            case Ipv4Flyweight.PROTOCOL_ICMP:
            {
                if (l4Length < IcmpFlyweight.HEADER_LENGTH)
                {
                    return Verdict.TRUNCATED_ICMP;
                }
                final int type = buffer.getByte(l4 + IcmpFlyweight.TYPE_OFFSET) & 0xFF;
                p.icmpType = type;
                if (!IcmpFlyweight.isEcho(type))
                {
                    return Verdict.UNSUPPORTED_ICMP_TYPE;
                }
                final int identifier = buffer.getShort(l4 + IcmpFlyweight.IDENTIFIER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                p.sourcePort = identifier;
                p.destinationPort = identifier;
                if (verifyL4Checksum && !firstFragment
                    && InternetChecksum.fold(InternetChecksum.add(buffer, l4, l4Length, 0)) != 0xFFFF)
                {
                    return Verdict.BAD_L4_CHECKSUM;
                }
                return Verdict.OK;
            }
            default:
                return Verdict.UNSUPPORTED_PROTOCOL;
        }
    }

    /**
     * Whether the L4 checksum of a frame this parser found {@link Verdict#OK} is good and covers every L4 byte of
     * the datagram: TCP; UDP with a checksum (not 0) whose length is the IP payload's; ICMP. False for a first
     * fragment (its checksum covers bytes it does not hold). What a NIC's receive checksum offload reports; rx calls
     * it so that encapsulation need not read the frame again ({@link ParsedPacket#l4ChecksumVerified}).
     */
    public static boolean l4ChecksumGood(final MutableDirectBuffer buffer, final ParsedPacket p)
    {
        if (p.firstFragment)
        {
            return false;
        }
        switch (p.protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
                return pseudoChecksumValid(buffer, p.l4Offset, p.l4Length, p.sourceAddress, p.destinationAddress,
                    p.protocol);
            case Ipv4Flyweight.PROTOCOL_UDP:
                return buffer.getShort(p.l4Offset + UdpFlyweight.CHECKSUM_OFFSET) != 0
                    && (buffer.getShort(p.l4Offset + UdpFlyweight.LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF) == p.l4Length
                    && pseudoChecksumValid(buffer, p.l4Offset, p.l4Length, p.sourceAddress, p.destinationAddress,
                    p.protocol);
            case Ipv4Flyweight.PROTOCOL_ICMP:
                return InternetChecksum.fold(InternetChecksum.add(buffer, p.l4Offset, p.l4Length, 0)) == 0xFFFF;
            default:
                return false;
        }
    }

    private static boolean pseudoChecksumValid(
        final MutableDirectBuffer buffer, final int l4, final int l4Length, final int source, final int destination,
        final int protocol)
    {
        final long sum = InternetChecksum.add(buffer, l4, l4Length,
            InternetChecksum.pseudoHeader(source, destination, protocol, l4Length));
        return InternetChecksum.fold(sum) == 0xFFFF;
    }
}
