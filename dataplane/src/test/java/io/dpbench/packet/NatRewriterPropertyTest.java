package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property: after any DNAT/SNAT, the incrementally updated IPv4 and L4 checksums equal full recomputation, over
 * random packets of each protocol (random lengths, IPv4 and TCP options, odd payload lengths, VLAN tags).
 */
class NatRewriterPropertyTest
{
    private static final int PACKETS_PER_PROTOCOL = 12_000;

    @ParameterizedTest(name = "kind {0}")
    @ValueSource(ints = {RandomFrames.TCP, RandomFrames.UDP, RandomFrames.UDP_NO_CHECKSUM, RandomFrames.ICMP})
    void incrementalChecksumEqualsFullRecomputation(final int kind)
    {
        final RandomFrames frames = new RandomFrames(0xC0FFEE + kind, false);
        final SplittableRandom random = frames.random();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[2048]);
        final PacketParser parser = new PacketParser(true);
        final ParsedPacket packet = new ParsedPacket();
        int rewrites = 0;

        for (int i = 0; i < PACKETS_PER_PROTOCOL; i++)
        {
            final int offset = random.nextInt(8);
            final int length = frames.next(kind, buffer, offset);
            assertThat(parser.parse(buffer, offset, length, packet)).isEqualTo(Verdict.OK);
            final int originalUdpChecksum = kind == RandomFrames.UDP_NO_CHECKSUM ? checksumField(packet) : -1;

            // one to three rewrites of random sides with random values (sometimes the unchanged value)
            final int steps = 1 + random.nextInt(3);
            for (int s = 0; s < steps; s++)
            {
                final boolean destination = random.nextBoolean();
                final int address = random.nextInt(8) == 0
                    ? (destination ? packet.destinationAddress : packet.sourceAddress) : random.nextInt();
                final int port = random.nextInt(8) == 0
                    ? (destination ? packet.destinationPort : packet.sourcePort) : random.nextInt(65536);
                if (destination)
                {
                    NatRewriter.rewriteDestination(packet, address, port);
                }
                else
                {
                    NatRewriter.rewriteSource(packet, address, port);
                }
                rewrites++;
                assertChecksumsEqualRecomputation(buffer, copy, offset, length, packet, kind, i);
            }
            if (kind == RandomFrames.UDP_NO_CHECKSUM)
            {
                assertThat(originalUdpChecksum).isZero();
                assertThat(checksumField(packet)).as("UDP checksum 0 (none) stays 0 after NAT").isZero();
            }
            // the rewritten frame still parses and verifies (L4 checksum verification on) with the new tuple
            final ParsedPacket reparsed = new ParsedPacket();
            assertThat(parser.parse(buffer, offset, length, reparsed)).isEqualTo(Verdict.OK);
            assertThat(reparsed.destinationAddress).isEqualTo(packet.destinationAddress);
            assertThat(reparsed.sourcePort).isEqualTo(packet.sourcePort);
            assertThat(reparsed.destinationPort).isEqualTo(packet.destinationPort);
        }
        assertThat(rewrites).isGreaterThanOrEqualTo(PACKETS_PER_PROTOCOL);
    }

    @Test
    void udpChecksumThatComesOutZeroIsSentAsAllOnes()
    {
        // Choose a payload word so that, after DNAT, the computed UDP checksum is 0: it must go out as 0xFFFF.
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        final byte[] payload = new byte[2];
        final FrameBuilder builder = new FrameBuilder()
            .addresses(Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.96.0.10"))
            .udp(40000, 53)
            .payload(payload, 2);
        final int newAddress = Ipv4Address.parse("10.244.1.7");
        final int newPort = 5353;

        // raw checksum (before mangling) of the post-NAT packet with payload word 0
        builder.addresses(Ipv4Address.parse("10.244.0.5"), newAddress).udp(40000, newPort);
        final int length = builder.build(buffer, 0);
        final UdpFlyweight udp = new UdpFlyweight().wrap(buffer, 14 + 20);
        udp.checksum(0);
        final int raw = InternetChecksum.finish(InternetChecksum.add(buffer, 14 + 20, udp.length(),
            InternetChecksum.pseudoHeader(Ipv4Address.parse("10.244.0.5"), newAddress, 17, udp.length())));
        payload[0] = (byte)(raw >>> 8);
        payload[1] = (byte)raw;

        builder.addresses(Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.96.0.10")).udp(40000, 53);
        builder.build(buffer, 0);
        final ParsedPacket packet = new ParsedPacket();
        assertThat(new PacketParser(true).parse(buffer, 0, length, packet)).isEqualTo(Verdict.OK);
        NatRewriter.rewriteDestination(packet, newAddress, newPort);
        assertThat(udp.checksum()).isEqualTo(0xFFFF);
        udp.updateChecksum(packet.sourceAddress, packet.destinationAddress);
        assertThat(udp.checksum()).isEqualTo(0xFFFF);
    }

    private static int checksumField(final ParsedPacket p)
    {
        return p.buffer.getShort(p.l4Offset + UdpFlyweight.CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    private static void assertChecksumsEqualRecomputation(
        final UnsafeBuffer buffer, final UnsafeBuffer copy, final int offset, final int length, final ParsedPacket p,
        final int kind, final int index)
    {
        copy.putBytes(0, buffer, offset, length);
        final int l3 = p.l3Offset - offset;
        final int l4 = p.l4Offset - offset;
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(copy, l3);
        final int ipIncremental = ip.checksum();
        ip.updateChecksum();
        assertThat(ipIncremental).as("packet %d: IPv4 header checksum", index).isEqualTo(ip.checksum());

        switch (kind)
        {
            case RandomFrames.TCP:
            {
                final TcpFlyweight tcp = new TcpFlyweight().wrap(copy, l4);
                final int incremental = tcp.checksum();
                tcp.updateChecksum(p.sourceAddress, p.destinationAddress, p.l4Length);
                assertThat(incremental).as("packet %d: TCP checksum", index).isEqualTo(tcp.checksum());
                break;
            }
            case RandomFrames.UDP:
            {
                final UdpFlyweight udp = new UdpFlyweight().wrap(copy, l4);
                final int incremental = udp.checksum();
                udp.updateChecksum(p.sourceAddress, p.destinationAddress);
                assertThat(incremental).as("packet %d: UDP checksum", index).isEqualTo(udp.checksum());
                break;
            }
            case RandomFrames.UDP_NO_CHECKSUM:
                assertThat(new UdpFlyweight().wrap(copy, l4).checksum()).isZero();
                break;
            default:
            {
                final IcmpFlyweight icmp = new IcmpFlyweight().wrap(copy, l4);
                final int incremental = icmp.checksum();
                icmp.updateChecksum(p.l4Length);
                assertThat(incremental).as("packet %d: ICMP checksum", index).isEqualTo(icmp.checksum());
                assertThat(icmp.identifier()).isEqualTo(p.sourcePort).isEqualTo(p.destinationPort);
                break;
            }
        }
    }
}
