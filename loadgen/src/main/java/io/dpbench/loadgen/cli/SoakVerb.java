package io.dpbench.loadgen.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dpbench.verb.Verb;
import io.dpbench.loadgen.report.RunEnvironment;
import io.dpbench.loadgen.soak.SoakDriver;
import io.dpbench.loadgen.soak.SoakOptions;
import io.dpbench.loadgen.soak.SoakResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code dpbench soak MINUTES}: the node under open-loop load for a long time, sampled each second, killed midway. */
@Command(
    name = "soak",
    mixinStandardHelpOptions = true,
    header = "Soak: `dpbench run` under open-loop load with churning flows for MINUTES, a kill -9 and restart midway.",
    description = {
        "Starts the node (`dpbench run`, a child JVM with jvm.flags, conntrack persisted to a temporary file) and drives it over",
        "loopback UDP with the load generator (open loop at --rate requests per second, flows replaced every 1/--new-flow-share",
        "exchanges). Each second it samples the node: RSS from /proc/PID/status (RssAnon, RssFile: the table's mapped file",
        "counts there, RssShmem), open descriptors (/proc/PID/fd), its counters (received, sent, drops by reason), conntrack",
        "entries and the heap after its last GC; and the generator's sent, received and drops. At --kill-at of the run the",
        "generator holds sending until the node's counters stop moving (segment 1's accounting is then exact), the node is",
        "killed with SIGKILL, load resumes for --down seconds against no node (counted as sent while down), and a new node",
        "starts on the same table file (the generator holds while it starts). Flows established before the kill must reach",
        "the same backend after it. Writes samples.csv, summary.json (accounting per segment, bindings, growth after the",
        "warm-up per node process: anonymous RSS and heap after GC below --growth-limit %%, no descriptor growth),",
        "environment.json and soak.png into a run folder under --out. Exit 0 when every check holds, 1 when one fails, 2 on",
        "bad parameters.",
        "",
        "Example: dpbench soak 30        (scripts/soak 30)"
    })
public final class SoakVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MINUTES", description = "how long the load runs (fractions allowed: 0.5)")
    double minutes;

    @Option(names = "--mode", paramLabel = "iptables|ipvs", defaultValue = "ipvs", description = "proxy mode (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--rate", paramLabel = "RPS", defaultValue = "20000",
        description = "requests per second, open loop (default: ${DEFAULT-VALUE}, about 40%% of the closed-loop rate measured here, the machine being shared; README)")
    long rate;

    @Option(names = "--flows", paramLabel = "F", defaultValue = "1000", description = "concurrent flows (default: ${DEFAULT-VALUE})")
    int flows;

    @Option(names = "--new-flow-share", paramLabel = "X", defaultValue = "0.05",
        description = "share of exchanges that open a new flow (churn) (default: ${DEFAULT-VALUE})")
    double newFlowShare;

    @Option(names = "--tcp-share", paramLabel = "X", defaultValue = "0.8", description = "share of flows that are TCP (default: ${DEFAULT-VALUE})")
    double tcpShare;

    @Option(names = "--services", paramLabel = "N", defaultValue = "200", description = "Services (default: ${DEFAULT-VALUE})")
    int services;

    @Option(names = "--endpoints", paramLabel = "E", defaultValue = "4", description = "endpoints per Service (default: ${DEFAULT-VALUE})")
    int endpoints;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "cluster and workload seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--mix", paramLabel = "clusterip|realistic", defaultValue = "realistic", description = "cluster mix (default: ${DEFAULT-VALUE})")
    String mix;

    @Option(names = "--nodes", paramLabel = "K", defaultValue = "4", description = "overlay nodes (default: ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "the node's pipeline workers (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--max-conntrack", paramLabel = "N", defaultValue = "131072",
        description = "the node's conntrack limit (default: ${DEFAULT-VALUE}; closed TCP flows stay 120 s in TIME_WAIT)")
    int maxConntrack;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "0", description = "the VTEPs' UDP port (default: a free one in 20000-29999)")
    int port;

    @Option(names = "--no-kill", description = "no kill -9 and restart")
    boolean noKill;

    @Option(names = "--kill-at", paramLabel = "FRACTION", defaultValue = "0.5", description = "when the node is killed, as a share of the run (default: ${DEFAULT-VALUE})")
    double killAt;

    @Option(names = "--down", paramLabel = "SECONDS", defaultValue = "3", description = "load against no node after the kill, before the restart (default: ${DEFAULT-VALUE})")
    double down;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "120",
        description = "left out of the growth checks at the start of each node process (default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--growth-limit", paramLabel = "PERCENT", defaultValue = "5",
        description = "most growth of anonymous RSS and heap after GC after the warm-up (default: ${DEFAULT-VALUE})")
    double growthLimit;

    @Option(names = "--node-jvm-option", paramLabel = "OPTION", description = "an extra JVM option for the node, after jvm.flags (repeatable)")
    List<String> nodeJvmOptions = new ArrayList<>();

    @Option(names = "--jvm-flags", paramLabel = "FILE", description = "the project's jvm.flags (default: found from the working directory upwards)")
    Path jvmFlags;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "results/soak", description = "where the run folder goes (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception
    {
        final Path flags = jvmFlags != null ? jvmFlags : findJvmFlags();
        if (flags == null || !Files.isRegularFile(flags))
        {
            throw new ParameterException(spec.commandLine(), "jvm.flags not found (give --jvm-flags FILE)");
        }
        final SoakOptions options;
        try
        {
            io.dpbench.model.SyntheticCluster.Mix.parse(mix);
            options = new SoakOptions(minutes, mode, services, endpoints, seed, mix, nodes, workers, flows, newFlowShare,
                tcpShare, rate, maxConntrack, port, !noKill, killAt, down, warmup, growthLimit, out, flags.toAbsolutePath(),
                nodeJvmOptions);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final Map<String, Object> environment = RunEnvironment.collect(spec.commandLine().getParseResult().originalArgs());
        final String label = minutes == Math.rint(minutes) ? String.valueOf((long)minutes) : String.valueOf(minutes);
        final Path run = out.resolve(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
            .format(Instant.now()) + "-" + environment.get("commit") + "-soak-" + label + "m");
        final PrintWriter o = spec.commandLine().getOut();
        o.println("soak: " + label + " minutes at " + rate + " requests/s, " + flows + " flows, new-flow share "
            + newFlowShare + (noKill ? "" : ", kill -9 at " + Math.round(killAt * minutes * 60) + " s") + "; run folder " + run);
        o.flush();
        final SoakResult result;
        try
        {
            result = new SoakDriver(options, run, line ->
            {
                o.println(line);
                o.flush();
            }).run();
        }
        catch (final IllegalStateException ex)
        {
            spec.commandLine().getErr().println("soak: error: " + ex.getMessage());
            return 1;
        }
        final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        final Map<String, Object> summary = new LinkedHashMap<>(result.summary());
        summary.put("environment", environment);
        Files.writeString(run.resolve("summary.json"), json.writeValueAsString(summary) + "\n");
        Files.writeString(run.resolve("environment.json"), json.writeValueAsString(environment) + "\n");
        io.dpbench.loadgen.soak.SoakPlot.write(result, String.format(Locale.ROOT, "soak %s min, %s, %,d req/s",
            label, mode, rate), run.resolve("soak.png"));
        o.println(new ObjectMapper().writeValueAsString(result.summary()));
        o.println("soak: " + (result.passed() ? "passed" : "FAILED: " + String.join("; ", result.failures())));
        o.println("soak: run folder " + run);
        o.flush();
        return result.passed() ? 0 : 1;
    }

    private static Path findJvmFlags()
    {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent())
        {
            if (Files.isRegularFile(dir.resolve("jvm.flags")))
            {
                return dir.resolve("jvm.flags");
            }
        }
        return null;
    }
}
