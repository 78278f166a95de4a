package io.dpbench.cli;

import io.dpbench.gate.GateInputException;
import io.dpbench.gate.JmhRun;
import io.dpbench.gate.RegressionGate;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code dpbench gate}: did the current benchmark run get slower than the baseline, with confidence? */
@Command(
    name = "gate",
    mixinStandardHelpOptions = true,
    header = "Compare two benchmark runs; fail when a benchmark is slower than the baseline beyond a tolerance.",
    description = {
        "Reads JMH's JSON (jmh.json in each run folder) and compares every benchmark and parameter set present in both:",
        "the slowdown (current/baseline for time per op, baseline/current for throughput) with a 95%% bootstrap",
        "interval over the runs' fork means (or iterations with one fork). A row fails only when the whole interval is",
        "above 1 + tolerance. --normalize divides every score by a calibration benchmark of the same run first.",
        "Exit codes: 0 pass, 1 regression, 2 bad input (the file and the problem are named).",
        "",
        "Example: dpbench gate --baseline results/baseline-quick --current results/runs/<run> --tolerance 10"
    })
public final class GateVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--baseline", required = true, paramLabel = "DIR", description = "baseline run folder (or its jmh.json)")
    Path baseline;

    @Option(names = "--current", required = true, paramLabel = "DIR", description = "current run folder (or its jmh.json)")
    Path current;

    @Option(names = "--tolerance", paramLabel = "PCT", defaultValue = "10",
        description = "slowdown tolerated, percent (default: ${DEFAULT-VALUE})")
    double tolerancePercent;

    @Option(names = "--normalize", paramLabel = "BENCH", description = "calibration benchmark to divide by")
    String normalize;

    @Option(names = "--markdown", paramLabel = "FILE", description = "also write the table as Markdown")
    Path markdown;

    @Override
    public Integer call() throws Exception
    {
        if (!(tolerancePercent >= 0 && tolerancePercent < 1000))
        {
            throw new ParameterException(spec.commandLine(), "--tolerance " + tolerancePercent + " outside 0..1000");
        }
        final PrintWriter out = spec.commandLine().getOut();
        final List<RegressionGate.Row> rows;
        final List<String> notCompared;
        try
        {
            final JmhRun base = JmhRun.load(baseline);
            final JmhRun now = JmhRun.load(current);
            rows = RegressionGate.compare(base, now, tolerancePercent / 100.0, normalize);
            notCompared = RegressionGate.onlyInOne(base, now);
        }
        catch (final GateInputException ex)
        {
            spec.commandLine().getErr().println("dpbench gate: error: " + ex.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
        final StringBuilder md = new StringBuilder("| benchmark | params | baseline | current | ratio | 95% interval | verdict |\n"
            + "|---|---|---:|---:|---:|---|---|\n");
        int width = "benchmark [params]".length();
        for (final RegressionGate.Row r : rows)
        {
            width = Math.max(width, shorten(r.key()).length());
        }
        final String nameColumn = "%-" + width + "s";
        out.printf(nameColumn + " %12s %12s %8s %17s  %s%n", "benchmark [params]", "baseline", "current", "ratio", "95% interval", "verdict");
        int regressions = 0;
        for (final RegressionGate.Row r : rows)
        {
            final String interval = String.format(Locale.ROOT, "[%.3f, %.3f]", r.low(), r.high());
            out.printf(Locale.ROOT, nameColumn + " %12.4g %12.4g %8.3f %17s  %s%n", shorten(r.key()), r.baseline(), r.current(),
                r.slowdown(), interval, r.verdict());
            final int space = r.key().indexOf(' ');
            md.append(String.format(Locale.ROOT, "| %s | %s | %.4g %s | %.4g %s | %.3f | %s | %s |%n",
                space < 0 ? r.key() : r.key().substring(0, space), space < 0 ? "" : r.key().substring(space + 1),
                r.baseline(), r.unit(), r.current(), r.unit(), r.slowdown(), interval, r.verdict()));
            if (r.verdict() == RegressionGate.Verdict.REGRESSION)
            {
                regressions++;
            }
        }
        for (final String key : notCompared)
        {
            final int colon = key.indexOf(": ");
            out.println("not compared, " + key.substring(0, colon + 2) + shorten(key.substring(colon + 2)));
        }
        out.printf("%d compared, %d regression(s) beyond %.1f%%%s%s%n", rows.size(), regressions, tolerancePercent,
            normalize == null ? "" : ", normalized by " + normalize,
            notCompared.isEmpty() ? "" : ", " + notCompared.size() + " in one run only (not compared)");
        if (markdown != null)
        {
            Files.writeString(markdown, md.toString());
        }
        out.flush();
        return regressions > 0 ? 1 : 0;
    }

    private static String shorten(final String key)
    {
        final String k = key.startsWith("io.dpbench.bench.") ? key.substring("io.dpbench.bench.".length()) : key;
        return k.length() > 110 ? k.substring(0, 107) + "..." : k;
    }
}
