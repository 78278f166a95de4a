package io.dpbench.loadgen.soak;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * scripts/test's short soak: 20 seconds of open-loop load on `dpbench run` (a child JVM) with a kill -9 and restart
 * at 10 s. Every frame is accounted for in each segment, every flow established before the kill and heard from after
 * it kept its backend, every second was sampled, the plot is drawn, and no node process or table file is left.
 */
class SoakDriverTest
{
    @Test
    void aShortSoakWithAKill9AndRestartAccountsForEveryFrameAndKeepsTheBindings(@TempDir final Path dir) throws Exception
    {
        final SoakOptions options = new SoakOptions(20 / 60.0, "ipvs", 100, 4, 1, "realistic", 4, 1, 300, 0.1, 0.8,
            4000, 131072, 0, true, 0.5, 1, 60, 5, dir, Path.of(System.getenv("DPBENCH_ROOT"), "jvm.flags"), List.of());
        final Path run = dir.resolve("run");
        final SoakResult r = new SoakDriver(options, run, line -> { }).run();
        SoakPlot.write(r, "test", run.resolve("soak.png"));

        final Map<?, ?> accounting = (Map<?, ?>)r.summary().get("accounting");
        for (final String part : new String[]{"segment_1", "down", "segment_2", "whole_run"})
        {
            assertThat(((Map<?, ?>)accounting.get(part)).get("holds")).as(part + ": " + accounting.get(part)).isEqualTo(true);
        }
        assertThat((Long)((Map<?, ?>)accounting.get("down")).get("sent_while_down")).as("load kept coming while down").isPositive();
        assertThat((Long)((Map<?, ?>)accounting.get("segment_2")).get("sent")).isPositive();
        final Map<?, ?> restart = (Map<?, ?>)r.summary().get("kill_restart");
        assertThat(restart.get("bindings_changed")).as(restart.toString()).isEqualTo(0L);
        assertThat((Long)restart.get("bindings_continued_after_restart")).as(restart.toString()).isGreaterThan(50);
        assertThat(restart.get("node_1_pid")).isNotEqualTo(restart.get("node_2_pid"));
        assertThat(r.failures()).as("nothing fails (growth is not evaluated: the 60 s warm-up outlasts the run)").isEmpty();

        assertThat(r.samples()).hasSizeGreaterThanOrEqualTo(15);
        assertThat(r.samples().stream().filter(s -> s.segment() == 1 && s.pid() > 0)).isNotEmpty()
            .allMatch(s -> s.process().rssAnonKib() > 0 && s.process().fds() > 0);
        assertThat(r.samples().stream().filter(s -> s.segment() == 2 && s.pid() > 0 && s.conntrack() >= 0)).isNotEmpty();
        assertThat(Files.readAllLines(run.resolve("samples.csv"))).hasSize(r.samples().size() + 1);
        assertThat(Files.size(run.resolve("soak.png"))).isPositive();
        assertThat(ProcessHandle.current().children()).as("no node left running").isEmpty();
        try (var files = Files.list(Path.of(System.getProperty("java.io.tmpdir"))))
        {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("dpbench-soak-"))
                .filter(p -> p.toFile().lastModified() >= System.currentTimeMillis() - 120_000)).as("table removed").isEmpty();
        }
    }
}
