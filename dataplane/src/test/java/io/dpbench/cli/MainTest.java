package io.dpbench.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();
    private final java.io.StringWriter out = cli.out;
    private final java.io.StringWriter err = cli.err;

    private int run(final String... args)
    {
        return cli.run(args);
    }

    @Test
    void helpListsTheVerbsAndExitsZero()
    {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("inspect", "nat", "Usage: dpbench");
        assertThat(run("inspect", "--help")).isZero();
        assertThat(out.toString()).contains("--in=FILE", "--verify-l4-checksums", "--json");
    }

    @Test
    void badUsageExitsTwoWithOneLineOnStderr()
    {
        assertThat(run("no-such-verb")).isEqualTo(2);
        assertThat(err.toString().strip()).startsWith("dpbench: Unmatched argument").doesNotContain("\n");

        assertThat(run("inspect")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo(
            "dpbench inspect: Missing required option: '--in=FILE' (see 'dpbench inspect --help')");

        assertThat(run("nat", "--in", "a", "--out", "b", "--dnat", "10.96.0.300:80=1.2.3.4:80")).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("dpbench nat: --dnat '10.96.0.300:80=1.2.3.4:80': "
            + "not an IPv4 address (octet > 255): '10.96.0.300' (see 'dpbench nat --help')");

        assertThat(run("nat", "--in", "a", "--out", "b")).isEqualTo(2);
        assertThat(err.toString()).contains("give at least one --dnat or --snat rule");

        assertThat(run()).isEqualTo(2);
        assertThat(err.toString()).contains("a verb is required");
    }

    @Test
    void runtimeFailureExitsOneWithOneLineNamingTheFile() throws Exception
    {
        assertThat(run("inspect", "--in", dir.resolve("missing.pcap").toString())).isEqualTo(1);
        assertThat(err.toString().strip()).isEqualTo("dpbench inspect: error: " + dir.resolve("missing.pcap") + ": no such file");

        final Path notPcap = dir.resolve("text.pcap");
        Files.writeString(notPcap, "this is not a capture file, just some text");
        assertThat(run("inspect", "--in", notPcap.toString())).isEqualTo(1);
        assertThat(err.toString().strip()).isEqualTo("dpbench inspect: error: " + notPcap
            + ": at byte 0: not a pcap file (magic 0x74686973)");
    }

    @Test
    void inspectCountsVerdictsAndNatRewritesEndToEnd() throws Exception
    {
        final Path in = dir.resolve("in.pcap");
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        final FrameBuilder builder = new FrameBuilder()
            .addresses(Ipv4Address.parse("10.244.0.5"), Ipv4Address.parse("10.96.0.10"));
        try (PcapWriter writer = PcapWriter.create(in))
        {
            int length = builder.tcp(40001, 80, TcpFlyweight.SYN).build(buffer, 0);
            writer.write(buffer, 0, length, 1_000_000_000L);
            length = builder.udp(40002, 53).build(buffer, 0);
            writer.write(buffer, 0, length, 2_000_000_000L);
            buffer.putByte(14 + 8, (byte)1); // TTL changed without the checksum: a bad-ip-checksum frame
            writer.write(buffer, 0, length, 3_000_000_000L);
        }

        assertThat(run("inspect", "--in", in.toString(), "--json")).isZero();
        final JsonNode summary = new ObjectMapper().readTree(out.toString());
        assertThat(summary.get("frames").asLong()).isEqualTo(3);
        assertThat(summary.get("verdicts").get("ok").asLong()).isEqualTo(2);
        assertThat(summary.get("verdicts").get("bad-ip-checksum").asLong()).isEqualTo(1);
        assertThat(summary.get("protocols").get("tcp").asLong()).isEqualTo(1);
        assertThat(summary.get("flows").asInt()).isEqualTo(2);
        assertThat(summary.get("capture_seconds").asDouble()).isEqualTo(2.0);

        assertThat(run("inspect", "--in", in.toString(), "--frames")).isZero();
        assertThat(out.toString()).contains("1 ok tcp 10.244.0.5:40001 > 10.96.0.10:80 [S] len=54",
            "3 bad-ip-checksum len=42");

        final Path nat = dir.resolve("nat.pcap");
        assertThat(run("nat", "--in", in.toString(), "--out", nat.toString(),
            "--dnat", "10.96.0.10:80=10.244.1.7:8080", "--snat", "10.244.0.5=192.168.0.10")).isZero();
        assertThat(out.toString()).contains("3 frames read, 2 written, 1 DNAT, 2 SNAT", "bad-ip-checksum 1");

        final PacketParser parser = new PacketParser(true);
        final ParsedPacket p = new ParsedPacket();
        try (PcapReader reader = PcapReader.open(nat))
        {
            assertThat(reader.next()).isTrue();
            assertThat(parser.parse(reader.frame(), 0, reader.frameLength(), p)).isEqualTo(Verdict.OK);
            assertThat(Ipv4Address.toString(p.destinationAddress) + ":" + p.destinationPort).isEqualTo("10.244.1.7:8080");
            assertThat(Ipv4Address.toString(p.sourceAddress) + ":" + p.sourcePort).isEqualTo("192.168.0.10:40001");
            assertThat(reader.timestampNanos()).isEqualTo(1_000_000_000L);
            assertThat(reader.next()).isTrue();
            assertThat(parser.parse(reader.frame(), 0, reader.frameLength(), p)).isEqualTo(Verdict.OK);
            assertThat(Ipv4Address.toString(p.destinationAddress) + ":" + p.destinationPort)
                .as("UDP to port 53 matches no --dnat rule").isEqualTo("10.96.0.10:53");
            assertThat(Ipv4Address.toString(p.sourceAddress)).isEqualTo("192.168.0.10");
            assertThat(reader.next()).isFalse();
        }
    }
}
