package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/** One frame per verdict, built valid and then broken in exactly one way. */
class PacketParserTest
{
    private static final int CLIENT = Ipv4Address.parse("10.244.0.5");
    private static final int VIP = Ipv4Address.parse("10.96.0.10");

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
    private final PacketParser parser = new PacketParser(true);
    private final ParsedPacket packet = new ParsedPacket();
    private FrameBuilder builder;

    @BeforeEach
    void setUp()
    {
        builder = new FrameBuilder().addresses(CLIENT, VIP).tcp(40001, 80, TcpFlyweight.SYN).payload(new byte[10], 10);
    }

    private Verdict parse(final int length)
    {
        final long before = parser.total();
        final Verdict verdict = parser.parse(buffer, 0, length, packet);
        assertThat(parser.total()).isEqualTo(before + 1);
        return verdict;
    }

    @Test
    void validTcpFrameYieldsItsFiveTuple()
    {
        final int length = builder.build(buffer, 0);
        assertThat(parse(length)).isEqualTo(Verdict.OK);
        assertThat(packet.protocol).isEqualTo(6);
        assertThat(packet.sourceAddress).isEqualTo(CLIENT);
        assertThat(packet.destinationAddress).isEqualTo(VIP);
        assertThat(packet.sourcePort).isEqualTo(40001);
        assertThat(packet.destinationPort).isEqualTo(80);
        assertThat(packet.tcpFlags).isEqualTo(TcpFlyweight.SYN);
        assertThat(packet.l3Offset).isEqualTo(14);
        assertThat(packet.l4Offset).isEqualTo(34);
        assertThat(packet.l4Length).isEqualTo(30);
        assertThat(parser.count(Verdict.OK)).isEqualTo(1);
    }

    @Test
    void vlanTagsAreSteppedOver()
    {
        builder.vlan(1, 42);
        int length = builder.build(buffer, 0);
        assertThat(parse(length)).isEqualTo(Verdict.OK);
        assertThat(packet.vlanTags).isEqualTo(1);
        assertThat(packet.l3Offset).isEqualTo(18);
        assertThat(packet.destinationPort).isEqualTo(80);

        builder.vlan(2, 42);
        length = builder.build(buffer, 0);
        assertThat(parse(length)).isEqualTo(Verdict.OK);
        assertThat(packet.vlanTags).isEqualTo(2);
        assertThat(packet.l3Offset).isEqualTo(22);
        assertThat(buffer.getShort(12, ByteOrder.BIG_ENDIAN) & 0xFFFF).isEqualTo(EthernetFlyweight.ETHER_TYPE_QINQ);
    }

    @Test
    void threeVlanTagsAreTooMany()
    {
        builder.vlan(2, 42);
        final int length = builder.build(buffer, 0);
        buffer.putShort(20, (short)EthernetFlyweight.ETHER_TYPE_VLAN, ByteOrder.BIG_ENDIAN); // inner ethertype -> tag
        assertThat(parse(length)).isEqualTo(Verdict.TOO_MANY_VLAN_TAGS);
    }

    @Test
    void icmpEchoIdentifierIsTheFlowPort()
    {
        builder.icmpEcho(IcmpFlyweight.TYPE_ECHO_REQUEST, 0x1234, 7);
        final int length = builder.build(buffer, 0);
        assertThat(parse(length)).isEqualTo(Verdict.OK);
        assertThat(packet.sourcePort).isEqualTo(0x1234);
        assertThat(packet.destinationPort).isEqualTo(0x1234);
        assertThat(packet.icmpType).isEqualTo(8);
    }

    @Test
    void ethernetPaddingBeyondTotalLengthIsAccepted()
    {
        builder.payload(new byte[0], 0).udp(1, 2);
        final int length = builder.build(buffer, 0); // 42 bytes: pad to the 60-byte Ethernet minimum
        assertThat(parse(60)).isEqualTo(Verdict.OK);
        assertThat(packet.l4Length).isEqualTo(8);
        assertThat(length).isEqualTo(42);
    }

    @Test
    void truncatedEthernet()
    {
        assertThat(parse(13)).isEqualTo(Verdict.TRUNCATED_ETHERNET);
        builder.vlan(1, 5).build(buffer, 0);
        assertThat(parse(16)).isEqualTo(Verdict.TRUNCATED_ETHERNET);
    }

    @Test
    void notIpv4()
    {
        final int length = builder.build(buffer, 0);
        buffer.putShort(12, (short)EthernetFlyweight.ETHER_TYPE_IPV6, ByteOrder.BIG_ENDIAN);
        assertThat(parse(length)).isEqualTo(Verdict.NOT_IPV4);
    }

    @Test
    void truncatedIpv4()
    {
        builder.build(buffer, 0);
        assertThat(parse(14 + 19)).isEqualTo(Verdict.TRUNCATED_IPV4);
    }

    @Test
    void badVersion()
    {
        final int length = builder.build(buffer, 0);
        buffer.putByte(14, (byte)0x65);
        assertThat(parse(length)).isEqualTo(Verdict.BAD_IP_VERSION);
    }

    @Test
    void ihlBelowFive()
    {
        final int length = builder.build(buffer, 0);
        buffer.putByte(14, (byte)0x44);
        assertThat(parse(length)).isEqualTo(Verdict.BAD_IHL);
    }

    @Test
    void ihlBeyondFrame()
    {
        builder.payload(new byte[0], 0).tcp(1, 2, 0);
        builder.build(buffer, 0);
        buffer.putByte(14, (byte)0x4F); // 60-byte header, frame has 20 + 20 after Ethernet
        assertThat(parse(14 + 40)).isEqualTo(Verdict.IHL_BEYOND_FRAME);
    }

    @Test
    void badHeaderChecksum()
    {
        final int length = builder.build(buffer, 0);
        buffer.putByte(14 + 8, (byte)7); // TTL changed, checksum not
        assertThat(parse(length)).isEqualTo(Verdict.BAD_IP_CHECKSUM);
    }

    @Test
    void totalLengthBeyondFrame()
    {
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).totalLength(length - 14 + 1).updateChecksum();
        assertThat(parse(length)).isEqualTo(Verdict.TOTAL_LENGTH_BEYOND_FRAME);
    }

    @Test
    void totalLengthBelowHeader()
    {
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).totalLength(19).updateChecksum();
        assertThat(parse(length)).isEqualTo(Verdict.TOTAL_LENGTH_BELOW_HEADER);
    }

    @Test
    void nonFirstFragment()
    {
        builder.flagsAndFragment(Ipv4Flyweight.FLAG_MORE_FRAGMENTS | 185);
        assertThat(parse(builder.build(buffer, 0))).isEqualTo(Verdict.NON_FIRST_FRAGMENT);
    }

    @Test
    void firstFragmentHasItsL4HeaderAndIsAccepted()
    {
        builder.flagsAndFragment(Ipv4Flyweight.FLAG_MORE_FRAGMENTS);
        assertThat(parse(builder.build(buffer, 0))).isEqualTo(Verdict.OK);
        assertThat(packet.firstFragment).isTrue();
        assertThat(packet.destinationPort).isEqualTo(80);
    }

    @Test
    void truncatedTcp()
    {
        builder.payload(new byte[0], 0);
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).totalLength(20 + 19).updateChecksum();
        assertThat(parse(length)).isEqualTo(Verdict.TRUNCATED_TCP);
    }

    @Test
    void badTcpDataOffset()
    {
        int length = builder.build(buffer, 0);
        new TcpFlyweight().wrap(buffer, 34).dataOffset(4);
        assertThat(parse(length)).isEqualTo(Verdict.BAD_TCP_DATA_OFFSET);
        length = builder.build(buffer, 0);
        new TcpFlyweight().wrap(buffer, 34).dataOffset(15); // 60 > 30 bytes of segment
        assertThat(parse(length)).isEqualTo(Verdict.BAD_TCP_DATA_OFFSET);
    }

    @Test
    void truncatedUdp()
    {
        builder.udp(1, 2).payload(new byte[0], 0);
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).totalLength(20 + 7).updateChecksum();
        assertThat(parse(length)).isEqualTo(Verdict.TRUNCATED_UDP);
    }

    @Test
    void badUdpLength()
    {
        builder.udp(1, 2);
        int length = builder.build(buffer, 0);
        new UdpFlyweight().wrap(buffer, 34).length(7);
        assertThat(parse(length)).isEqualTo(Verdict.BAD_UDP_LENGTH);
        length = builder.build(buffer, 0);
        new UdpFlyweight().wrap(buffer, 34).length(19); // datagram has 18
        assertThat(parse(length)).isEqualTo(Verdict.BAD_UDP_LENGTH);
    }

    @Test
    void udpLengthShorterThanIpPayloadIsAcceptedAsLinuxDoes()
    {
        builder.udp(1, 2).udpChecksum(false);
        final int length = builder.build(buffer, 0);
        new UdpFlyweight().wrap(buffer, 34).length(8);
        assertThat(parse(length)).isEqualTo(Verdict.OK);
    }

    @Test
    void truncatedIcmp()
    {
        builder.icmpEcho(8, 1, 1).payload(new byte[0], 0);
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).totalLength(20 + 7).updateChecksum();
        assertThat(parse(length)).isEqualTo(Verdict.TRUNCATED_ICMP);
    }

    @Test
    void unsupportedIcmpType()
    {
        builder.icmpEcho(8, 1, 1);
        final int length = builder.build(buffer, 0);
        new IcmpFlyweight().wrap(buffer, 34).type(IcmpFlyweight.TYPE_TIME_EXCEEDED).updateChecksum(18);
        assertThat(parse(length)).isEqualTo(Verdict.UNSUPPORTED_ICMP_TYPE);
    }

    @Test
    void unsupportedProtocol()
    {
        final int length = builder.build(buffer, 0);
        new Ipv4Flyweight().wrap(buffer, 14).protocol(47).updateChecksum(); // GRE
        assertThat(parse(length)).isEqualTo(Verdict.UNSUPPORTED_PROTOCOL);
    }

    @Test
    void badL4ChecksumOnlyWhenVerificationIsOn()
    {
        final int length = builder.build(buffer, 0);
        buffer.putByte(length - 1, (byte)0x5A); // payload changed, checksum not
        assertThat(parse(length)).isEqualTo(Verdict.BAD_L4_CHECKSUM);
        assertThat(new PacketParser(false).parse(buffer, 0, length, packet)).isEqualTo(Verdict.OK);

        builder.udp(1, 2).udpChecksum(false);
        final int udpLength = builder.build(buffer, 0);
        buffer.putByte(udpLength - 1, (byte)0x5A);
        assertThat(parse(udpLength)).as("UDP checksum 0 means none: nothing to verify").isEqualTo(Verdict.OK);
    }

    @Test
    void everyVerdictHasADescriptionAndLabel()
    {
        for (final Verdict v : Verdict.values())
        {
            assertThat(v.description()).isNotBlank();
            assertThat(v.label()).matches("[a-z0-9-]+");
        }
    }
}
