package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Frames written by dpbench (built, then DNATed and SNATed by {@link NatRewriter}) decode in Wireshark's tshark with
 * checksum verification on: no malformed frame, every IPv4, TCP, UDP and ICMP checksum "Good".
 * <p>
 * {@code scripts/test} installs tshark and sets {@code DPBENCH_REQUIRE_TSHARK=1}, so there this test cannot skip;
 * elsewhere it skips when tshark is absent. Dissection stops at L4: the payloads are random bytes, which
 * application dissectors on well-known ports (DNS, RTCP heuristics ...) rightly call malformed, and those bytes are
 * the test's, not something dpbench's rewrite produced.
 */
class TsharkDecodeTest
{
    private static final int FRAMES = 2_000;

    @TempDir
    Path dir;

    @Test
    void rewrittenFramesDecodeCleanlyWithValidChecksums() throws Exception
    {
        requireOrSkipTshark();

        final Path pcap = dir.resolve("dpbench-nat.pcap");
        final int[] kinds = {RandomFrames.TCP, RandomFrames.UDP, RandomFrames.UDP_NO_CHECKSUM, RandomFrames.ICMP};
        final int[] perKind = new int[4];
        final RandomFrames frames = new RandomFrames(99, true);
        final SplittableRandom random = frames.random();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final PacketParser parser = new PacketParser(true);
        final ParsedPacket packet = new ParsedPacket();
        try (PcapWriter writer = PcapWriter.create(pcap))
        {
            for (int i = 0; i < FRAMES; i++)
            {
                final int k = i % kinds.length;
                final int length = frames.next(kinds[k], buffer, 0);
                assertThat(parser.parse(buffer, 0, length, packet)).isEqualTo(Verdict.OK);
                NatRewriter.rewriteDestination(packet, random.nextInt(), random.nextInt(65536));
                if (random.nextBoolean())
                {
                    NatRewriter.rewriteSource(packet, random.nextInt(), random.nextInt(65536));
                }
                writer.write(buffer, 0, length, 1_764_000_000_000_000_000L + i * 1_000_000L);
                perKind[k]++;
            }
        }

        final List<String> rows = tshark(pcap,
            "-T", "fields", "-E", "separator=,", "-E", "occurrence=a", "-E", "aggregator=;",
            "-e", "frame.number", "-e", "ip.checksum.status", "-e", "tcp.checksum.status",
            "-e", "udp.checksum.status", "-e", "icmp.checksum.status", "-e", "_ws.malformed", "-e", "udp.checksum");
        assertThat(rows).hasSize(FRAMES);
        int tcp = 0;
        int udp = 0;
        int udpNone = 0;
        int icmp = 0;
        for (final String row : rows)
        {
            final String[] f = row.split(",", -1);
            assertThat(f).as(row).hasSize(7);
            assertThat(f[1]).as("IPv4 checksum status (1 = good): %s", row).isEqualTo("1");
            assertThat(f[5]).as("malformed: %s", row).isEmpty();
            if (!f[2].isEmpty())
            {
                assertThat(f[2]).as("TCP checksum status: %s", row).isEqualTo("1");
                tcp++;
            }
            else if (!f[3].isEmpty())
            {
                if ("0x0000".equals(f[6]))
                {
                    assertThat(f[3]).as("UDP checksum 0: tshark status 3, not present: %s", row).isEqualTo("3");
                    udpNone++;
                }
                else
                {
                    assertThat(f[3]).as("UDP checksum status: %s", row).isEqualTo("1");
                    udp++;
                }
            }
            else
            {
                assertThat(f[4]).as("ICMP checksum status: %s", row).isEqualTo("1");
                icmp++;
            }
        }
        assertThat(new int[]{tcp, udp, udpNone, icmp}).containsExactly(perKind);

        final List<String> errors = tshark(pcap, "-Y", "_ws.expert.severity == error || _ws.malformed");
        assertThat(errors).as("frames with expert errors").isEmpty();
    }

    @Test
    void vxlanEncapsulatedFramesDecodeWithTheirVni() throws Exception
    {
        requireOrSkipTshark();
        final Path pcap = dir.resolve("dpbench-vxlan.pcap");
        final RandomFrames inner = new RandomFrames(5, true);
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[2048]);
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
        final byte[] udpPayload = new byte[2048];
        final FrameBuilder outer = new FrameBuilder().addresses(Ipv4Address.parse("192.168.0.1"), Ipv4Address.parse("192.168.0.2"));
        final VxlanFlyweight vxlan = new VxlanFlyweight();
        final int count = 200;
        try (PcapWriter writer = PcapWriter.create(pcap))
        {
            for (int i = 0; i < count; i++)
            {
                vxlan.wrap(scratch, 0).set(1 + i);
                final int innerLength = inner.next(i % 2 == 0 ? RandomFrames.TCP : RandomFrames.UDP, scratch,
                    VxlanFlyweight.HEADER_LENGTH);
                scratch.getBytes(0, udpPayload, 0, VxlanFlyweight.HEADER_LENGTH + innerLength);
                final int length = outer.udp(32768 + i, VxlanFlyweight.IANA_PORT)
                    .payload(udpPayload, VxlanFlyweight.HEADER_LENGTH + innerLength).build(frame, 0);
                writer.write(frame, 0, length, i * 1_000L);
            }
        }
        final List<String> rows = tshark(pcap, "-T", "fields", "-E", "separator=,", "-E", "occurrence=a",
            "-E", "aggregator=;", "-e", "vxlan.vni", "-e", "ip.checksum.status", "-e", "udp.checksum.status",
            "-e", "tcp.checksum.status", "-e", "_ws.malformed");
        assertThat(rows).hasSize(count);
        for (int i = 0; i < count; i++)
        {
            final String[] f = rows.get(i).split(",", -1);
            assertThat(f[0]).as("VNI of frame %d", i + 1).isEqualTo(Integer.toString(1 + i));
            assertThat(f[1]).as("outer and inner IPv4 checksums").isEqualTo("1;1");
            assertThat(f[2] + f[3]).as("outer UDP and inner L4 checksums").isEqualTo(i % 2 == 0 ? "11" : "1;1");
            assertThat(f[4]).as("malformed").isEmpty();
        }
    }


    private List<String> tshark(final Path pcap, final String... args) throws Exception
    {
        return Tshark.run(dir, pcap, args);
    }

    private static void requireOrSkipTshark()
    {
        Tshark.requireOrSkip();
    }
}
