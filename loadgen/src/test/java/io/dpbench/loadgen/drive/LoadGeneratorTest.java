package io.dpbench.loadgen.drive;

import io.dpbench.cli.Main;
import io.dpbench.loadgen.workload.Popularity;
import io.dpbench.loadgen.workload.WorkloadSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class LoadGeneratorTest
{
    @TempDir
    Path dir;

    private static WorkloadSpec workload(final int flows)
    {
        return new WorkloadSpec(100, 4, 1, 4, flows, 0.25, 1.0, WorkloadSpec.IMIX, 0.7);
    }

    private static void assertChecksHold(final LoadResult r)
    {
        assertThat(r.accountingHolds()).as("sent %d = received %d + counted drops %d (%s)", r.sent(), r.received(),
            r.countedDrops(), r.drops()).isTrue();
        assertThat(r.backendChanged()).as("flows that changed backend").isZero();
        assertThat(r.untranslated()).as("replies not from the VIP:port").isZero();
        assertThat(r.unexpected()).isZero();
    }

    private static void assertNoWorkerThreadLeft()
    {
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("dpbench-worker"))
            .filter(Thread::isAlive)).isEmpty();
    }

    /** Closed loop, TCP (handshake, data, FIN) and UDP to 100 Services: every check holds, flows complete. */
    @Test
    void closedLoopKeepsOneBackendPerFlowAndTranslatesEveryReply()
    {
        final List<String> lines = new ArrayList<>();
        // a conntrack table large enough for every flow the run opens: closed TCP connections stay 120 s in
        // TIME_WAIT, and a fast machine opens more than kube-proxy's 131,072 in 2.5 s (then: conntrack-full, counted)
        final LoadResult r = new LoadGenerator(new LoadGenerator.Options("ipvs", "rr", 1, 2_500_000_000L, 0, 0,
            workload(200), 0, 1 << 19, null, false), lines::add, null).run();
        assertChecksHold(r);
        assertThat(r.drops()).isEmpty();
        assertThat(r.flowsCompleted()).isGreaterThan(100);
        assertThat(r.latency().getTotalCount() + r.timedOut()).as("at most one reply per request")
            .isLessThanOrEqualTo(r.requests());
        assertThat(r.timedOut()).as("closed loop: nothing dropped, nothing times out").isZero();
        assertThat(r.latency().getTotalCount()).isGreaterThan(1000);
        assertThat(lines).as("a progress line each second").hasSizeGreaterThanOrEqualTo(2);
        assertThat(lines.get(0)).contains("sent").contains("received").contains("p99");
        assertNoWorkerThreadLeft();
    }

    /** Open loop below capacity, iptables mode, 2 workers: latency recorded, nothing dropped. */
    @Test
    void openLoopBelowCapacityMeasuresLatency()
    {
        final LoadResult r = new LoadGenerator(new LoadGenerator.Options("iptables", "rr", 2, 2_000_000_000L, 0, 5_000,
            workload(500)), line -> { }, null).run();
        assertChecksHold(r);
        assertThat(r.requests()).isBetween(8_000L, 10_500L);
        assertThat(r.latency().getTotalCount()).isGreaterThan(7_000);
        assertThat(r.latency().getValueAtPercentile(50)).isPositive();
        assertNoWorkerThreadLeft();
    }

    /** Far above capacity: drops are counted (rx missed), the run ends on time, every thread stops. */
    @Test
    void openLoopAboveCapacityCountsDropsAndStops()
    {
        final long start = System.nanoTime();
        // a table larger than what the run opens: with kube-proxy's 131,072 a warm JVM fills it in ~1.2 s here (since
        // issue 17 made new connections ~3x cheaper), and early drop then evicts unassured connections, whose next
        // packets start new ones on another backend, as the kernel's would (measured: 29,443 early drops, 103 flows
        // moved); this test is about drops at rx and a bounded run, not about a full table
        final LoadResult r = new LoadGenerator(new LoadGenerator.Options("ipvs", "rr", 1, 1_500_000_000L, 0, 100_000_000,
            workload(20_000), 0, 1 << 20, null, false), line -> { }, null).run();
        assertThat(System.nanoTime() - start).as("bounded").isLessThan(15_000_000_000L);
        assertChecksHold(r);
        assertThat(r.countedDrops()).isPositive();
        assertNoWorkerThreadLeft();
    }

    /** A profile sets what the command line leaves; a workload file sets what the command line leaves, over it. */
    @Test
    void profilesAndWorkloadFiles() throws Exception
    {
        final Path file = dir.resolve("w.json");
        Files.writeString(file, "{\"flows\": 50, \"zipf\": 0.5, \"services\": 60}");
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        assertThat(Main.run(new String[]{"loadgen", "--mode", "ipvs", "--profile", "dns", "--workload", file.toString(),
            "--services", "80", "--duration", "1", "--warmup", "0", "--out", dir.resolve("p").toString()},
            new PrintWriter(out), new PrintWriter(err))).as(err.toString()).isZero();
        final String json = out.toString().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        assertThat(json).contains("\"services\":80") // the command line wins
            .contains("\"flows\":50").contains("\"zipf\":0.5") // the file, over the profile
            .contains("\"tcp_share\":0.0").contains("\"new_flow_share\":0.5").contains("\"size\":\"80\""); // dns
        Files.writeString(file, "{\"flows\": 50,\n \"colour\": 1}");
        final StringWriter e1 = new StringWriter();
        assertThat(Main.run(new String[]{"loadgen", "--mode", "ipvs", "--workload", file.toString()},
            new PrintWriter(new StringWriter()), new PrintWriter(e1))).isEqualTo(2);
        assertThat(e1.toString()).contains("unknown key 'colour'");
        Files.writeString(file, "{\"flows\": 50,\n \"zipf\": }");
        final StringWriter e2 = new StringWriter();
        assertThat(Main.run(new String[]{"loadgen", "--mode", "ipvs", "--workload", file.toString()},
            new PrintWriter(new StringWriter()), new PrintWriter(e2))).isEqualTo(2);
        assertThat(e2.toString()).contains(file + ":2:");
    }

    @Test
    void zipfPopularityFollowsItsExponent()
    {
        final Popularity p = Popularity.zipf(100, 1.0);
        final int[] counts = new int[100];
        final SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++)
        {
            counts[p.next(random)]++;
        }
        // item 0 is twice as likely as item 1, ten times as likely as item 9
        assertThat(counts[0] / (double)counts[1]).isBetween(1.85, 2.15);
        assertThat(counts[0] / (double)counts[9]).isBetween(9.0, 11.0);
        assertThat(Popularity.uniform(10).probability(3)).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void theVerbWritesARunFolderAndRefusesBadParameters() throws Exception
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        assertThat(Main.run(new String[]{"loadgen", "--in-process", "--mode", "ipvs", "--services", "100", "--flows",
            "100", "--duration", "1", "--out", dir.toString()}, new PrintWriter(out), new PrintWriter(err)))
            .as(err.toString()).isZero();
        final Path run;
        try (var folders = Files.list(dir))
        {
            run = folders.findFirst().orElseThrow();
        }
        assertThat(Files.readString(run.resolve("summary.json"))).contains("\"accounting_holds\" : true")
            .contains("\"p99\"").contains("\"backend_changed\" : 0");
        assertThat(Files.readString(run.resolve("latency.hlog"))).contains("#[StartTime:");
        // what it ran on, as the benchmarks' run folders have it, in the summary and beside it
        final com.fasterxml.jackson.databind.JsonNode environment = new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(run.resolve("environment.json").toFile());
        assertThat(environment.get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(environment.get("commit").asText()).isNotEmpty();
        assertThat(environment.get("command").asText()).startsWith("loadgen");
        assertThat(environment.get("jvm_flags").asText()).isNotNull();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("summary.json").toFile())
            .get("environment")).isEqualTo(environment);
        assertThat(Files.size(run.resolve("latency.png"))).isGreaterThan(5_000);

        for (final String[] bad : new String[][]{
            {"--mode", "ipvs", "--rate", "-5"}, {"--mode", "nat"}, {"--mode", "ipvs", "--flows", "0"},
            {"--mode", "ipvs", "--size", "big"}, {"--mode", "ipvs", "--new-flow-share", "2"},
            {"--mode", "ipvs", "--mix", "nope"}, {"--mode", "ipvs", "--target", "nohost"},
            {"--mode", "ipvs", "--target", "10.1.1.1:8472"}, {"--mode", "ipvs", "--reflect"},
            {"--mode", "ipvs", "--profile", "nope"}})
        {
            final List<String> args = new ArrayList<>(List.of("loadgen", "--out", dir.toString()));
            args.addAll(List.of(bad));
            final StringWriter e = new StringWriter();
            assertThat(Main.run(args.toArray(new String[0]), new PrintWriter(new StringWriter()), new PrintWriter(e)))
                .as(String.join(" ", bad)).isEqualTo(2);
            assertThat(e.toString().lines().filter(l -> !l.isBlank()).findFirst().orElse("")).isNotEmpty();
        }
    }
}
