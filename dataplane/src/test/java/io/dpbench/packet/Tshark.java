package io.dpbench.packet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Wireshark's tshark as a test oracle, with checksum verification on and dissection stopped at L4 (application
 * dissectors would rightly flag the tests' arbitrary payloads). {@code scripts/test} installs tshark and sets
 * DPBENCH_REQUIRE_TSHARK=1, so tests cannot skip there.
 */
public final class Tshark
{
    /** Protocols dissected: the layers dpbench writes, the raw payload, and Wireshark's own expert pseudo-protocols. */
    private static final String KEEP = "^(_ws\\..*|frame|eth|ethertype|vlan|ieee8021ad|ip|tcp|udp|icmp|vxlan|data"
        + "|tcp\\.options\\..*|ip\\.options\\..*)$";

    private Tshark()
    {
    }

    public static void requireOrSkip()
    {
        final boolean present = present();
        if ("1".equals(System.getenv("DPBENCH_REQUIRE_TSHARK")))
        {
            assertThat(present).as("tshark is required (DPBENCH_REQUIRE_TSHARK=1) but not runnable").isTrue();
        }
        assumeTrue(present, "tshark not installed");
    }

    private static boolean present()
    {
        try
        {
            final Process p = new ProcessBuilder("tshark", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        }
        catch (final IOException | InterruptedException ex)
        {
            return false;
        }
    }

    /**
     * A Wireshark configuration directory under {@code dir} whose {@code disabled_protos} lists every protocol but
     * those in {@link #KEEP}: tshark has no "disable all" switch, and its {@code -G protocols} report gives the list.
     */
    private static Path configDir(final Path dir) throws Exception
    {
        final Path config = dir.resolve("wireshark-config");
        if (Files.exists(config.resolve("disabled_protos")))
        {
            return config;
        }
        Files.createDirectories(config);
        final Process p = new ProcessBuilder("tshark", "-G", "protocols").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String all = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        final StringBuilder disabled = new StringBuilder();
        for (final String line : all.split("\n"))
        {
            final String[] columns = line.split("\t");
            if (columns.length >= 3 && !columns[2].matches(KEEP))
            {
                disabled.append(columns[2]).append('\n');
            }
        }
        assertThat(disabled.length()).as("tshark -G protocols listed protocols").isGreaterThan(1000);
        Files.writeString(config.resolve("disabled_protos"), disabled);
        return config;
    }

    /** Run tshark on {@code pcap} with checksum verification and the given arguments; returns the output lines. */
    public static List<String> run(final Path dir, final Path pcap, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", pcap.toString(),
            "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("WIRESHARK_CONFIG_DIR", configDir(dir).toString());
        final Process p = builder.start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("tshark exit status").isZero();
        final List<String> lines = new ArrayList<>();
        for (final String line : out.split("\n"))
        {
            if (!line.isBlank())
            {
                lines.add(line);
            }
        }
        return lines;
    }
}
