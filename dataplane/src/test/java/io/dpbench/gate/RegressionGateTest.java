package io.dpbench.gate;

import io.dpbench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;

/** The gate on JMH JSON of known content (the shape JMH 1.37 writes: rawData[fork][iteration]). */
class RegressionGateTest
{
    @TempDir
    Path dir;

    private static final String[] BENCHMARKS = {
        "io.dpbench.bench.ipvs.IpvsNewFlowBenchmark.classifyNewFlow",
        "io.dpbench.bench.iptables.IptablesNewFlowBenchmark.classifyNewFlow",
        "io.dpbench.bench.CalibrationBenchmark.spin"};
    private static final double[] MEANS = {30.0, 14_000.0, 100.0};

    /** Write a run: 2 forks x 5 iterations per benchmark, each score = mean x factor(benchmark index, sample). */
    private Path run(final String name, final BiFunction<Integer, Integer, Double> factor)
    {
        return run(name, factor, BENCHMARKS.length);
    }

    /** A run of the first {@code count} benchmarks only. */
    private Path run(final String name, final BiFunction<Integer, Integer, Double> factor, final int count)
    {
        final StringBuilder json = new StringBuilder("[");
        for (int b = 0; b < count; b++)
        {
            json.append(b == 0 ? "" : ",").append("{\"benchmark\":\"").append(BENCHMARKS[b]).append("\",\"mode\":\"avgt\",")
                .append("\"params\":{\"services\":\"10\"},\"primaryMetric\":{\"score\":").append(MEANS[b])
                .append(",\"scoreUnit\":\"ns/op\",\"rawData\":[");
            for (int f = 0; f < 2; f++)
            {
                json.append(f == 0 ? "[" : ",[");
                for (int i = 0; i < 5; i++)
                {
                    // a fixed, mild fork-to-fork and iteration-to-iteration spread, as real runs have
                    final double spread = 1 + 0.01 * ((f * 5 + i) % 3 - 1);
                    json.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f",
                        MEANS[b] * spread * factor.apply(b, f * 5 + i)));
                }
                json.append(']');
            }
            json.append("]}}");
        }
        json.append(']');
        try
        {
            final Path folder = Files.createDirectories(dir.resolve(name));
            Files.writeString(folder.resolve("jmh.json"), json.toString());
            return folder;
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int gate(final Path baseline, final Path current, final String... extra)
    {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        final String[] args = new String[4 + extra.length];
        args[0] = "gate";
        args[1] = "--baseline=" + baseline;
        args[2] = "--current=" + current;
        // 10% unless the test gives its own
        args[3] = java.util.Arrays.stream(extra).anyMatch(e -> e.startsWith("--tolerance")) ? "--markdown=" + dir.resolve("t.md")
            : "--tolerance=10";
        System.arraycopy(extra, 0, args, 4, extra.length);
        return Main.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void identicalDataPasses()
    {
        final Path base = run("base", (b, i) -> 1.0);
        assertThat(gate(base, run("same", (b, i) -> 1.0))).isZero();
        assertThat(out.toString()).contains("3 compared, 0 regression(s)").doesNotContain("REGRESSION");
    }

    @Test
    void everyScore25PercentWorseFails() throws Exception
    {
        final Path base = run("base", (b, i) -> 1.0);
        final Path md = dir.resolve("gate.md");
        assertThat(gate(base, run("slow", (b, i) -> 1.25), "--markdown=" + md)).isEqualTo(1);
        assertThat(out.toString()).contains("3 compared, 3 regression(s)");
        assertThat(Files.readString(md)).contains("| io.dpbench.bench.ipvs.IpvsNewFlowBenchmark.classifyNewFlow | services=10 |")
            .contains("REGRESSION");
    }

    @Test
    void aSingleSlowerBenchmarkFailsOnlyItsRow()
    {
        final Path base = run("base", (b, i) -> 1.0);
        assertThat(gate(base, run("one", (b, i) -> b == 0 ? 1.25 : 1.0))).isEqualTo(1);
        final String table = out.toString();
        assertThat(table.lines().filter(l -> l.contains("REGRESSION"))).hasSize(1)
            .allMatch(l -> l.startsWith("ipvs.IpvsNewFlowBenchmark.classifyNewFlow"));
        assertThat(table).contains("3 compared, 1 regression(s)");
    }

    @Test
    void fivePercentNoiseWithTenPercentTolerancePassesEveryTime()
    {
        final Path base = run("base", (b, i) -> 1.0);
        for (int trial = 0; trial < 40; trial++)
        {
            final SplittableRandom random = new SplittableRandom(trial);
            final double[] noise = new double[BENCHMARKS.length * 10];
            for (int k = 0; k < noise.length; k++)
            {
                noise[k] = 0.95 + 0.10 * random.nextDouble();
            }
            assertThat(gate(base, run("noise" + trial, (b, i) -> noise[b * 10 + i]))).as("trial %d:%n%s", trial, out).isZero();
        }
    }

    /**
     * The CI gate's setting (scripts/ci-gate: --tolerance 75): a path twice as slow fails, the largest slowdown
     * measured on unchanged code (1.63x, a host slowdown of one benchmark lasting minutes) passes.
     */
    @Test
    void theCiToleranceCatchesTwiceAsSlowAndPassesTheWorstMeasuredNoise()
    {
        final Path base = run("base", (b, i) -> 1.0);
        assertThat(gate(base, run("double", (b, i) -> b == 0 ? 2.0 : 1.0), "--tolerance=75")).isEqualTo(1);
        assertThat(out.toString()).contains("1 regression(s) beyond 75.0%");
        assertThat(gate(base, run("noisy", (b, i) -> b == 0 ? 1.63 : 1.0), "--tolerance=75")).isZero();
    }

    @Test
    void aUniformlySlowerMachineIsNotARegressionWhenNormalized()
    {
        final Path base = run("base", (b, i) -> 1.0);
        final Path slowMachine = run("slower-machine", (b, i) -> 1.5);
        assertThat(gate(base, slowMachine)).isEqualTo(1);
        assertThat(gate(base, slowMachine, "--normalize=CalibrationBenchmark.spin")).isZero();
        assertThat(out.toString()).contains("2 compared", "normalized by CalibrationBenchmark.spin");
        // on the same slower machine, a benchmark 25% slower still fails
        assertThat(gate(base, run("slower-and-regressed", (b, i) -> b == 1 ? 1.5 * 1.25 : 1.5),
            "--normalize=CalibrationBenchmark.spin")).isEqualTo(1);
    }

    /** A benchmark missing from one run (it failed, or the suite changed) is named, not silently skipped. */
    @Test
    void aBenchmarkInOneRunOnlyIsListedAsNotCompared()
    {
        final Path base = run("base", (b, i) -> 1.0);
        assertThat(gate(base, run("fewer", (b, i) -> 1.0, 2))).isZero();
        assertThat(out.toString())
            .contains("not compared, baseline only: CalibrationBenchmark.spin services=10")
            .contains("2 compared, 0 regression(s) beyond 10.0%, 1 in one run only (not compared)");
    }

    @Test
    void missingOrMalformedInputExitsTwoNamingTheFile() throws Exception
    {
        final Path base = run("base", (b, i) -> 1.0);
        final Path missing = dir.resolve("nowhere");
        assertThat(gate(base, missing)).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("dpbench gate: error: " + missing
            + ": no such file (expected JMH's JSON, jmh.json in a run folder)");

        final Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("jmh.json"), "[{\"benchmark\": \"x\", ");
        assertThat(gate(base, broken)).isEqualTo(2);
        assertThat(err.toString()).contains(broken.resolve("jmh.json") + ": not valid JSON");

        final Path wrong = Files.createDirectories(dir.resolve("wrong"));
        Files.writeString(wrong.resolve("jmh.json"), "[{\"benchmark\": \"x\", \"mode\": \"avgt\", \"primaryMetric\": {\"scoreUnit\": \"ns/op\"}}]");
        assertThat(gate(base, wrong)).isEqualTo(2);
        assertThat(err.toString()).contains(wrong.resolve("jmh.json") + ": result 0 (x): primaryMetric.rawData missing or empty");

        assertThat(gate(base, base, "--normalize=NoSuchBenchmark")).isEqualTo(2);
        assertThat(err.toString()).contains("calibration benchmark 'NoSuchBenchmark' (--normalize) not found");
    }
}
