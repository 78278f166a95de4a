package io.dpbench.pipeline;

import io.dpbench.cli.Main;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.packet.PcapReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conntrack table survives a SIGKILL: a first `dpbench replay` process replays the openings of many flows with
 * --conntrack FILE and is killed with SIGKILL while it holds the table (--linger); a second replay of the rest of the
 * capture, over the same file, translates every packet exactly as one uninterrupted dataplane did: each flow keeps
 * its backend and NAT.
 */
class RestartTest
{
    @TempDir
    Path dir;

    @Test
    void everyFlowKeepsItsBackendAfterTheDataplaneIsKilled() throws Exception
    {
        final ReplayConversations c = new ReplayConversations();
        c.splitInTwoPhases = true;
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            c.play(ReplayConversations.dataplane(ReplayConversations.cluster(), table), 50);
        }
        final Path first = dir.resolve("first.pcap");
        final Path second = dir.resolve("second.pcap");
        final Path table = dir.resolve("conntrack.dat");
        c.writeInput(first, 0, c.secondPhaseStart);
        c.writeInput(second, c.secondPhaseStart, c.input.size());

        // process 1: replay the openings, then linger holding the table until it is SIGKILLed
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
            "@" + System.getenv("DPBENCH_ROOT") + "/jvm.flags", "-cp", System.getProperty("java.class.path"),
            Main.class.getName(), "replay", "--mode", "iptables", "--in", first.toString(), "--out",
            dir.resolve("first-out.pcap").toString(), "--conntrack", table.toString(), "--linger", "120", "--json"));
        command.addAll(List.of(ReplayConversations.CLUSTER_ARGS));
        final Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            final String counters = out.readLine(); // printed once every frame is processed and written through
            assertThat(counters).contains("\"new_flows\":50");
            assertThat(p.isAlive()).isTrue();

            // conntrack list from another process while the dataplane holds the table
            final StringWriter listed = new StringWriter();
            final StringWriter listErr = new StringWriter();
            assertThat(Main.run(new String[]{"conntrack", "list", "--table", table.toString()}, new PrintWriter(listed),
                new PrintWriter(listErr))).as(listErr.toString()).isZero();
            final List<String> lines = listed.toString().lines().toList();
            assertThat(lines).hasSize(50);
            assertThat(lines).allMatch(l -> l.matches("(tcp      6 \\d+ ESTABLISHED|udp      17 \\d+) src=\\S+ dst=10\\.96\\.\\S+ "
                + "sport=\\d+ dport=\\d+ src=10\\.244\\.\\S+ dst=\\S+ sport=\\d+ dport=\\d+ (\\[ASSURED\\] )?mark=0 use=1"));
            assertThat(lines).anyMatch(l -> l.startsWith("tcp      6 86400 ESTABLISHED ") && l.contains("[ASSURED]"));
            final StringWriter count = new StringWriter();
            assertThat(Main.run(new String[]{"conntrack", "count", "--table", table.toString()}, new PrintWriter(count),
                new PrintWriter(new StringWriter()))).isZero();
            assertThat(count.toString().strip()).isEqualTo("50");
        }
        finally
        {
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no close of the table
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(137);

        // process 2 (here, in-process): the rest of the capture over the same file
        final Path out = dir.resolve("second-out.pcap");
        final StringWriter stdout = new StringWriter();
        final StringWriter stderr = new StringWriter();
        final String[] args = ReplayTest.concat(new String[]{"replay", "--mode", "iptables", "--in", second.toString(),
            "--out", out.toString(), "--conntrack", table.toString(), "--json"}, ReplayConversations.CLUSTER_ARGS);
        assertThat(Main.run(args, new PrintWriter(stdout), new PrintWriter(stderr))).as(stderr.toString()).isZero();
        assertThat(stdout.toString()).contains("\"new_flows\":0");
        try (PcapReader reader = PcapReader.open(out))
        {
            for (int i = c.secondPhaseStart; i < c.output.size(); i++)
            {
                assertThat(reader.next()).as("frame %d left the node", i).isTrue();
                final byte[] b = new byte[reader.frameLength()];
                reader.frame().getBytes(0, b);
                assertThat(b).as("frame %d translated as before the restart", i).isEqualTo(c.output.get(i));
            }
            assertThat(reader.next()).isFalse();
        }
    }
}
