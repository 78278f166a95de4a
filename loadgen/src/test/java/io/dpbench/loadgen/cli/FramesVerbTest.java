package io.dpbench.loadgen.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The frames verb is found by dataplane's CLI through ServiceLoader and writes valid, reproducible pcaps. */
class FramesVerbTest
{
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args)
    {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void theCliListsTheLoadgenVerb()
    {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("frames", "inspect");
    }

    @Test
    void framesAreValidVariedAndReproducible() throws Exception
    {
        final Path a = dir.resolve("a.pcap");
        final Path b = dir.resolve("b.pcap");
        assertThat(run("frames", "--out", a.toString(), "--count", "5000", "--flows", "300", "--seed", "7")).isZero();
        assertThat(out.toString()).contains("5000 frames");
        assertThat(run("frames", "--out", b.toString(), "--count", "5000", "--flows", "300", "--seed", "7")).isZero();
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));

        assertThat(run("inspect", "--in", a.toString(), "--verify-l4-checksums", "--json")).isZero();
        final JsonNode summary = new ObjectMapper().readTree(out.toString());
        assertThat(summary.get("frames").asLong()).isEqualTo(5000);
        assertThat(summary.get("verdicts").get("ok").asLong()).isEqualTo(5000);
        assertThat(summary.get("verdicts").size()).as("no other verdict than ok").isEqualTo(1);
        assertThat(summary.get("flows").asInt()).isEqualTo(300);
        assertThat(summary.get("protocols").get("tcp").asLong()).isGreaterThan(2500);
        assertThat(summary.get("protocols").get("udp").asLong()).isGreaterThan(500);
        assertThat(summary.get("protocols").get("icmp").asLong()).isGreaterThan(0);
    }

    @Test
    void badValuesAreUsageErrors()
    {
        assertThat(run("frames", "--out", dir.resolve("x.pcap").toString(), "--size", "huge")).isEqualTo(2);
        assertThat(err.toString()).contains("'huge' is neither a number nor 'imix'");
        assertThat(run("frames", "--out", dir.resolve("x.pcap").toString(), "--tcp", "80", "--udp", "30")).isEqualTo(2);
        assertThat(err.toString()).contains("TCP + UDP at most 100");
    }

    @Test
    void loadgenLeavesNoRunFolderBehindOnAUsageError() throws Exception
    {
        // the reproduction: a usage error found while building the node (exit 2) left an empty run folder
        final Path runs = dir.resolve("runs");
        assertThat(run("loadgen", "--mode", "ipvs", "--services", "5", "--duration", "0", "--packets", "0",
            "--out", runs.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("needs a bound");
        try (var listing = Files.list(runs))
        {
            assertThat(listing).isEmpty();
        }
    }

    @Test
    void framesRefusesToWriteOverAFileItIsNotAllowedToReplaceAndLeavesNoTemporaryFile() throws Exception
    {
        final Path pcap = dir.resolve("f.pcap");
        assertThat(run("frames", "--out", pcap.toString(), "--count", "10")).isZero();
        assertThat(run("frames", "--out", dir.toString(), "--count", "10")).isEqualTo(2);
        assertThat(err.toString()).contains("is a directory");
        try (var listing = Files.list(dir))
        {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("f.pcap");
        }
    }
}
