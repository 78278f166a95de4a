package io.dpbench.loadgen.cli;

import io.dpbench.verb.Verb;
import io.dpbench.gate.GateInputException;
import io.dpbench.gate.JmhRun;
import io.dpbench.loadgen.report.ScalingReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/** {@code dpbench report}: summary.md and scaling.png for a benchmark run folder. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    header = "Write summary.md and scaling.png for a benchmark run folder (from its jmh.json).",
    description = {
        "summary.md: per N the ns per new flow of each mode (iptables, IPVS, nftables) with JMH's error, the IPVS and",
        "nftables speedups over iptables, the iptables slope from a least-squares fit, the sync cost of one endpoint",
        "change per mode, then every benchmark of the run. scaling.png: log-log, error bars, one line per mode.",
        "scripts/bench runs this at the end of every run."
    })
public final class ReportVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--run", required = true, paramLabel = "DIR|FILE",
        description = "a run folder holding jmh.json, or a JMH JSON file (the report goes beside it)")
    Path run;

    @Override
    public Integer call() throws Exception
    {
        final JmhRun results;
        try
        {
            results = JmhRun.load(run);
        }
        catch (final GateInputException ex)
        {
            spec.commandLine().getErr().println("dpbench report: error: " + ex.getMessage());
            return 2;
        }
        final Path folder = java.nio.file.Files.isDirectory(run) ? run : run.toAbsolutePath().getParent();
        ScalingReport.write(results, folder);
        spec.commandLine().getOut().println("wrote " + folder.resolve("summary.md") + " and " + folder.resolve("scaling.png"));
        return 0;
    }
}
