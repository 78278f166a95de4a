package io.dpbench.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.conntrack.ConntrackTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reproductions of the hostile-input review (issue 15), through the CLI as users meet them: each failed before
 * (a hang, an injected rule, a blocked process, a lost file, a stack-trace-like message) and must give one clear
 * line and the right exit code now.
 */
class HostileInputTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();

    private String err()
    {
        return cli.err.toString();
    }

    private static void assertOneLine(final String text)
    {
        assertThat(text.strip()).isNotEmpty().doesNotContain("\n").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    @Timeout(30)
    void traceOnAGotoLoopFailsNamingTheCycleInsteadOfHanging() throws Exception
    {
        final Path rules = Files.writeString(dir.resolve("loop.rules"), io.dpbench.iptables.ChainLoopTestAccess.GOTO_LOOP);
        assertThat(cli.run("trace", "--mode", "iptables", "--rules", rules.toString(), "--proto", "tcp",
            "--from", "10.244.0.5", "--to", "10.96.0.1:80")).isEqualTo(1);
        assertOneLine(err());
        assertThat(err()).contains("loop.rules:10:").contains("LOOPA -> LOOPB -> LOOPA");
    }

    @Test
    @Timeout(60)
    void traceThatStopsAtItsCapSaysSo() throws Exception
    {
        // sixty chains, each jumping to the next on a statistic match and again without: 2^60 ways through
        final StringBuilder text = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        for (int i = 0; i <= 60; i++)
        {
            text.append(":S").append(i).append(" - [0:0]\n");
        }
        text.append("-A PREROUTING -j S0\n");
        for (int i = 0; i < 60; i++)
        {
            text.append("-A S").append(i).append(" -m statistic --mode random --probability 0.50000000000 -j S")
                .append(i + 1).append('\n');
            text.append("-A S").append(i).append(" -j S").append(i + 1).append('\n');
        }
        text.append("-A S60 -p tcp -j DNAT --to-destination 10.244.1.1:80\nCOMMIT\n");
        final Path rules = Files.writeString(dir.resolve("stat.rules"), text);
        final String[] args = {"trace", "--mode", "iptables", "--rules", rules.toString(), "--proto", "tcp",
            "--from", "10.244.0.5", "--to", "10.96.0.1:80", "--max-branches", "2000"};
        assertThat(cli.run(concat(args, "--json"))).isZero();
        final JsonNode json = new ObjectMapper().readTree(cli.out.toString());
        assertThat(json.get("truncated").asBoolean()).isTrue();
        assertThat(json.get("branches").asInt()).isEqualTo(2000);
        assertThat(cli.run(args)).isZero();
        assertThat(cli.out.toString()).contains("trace stopped at 2000 branches (--max-branches)");
        // a trace that explores everything says it is complete
        final Path small = Files.writeString(dir.resolve("small.rules"), "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
        assertThat(cli.run("trace", "--mode", "iptables", "--rules", small.toString(), "--proto", "tcp",
            "--from", "10.244.0.5", "--to", "10.96.0.1:80", "--json")).isZero();
        assertThat(new ObjectMapper().readTree(cli.out.toString()).get("truncated").asBoolean()).isFalse();
    }

    private static String[] concat(final String[] a, final String... b)
    {
        final String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aServiceNameCannotInjectARule() throws Exception
    {
        final String evil = "web\\\"\\n-I KUBE-FORWARD 1 -j ACCEPT\\n#";
        final Path cluster = Files.writeString(dir.resolve("evil.json"), """
            {"kind": "List", "items": [
              {"kind": "Service", "metadata": {"name": "EVIL", "namespace": "shop"},
               "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80}]}},
              {"kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "web-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "EVIL"}},
               "endpoints": [{"addresses": ["10.244.1.5"]}], "ports": [{"name": "http", "port": 8080}]}]}
            """.replace("EVIL", evil));
        for (final String format : new String[]{"restore", "save"})
        {
            for (final String mode : new String[]{"iptables", "ipvs"})
            {
                final int code = cli.run("render", "--mode", mode, "--format", format, "--cluster", cluster.toString());
                assertThat(code).as(mode + " " + format).isNotZero();
                assertThat(cli.out.toString()).doesNotContain("KUBE-FORWARD 1 -j ACCEPT");
                assertOneLine(err());
                assertThat(err()).contains("items[0] (Service shop/web").contains("metadata.name: invalid value")
                    .contains("DNS-1035 label");
            }
        }
    }

    @Test
    void emptyClusterFileIsAnErrorAndAnObjectWhereAnArrayBelongsIsNamed() throws Exception
    {
        final Path empty = Files.writeString(dir.resolve("empty.json"), "");
        assertThat(cli.run("render", "--mode", "iptables", "--cluster", empty.toString())).isNotZero();
        assertOneLine(err());
        assertThat(err()).contains("empty.json: empty");
        final Path ports = Files.writeString(dir.resolve("ports.json"), """
            {"kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"clusterIP": "10.96.0.10", "ports": {}}}""");
        assertThat(cli.run("render", "--mode", "iptables", "--cluster", ports.toString())).isNotZero();
        assertOneLine(err());
        assertThat(err()).contains("spec.ports: expected an array, got {}").doesNotContain("null");
    }

    @Test
    @Timeout(60)
    void replayNeverReplacesItsInputNorLosesWhatItProcessed() throws Exception
    {
        final Path frames = dir.resolve("f.pcap");
        writeFrames(frames, 200);
        final byte[] capture = Files.readAllBytes(frames);
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--in", frames.toString(),
            "--out", frames.toString())).isEqualTo(2);
        assertThat(err()).contains("is also an input");
        assertThat(Files.readAllBytes(frames)).isEqualTo(capture);
        // the same file under another name (a symbolic link) is the same file
        final Path link = Files.createSymbolicLink(dir.resolve("link.pcap"), frames);
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--in", frames.toString(),
            "--out", link.toString())).isEqualTo(2);
        assertThat(Files.readAllBytes(frames)).isEqualTo(capture);

        // a capture cut inside its 101st record: the 100 before it are replayed and kept as OUT.partial
        final Path cut = dir.resolve("cut.pcap");
        final int cutAt = recordEnd(capture, 100) + 20;
        Files.write(cut, Arrays.copyOf(capture, cutAt));
        final Path out = dir.resolve("out.pcap");
        Files.writeString(out, "an older output, left alone");
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--in", cut.toString(),
            "--out", out.toString())).isEqualTo(1);
        assertOneLine(err());
        assertThat(err()).contains("frame 101").contains("kept in " + out + ".partial");
        assertThat(Files.readString(out)).isEqualTo("an older output, left alone");
        int frames100 = 0;
        try (io.dpbench.packet.PcapReader r = io.dpbench.packet.PcapReader.open(dir.resolve("out.pcap.partial")))
        {
            while (r.next())
            {
                frames100++;
            }
        }
        assertThat(frames100).as("frames replayed before the damaged record").isBetween(1, 100);
        // and a whole capture replays to the output's own name, with no temporary file left
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--in", frames.toString(),
            "--out", out.toString())).isZero();
        assertThat(Files.size(out)).isGreaterThan(24);
        try (var listing = Files.list(dir))
        {
            assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    /** Byte offset just past record {@code n} (0-based count of records) of a classic pcap. */
    private static int recordEnd(final byte[] pcap, final int n)
    {
        final java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pcap).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int at = 24;
        for (int i = 0; i < n; i++)
        {
            at += 16 + b.getInt(at + 8);
        }
        return at;
    }

    private static void writeFrames(final Path file, final int count) throws Exception
    {
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(new byte[2048]);
        try (io.dpbench.packet.PcapWriter w = io.dpbench.packet.PcapWriter.create(file))
        {
            for (int i = 0; i < count; i++)
            {
                final int length = new io.dpbench.packet.FrameBuilder()
                    .addresses(io.dpbench.packet.Ipv4Address.parse("10.244.0.5"),
                        io.dpbench.packet.Ipv4Address.parse("10.96.0." + (1 + i % 10)))
                    .tcp(40000 + i, 80, io.dpbench.packet.TcpFlyweight.SYN).build(buffer, 0);
                w.write(buffer, 0, length, 1_000_000L * i);
            }
        }
    }

    @Test
    @Timeout(60)
    void tableFilesInUseEmptyOrDamagedFailAtOnceWithOneLine() throws Exception
    {
        final Path frames = dir.resolve("f.pcap");
        writeFrames(frames, 20);
        final Path table = dir.resolve("ct");
        try (ConntrackTable held = ConntrackTable.persisted(table, 4096))
        {
            assertThat(cli.run("replay", "--mode", "ipvs", "--services", "10", "--in", frames.toString(),
                "--out", dir.resolve("o.pcap").toString(), "--conntrack", table.toString(), "--max-conntrack", "4096"))
                .isEqualTo(1);
            assertOneLine(err());
            assertThat(err()).contains("table in use by another process");
        }
        final Path empty = Files.createFile(dir.resolve("empty.ct"));
        assertThat(cli.run("conntrack", "count", "--table", empty.toString())).isEqualTo(1);
        assertOneLine(err());
        assertThat(err()).contains("empty file, not a conntrack table");
        assertThat(Files.size(empty)).as("a read-only verb left the file as it was").isZero();
        final Path zeros = Files.write(dir.resolve("zeros.ct"), new byte[1 << 20]);
        assertThat(cli.run("conntrack", "count", "--table", zeros.toString())).isEqualTo(1);
        assertThat(err()).contains("damaged");
    }

    @Test
    void gateHelpPrintsNoPicocliWarning()
    {
        assertThat(cli.run("gate", "--help")).isZero();
        assertThat(err()).isEmpty();
        assertThat(cli.out.toString()).contains("95% bootstrap");
    }
}
