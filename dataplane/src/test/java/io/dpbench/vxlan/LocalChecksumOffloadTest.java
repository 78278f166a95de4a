package io.dpbench.vxlan;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.NatRewriter;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outer UDP checksum computed from the headers alone (Linux's local checksum offload) is the full sum's, byte
 * for byte, for every inner packet whose L4 checksum rx found good, including after NAT rewrote it; and frames whose
 * L4 checksum is bad, absent (UDP 0) or partial (trailing bytes, first fragments) are not marked good.
 */
class LocalChecksumOffloadTest
{
    private static final int AT = 128;

    private final OverlayTopology topology = OverlayTopology.generate(3);
    private final RemoteVtep remote = topology.remote(2);
    private final VxlanEncapsulator encapsulator = new VxlanEncapsulator(VxlanConfig.flannel(), topology.local());

    @Test
    void headerOnlyChecksumEqualsTheFullSumForThousandsOfRandomPackets()
    {
        final SplittableRandom random = new SplittableRandom(11);
        final PacketParser parser = new PacketParser();
        final ParsedPacket p = new ParsedPacket();
        int verified = 0;
        for (int n = 0; n < 5_000; n++)
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
            final int length = randomFrame(random).build(frame, AT);
            assertThat(parser.parse(frame, AT, length, p)).isEqualTo(Verdict.OK);
            final boolean good = PacketParser.l4ChecksumGood(frame, p);
            assertThat(good).as("a built frame's L4 checksum (UDP checksum present)").isTrue();
            if (random.nextBoolean())
            {
                // NAT between rx and encap: incremental updates keep the checksum good
                NatRewriter.rewriteDestination(p, random.nextInt(), p.protocol == 1 ? p.destinationPort : random.nextInt(1, 65536));
                NatRewriter.rewriteSource(p, random.nextInt(), p.protocol == 1 ? p.sourcePort : random.nextInt(1, 65536));
                assertThat(PacketParser.l4ChecksumGood(frame, p)).as("after NAT").isTrue();
            }
            final UnsafeBuffer full = new UnsafeBuffer(frame.byteArray().clone());
            final int sourcePort = 32768 + random.nextInt(28000);
            final int a = encapsulator.encapsulate(full, p.l3Offset, p.ipTotalLength, remote, sourcePort, false);
            final int b = encapsulator.encapsulate(frame, p.l3Offset, p.ipTotalLength, remote, sourcePort, true);
            assertThat(b).isEqualTo(a);
            // the outer IPv4 identification advances per call: compare everything but it (and the header checksum)
            full.putShort(a + 14 + 4, (short)0);
            frame.putShort(b + 14 + 4, (short)0);
            full.putShort(a + 14 + 10, (short)0);
            frame.putShort(b + 14 + 10, (short)0);
            final int total = p.ipTotalLength + VxlanConfig.OVERHEAD;
            for (int i = 0; i < total; i++)
            {
                assertThat(frame.getByte(b + i)).as("packet %d byte %d", n, i).isEqualTo(full.getByte(a + i));
            }
            verified++;
        }
        assertThat(verified).isEqualTo(5_000);
    }

    @Test
    void badAbsentOrPartialL4ChecksumsAreNotMarkedGood()
    {
        final PacketParser parser = new PacketParser();
        final ParsedPacket p = new ParsedPacket();
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
        final int client = Ipv4Address.parse("10.244.0.9");
        final int service = Ipv4Address.parse("10.96.0.10");

        int length = new FrameBuilder().addresses(client, service).tcp(40000, 80, TcpFlyweight.ACK)
            .payload(new byte[33], 33).build(frame, AT);
        frame.putByte(AT + length - 1, (byte)(frame.getByte(AT + length - 1) + 1)); // one payload byte changed
        assertThat(parser.parse(frame, AT, length, p)).isEqualTo(Verdict.OK);
        assertThat(PacketParser.l4ChecksumGood(frame, p)).as("corrupted TCP").isFalse();

        length = new FrameBuilder().addresses(client, service).udp(40000, 53).udpChecksum(false)
            .payload(new byte[20], 20).build(frame, AT);
        assertThat(parser.parse(frame, AT, length, p)).isEqualTo(Verdict.OK);
        assertThat(PacketParser.l4ChecksumGood(frame, p)).as("UDP without a checksum").isFalse();

        length = new FrameBuilder().addresses(client, service).udp(40000, 53).payload(new byte[20], 20)
            .flagsAndFragment(0x2000).build(frame, AT); // MF: a first fragment
        assertThat(parser.parse(frame, AT, length, p)).isEqualTo(Verdict.OK);
        assertThat(PacketParser.l4ChecksumGood(frame, p)).as("first fragment").isFalse();

        // a UDP length shorter than the IP payload (trailing bytes the UDP checksum does not cover)
        length = new FrameBuilder().addresses(client, service).udp(40000, 53).payload(new byte[20], 20).build(frame, AT);
        final int l4 = AT + 14 + 20;
        frame.putShort(l4 + 4, (short)24, java.nio.ByteOrder.BIG_ENDIAN);
        assertThat(parser.parse(frame, AT, length, p)).isEqualTo(Verdict.OK);
        assertThat(PacketParser.l4ChecksumGood(frame, p)).as("UDP shorter than its datagram").isFalse();

        // a parse resets the mark: only rx sets it
        p.l4ChecksumVerified = true;
        parser.parse(frame, AT, length, p);
        assertThat(p.l4ChecksumVerified).isFalse();
    }

    private static FrameBuilder randomFrame(final SplittableRandom random)
    {
        final FrameBuilder builder = new FrameBuilder().addresses(random.nextInt(), random.nextInt())
            .ttl(2 + random.nextInt(200)).tos(random.nextInt(256));
        switch (random.nextInt(3))
        {
            case 0 -> builder.tcp(random.nextInt(1, 65536), random.nextInt(1, 65536), random.nextInt(256));
            case 1 -> builder.udp(random.nextInt(1, 65536), random.nextInt(1, 65536));
            default -> builder.icmpEcho(8, random.nextInt(65536), random.nextInt(65536));
        }
        final byte[] payload = new byte[random.nextInt(1400)];
        random.nextBytes(payload);
        if (random.nextInt(4) == 0)
        {
            builder.ipOptions(new byte[]{1, 1, 1, 1}); // NOPs: a 24-byte header
        }
        return builder.payload(payload, payload.length);
    }
}
