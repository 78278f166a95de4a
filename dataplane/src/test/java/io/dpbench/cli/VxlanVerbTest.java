package io.dpbench.cli;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class VxlanVerbTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();

    @Test
    void encapThenDecapGivesBackTheRoutedInnerFrames() throws Exception
    {
        final Path pods = dir.resolve("pods.pcap");
        final List<byte[]> sent = new ArrayList<>();
        try (PcapWriter writer = PcapWriter.create(pods))
        {
            final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
            for (int i = 0; i < 50; i++)
            {
                final int payload = i == 7 ? 1472 : 100 + i;
                final FrameBuilder builder = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.5"),
                    Ipv4Address.parse("10.244.1.7")).udp(40000 + i, 53).payload(new byte[payload], payload);
                final int length = builder.build(b, 0);
                writer.write(b, 0, length, i * 1_000_000L);
                final byte[] f = new byte[length];
                b.getBytes(0, f);
                sent.add(f);
            }
        }
        final Path wire = dir.resolve("wire.pcap");
        assertThat(cli.run("vxlan", "encap", "--in", pods.toString(), "--out", wire.toString(), "--vni", "7",
            "--local", "10.0.0.1", "--remote", "10.0.0.2", "--json")).as(cli.err.toString()).isZero();
        // frame 7 is 1500 bytes with DF: the pod gets fragmentation-needed instead
        assertThat(cli.out.toString()).contains("\"frames_in\":50").contains("\"frames_out\":50")
            .contains("\"encapsulated\":49").contains("\"frag_needed\":1");
        final Path inner = dir.resolve("inner.pcap");
        assertThat(cli.run("vxlan", "decap", "--in", wire.toString(), "--out", inner.toString(), "--vni", "7", "--json"))
            .isZero();
        assertThat(cli.out.toString()).contains("\"decapsulated\":49").contains("\"drop_not_udp\":1");
        int matched = 0;
        try (PcapReader reader = PcapReader.open(inner))
        {
            int i = 0;
            while (reader.next())
            {
                if (i == 7)
                {
                    i++;
                }
                final byte[] original = sent.get(i++);
                final org.agrona.MutableDirectBuffer got = reader.frame();
                assertThat(reader.frameLength()).isEqualTo(original.length);
                // the same IPv4 packet but for the TTL and its checksum; the frame now between the two VTEPs
                assertThat(got.getByte(14 + 8)).isEqualTo((byte)(original[14 + 8] - 1));
                assertThat(got.getInt(14 + 12, ByteOrder.BIG_ENDIAN)).isEqualTo(new UnsafeBuffer(original).getInt(14 + 12, ByteOrder.BIG_ENDIAN));
                assertThat(got.getByte(0)).as("remote VTEP MAC").isEqualTo((byte)0x0a);
                matched++;
            }
        }
        assertThat(matched).isEqualTo(49);
        // the wrong VNI on the receiving side: every frame dropped under its reason
        assertThat(cli.run("vxlan", "decap", "--in", wire.toString(), "--out", dir.resolve("x.pcap").toString(), "--json"))
            .isZero();
        assertThat(cli.out.toString()).contains("\"decapsulated\":0").contains("\"drop_unknown_vni\":49");
    }

    @Test
    void badUsageExitsTwoWithOneLine()
    {
        assertThat(cli.run("vxlan", "encap", "--in", "a", "--out", "b", "--local-mac", "02:00:00:00:00")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("--local-mac '02:00:00:00:00': expected six hex bytes");
        assertThat(cli.run("vxlan", "encap", "--in", "a", "--out", "b", "--vtep-mac", "02:00:00:00:00:zz")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("'zz' is not a hex byte");
        assertThat(cli.run("vxlan", "encap", "--in", "a", "--out", "b", "--vni", "16777216")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("VNI 16777216 outside 0..16777215");
        assertThat(cli.run("vxlan", "wrap", "--in", "a", "--out", "b")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("unknown action 'wrap' (encap or decap)");
        assertThat(cli.run("vxlan", "encap", "--in", dir.resolve("missing.pcap").toString(), "--out", "b")).isEqualTo(1);
        assertThat(cli.err.toString().strip().lines().count()).isOne();
    }
}
