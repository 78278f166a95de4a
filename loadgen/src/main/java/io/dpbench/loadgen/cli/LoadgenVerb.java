package io.dpbench.loadgen.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dpbench.verb.Verb;
import io.dpbench.loadgen.drive.LoadGenerator;
import io.dpbench.loadgen.drive.LoadResult;
import io.dpbench.loadgen.workload.WorkloadSpec;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;

/** {@code dpbench loadgen}: drive the node pipeline with a realistic workload and measure rate, drops and latency. */
@Command(
    name = "loadgen",
    mixinStandardHelpOptions = true,
    header = "Drive the node's pipeline with many flows (new and established, with replies) and measure it.",
    description = {
        "In-process (default): this process builds the node (the same seeded cluster: --services, --endpoints, --seed, --nodes),",
        "plays every pod (clients on node 0; backends, local or on other nodes behind VXLAN, answer every request) and",
        "feeds the multi-worker pipeline directly. TCP flows open with a handshake and close with FIN; UDP flows",
        "exchange requests and responses; a flow makes 1/--new-flow-share exchanges, then a new flow replaces it.",
        "Open loop at --rate packets per second (latency from each packet's intended send time, so coordinated",
        "omission is corrected; a full ring drops and counts) or closed loop (--rate 0: as fast as replies allow).",
        "Prints a progress line each second; writes summary.json (with the environment, also as environment.json), latency.hlog (HdrHistogram interval log) and",
        "latency.png into a run folder under --out. Exit 0; 1 when the run's checks fail (a flow changed backend, a",
        "reply was not translated back to its VIP:port, or sent != received + counted drops); 2 on bad parameters.",
        "Wire mode (--target 127.0.1.0:PORT): the node is `dpbench run` on that port; this process plays the other",
        "nodes' VTEPs and the node's pods on loopback sockets, clients are pods of node 1.",
        "",
        "Example: dpbench loadgen --in-process --mode ipvs --services 1000 --flows 10000 --duration 10 --rate 200000"
    })
public final class LoadgenVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--in-process", description = "drive the pipeline in this process (the default without --target)")
    boolean inProcess;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = {"wire mode: drive `dpbench run` listening there",
        "(127.0.1.0:PORT; this process binds the other nodes' VTEPs 127.0.1.k:PORT and the node's pods 127.0.2.0:PORT)"})
    String target;

    @Option(names = "--reflect", description = "wire mode against `dpbench run --reflect`: count round trips only (the host's UDP limit)")
    boolean reflect;

    @Mixin
    io.dpbench.cli.ModeOptions modeOptions;

    @Option(names = "--services", paramLabel = "N", defaultValue = "100", description = "Services of the realistic mix (default: ${DEFAULT-VALUE})")
    int services;

    @Option(names = "--endpoints", paramLabel = "E", defaultValue = "4", description = "endpoints per Service (default: ${DEFAULT-VALUE})")
    int endpoints;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "cluster and workload seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--mix", paramLabel = "clusterip|realistic", defaultValue = "realistic", description = {
        "the synthetic cluster's mix (default: ${DEFAULT-VALUE}: it has UDP Services; clusterip has TCP only). With",
        "--target, give dpbench run the same --services --endpoints --seed --mix --nodes"})
    String mix;

    @Option(names = "--nodes", paramLabel = "K", description = "nodes of the overlay; this node is node 0 (default: 4, or "
        + "as many as the pods need, 200 a node, as dpbench run sizes them)")
    Integer nodes;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "pipeline workers (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--flows", paramLabel = "F", defaultValue = "1000", description = "concurrent flows (default: ${DEFAULT-VALUE})")
    int flows;

    @Option(names = "--new-flow-share", paramLabel = "X", defaultValue = "0.1",
        description = "share of exchanges that open a new flow, in (0, 1] (default: ${DEFAULT-VALUE})")
    double newFlowShare;

    @Option(names = "--zipf", paramLabel = "S", defaultValue = "0", description = "Service popularity: Zipf exponent, 0 = uniform (default: ${DEFAULT-VALUE})")
    double zipf;

    @Option(names = "--size", paramLabel = "BYTES|imix", defaultValue = "imix",
        description = "frame size: 80..1464 bytes or imix (80/594/1464, 7:4:1) (default: ${DEFAULT-VALUE})")
    String size;

    @Option(names = "--tcp-share", paramLabel = "X", defaultValue = "0.8", description = "share of flows that are TCP (default: ${DEFAULT-VALUE})")
    double tcpShare;

    @Option(names = "--profile", paramLabel = "NAME", description = {
        "a named workload: web (TCP only, Zipf 1.0, 5%% new flows, IMIX), dns (UDP only, uniform, 50%% new flows,",
        "80-byte frames), mixed (the defaults). Options given on the command line win"})
    String profile;

    @Option(names = "--workload", paramLabel = "FILE", description = {
        "a workload file, JSON with any of: services, endpoints, seed, nodes, flows, new_flow_share, zipf, size,",
        "tcp_share, mix. Applied over --profile; options given on the command line win"})
    Path workloadFile;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10", description = "run length; 0 = bounded by --packets only (default: ${DEFAULT-VALUE})")
    double durationSeconds;

    @Option(names = "--max-conntrack", paramLabel = "N", description = "nf_conntrack_max (default: kube-proxy's "
        + "max(131072, 32768 x cores); closed TCP connections stay 120 s in TIME_WAIT, so a high new-flow rate fills it)")
    Integer maxConntrack;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "1",
        description = "whole seconds at the start left out of the summary's latency (still in the progress lines and the "
            + ".hlog) (default: ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--packets", paramLabel = "N", defaultValue = "0", description = "stop after N requests; 0 = no limit (default: ${DEFAULT-VALUE})")
    long packets;

    @Option(names = "--rate", paramLabel = "PPS", defaultValue = "0", description = "requests per second, open loop; 0 = closed loop (default: ${DEFAULT-VALUE})")
    long rate;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "results/runs", description = "where the run folder goes (default: ${DEFAULT-VALUE})")
    Path out;

    /** The named profiles: option name to value, applied where the command line did not set the option. */
    static final Map<String, Map<String, String>> PROFILES = Map.of(
        "web", Map.of("--tcp-share", "1", "--zipf", "1.0", "--new-flow-share", "0.05", "--size", "imix"),
        "dns", Map.of("--tcp-share", "0", "--zipf", "0", "--new-flow-share", "0.5", "--size", "80"),
        "mixed", Map.of());

    /** Workload file keys and the options they stand for. */
    static final Map<String, String> FILE_KEYS = Map.of("services", "--services", "endpoints", "--endpoints",
        "seed", "--seed", "nodes", "--nodes", "flows", "--flows", "new_flow_share", "--new-flow-share", "zipf", "--zipf",
        "size", "--size", "tcp_share", "--tcp-share", "mix", "--mix");

    /** Set an option from a profile or a file unless the command line gave it. */
    private void setIfNotGiven(final String option, final String value, final String from)
    {
        if (spec.commandLine().getParseResult().hasMatchedOption(option))
        {
            return;
        }
        try
        {
            spec.findOption(option).setValue(spec.findOption(option).type() == String.class ? value
                : convert(spec.findOption(option).type(), value));
        }
        catch (final RuntimeException ex)
        {
            throw new ParameterException(spec.commandLine(), from + ": " + option.substring(2) + ": '" + value
                + "' is not a valid value (" + ex.getMessage() + ")");
        }
    }

    private static Object convert(final Class<?> type, final String value)
    {
        if (type == int.class || type == Integer.class)
        {
            return Integer.parseInt(value);
        }
        if (type == long.class || type == Long.class)
        {
            return Long.parseLong(value);
        }
        if (type == double.class || type == Double.class)
        {
            return Double.parseDouble(value);
        }
        return value;
    }

    private void applyProfileAndFile()
    {
        if (profile != null)
        {
            final Map<String, String> values = PROFILES.get(profile);
            if (values == null)
            {
                throw new ParameterException(spec.commandLine(), "--profile: unknown profile '" + profile + "' (known: "
                    + String.join(", ", new java.util.TreeSet<>(PROFILES.keySet())) + ")");
            }
            values.forEach((option, value) -> setIfNotGiven(option, value, "--profile " + profile));
        }
        if (workloadFile != null)
        {
            final com.fasterxml.jackson.databind.JsonNode root;
            try
            {
                root = new ObjectMapper().readTree(workloadFile.toFile());
            }
            catch (final com.fasterxml.jackson.core.JsonProcessingException ex)
            {
                throw new ParameterException(spec.commandLine(), workloadFile + ":" + ex.getLocation().getLineNr() + ":"
                    + ex.getLocation().getColumnNr() + ": not valid JSON: " + ex.getOriginalMessage());
            }
            catch (final java.io.IOException ex)
            {
                throw new ParameterException(spec.commandLine(), "--workload: cannot read " + workloadFile + ": " + ex.getMessage());
            }
            if (root == null || !root.isObject())
            {
                throw new ParameterException(spec.commandLine(), workloadFile + ": expected a JSON object of workload settings");
            }
            for (final java.util.Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = root.fields(); it.hasNext(); )
            {
                final Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
                final String option = FILE_KEYS.get(e.getKey());
                if (option == null)
                {
                    throw new ParameterException(spec.commandLine(), workloadFile + ": unknown key '" + e.getKey()
                        + "' (known: " + String.join(", ", new java.util.TreeSet<>(FILE_KEYS.keySet())) + ")");
                }
                if (!e.getValue().isValueNode())
                {
                    throw new ParameterException(spec.commandLine(), workloadFile + ": '" + e.getKey() + "' must be a number or a string");
                }
                setIfNotGiven(option, e.getValue().asText(), workloadFile.toString());
            }
        }
    }

    @Override
    public Integer call() throws Exception
    {
        applyProfileAndFile();
        if (nodes == null)
        {
            nodes = io.dpbench.model.SyntheticCluster.nodesFor((long)services * endpoints, 4);
        }
        if (!"iptables".equals(modeOptions.mode) && !"ipvs".equals(modeOptions.mode) && !"nftables".equals(modeOptions.mode))
        {
            throw new ParameterException(spec.commandLine(), "--mode: expected iptables or ipvs, got '" + modeOptions.mode + "'");
        }
        final int frameSize;
        if ("imix".equalsIgnoreCase(size))
        {
            frameSize = WorkloadSpec.IMIX;
        }
        else
        {
            try
            {
                frameSize = Integer.parseInt(size);
            }
            catch (final NumberFormatException ex)
            {
                throw new ParameterException(spec.commandLine(), "--size: expected a number of bytes or 'imix', got '" + size + "'");
            }
        }
        if (durationSeconds < 0 || Double.isNaN(durationSeconds))
        {
            throw new ParameterException(spec.commandLine(), "--duration must be 0 or more seconds, got " + durationSeconds);
        }
        if (warmupSeconds < 0)
        {
            throw new ParameterException(spec.commandLine(), "--warmup must be 0 or more seconds, got " + warmupSeconds);
        }
        if (packets < 0)
        {
            throw new ParameterException(spec.commandLine(), "--packets must be 0 or more, got " + packets);
        }
        final Path run = out.resolve(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
            .format(Instant.now()) + "-loadgen-" + modeOptions.mode + (workers > 1 ? "-w" + workers : ""));
        if (inProcess && target != null)
        {
            throw new ParameterException(spec.commandLine(), "--in-process and --target exclude each other");
        }
        if (reflect && target == null)
        {
            throw new ParameterException(spec.commandLine(), "--reflect needs --target (a `dpbench run --reflect`)");
        }
        java.net.InetSocketAddress targetAddress = null;
        if (target != null)
        {
            final int colon = target.lastIndexOf(':');
            try
            {
                targetAddress = new java.net.InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
            }
            catch (final RuntimeException ex)
            {
                throw new ParameterException(spec.commandLine(), "--target: expected HOST:PORT, got '" + target + "'");
            }
            if (!targetAddress.getAddress().isLoopbackAddress())
            {
                throw new ParameterException(spec.commandLine(), "--target must be a loopback address (127.x), got '" + target + "'");
            }
        }
        final LoadGenerator.Options options;
        try
        {
            io.dpbench.model.SyntheticCluster.Mix.parse(mix);
            options = new LoadGenerator.Options(modeOptions.mode, modeOptions.scheduler, workers, (long)(durationSeconds * 1e9), packets, rate,
                new WorkloadSpec(services, endpoints, seed, nodes, flows, newFlowShare, zipf, frameSize, tcpShare,
                    io.dpbench.model.SyntheticCluster.Mix.parse(mix)),
                warmupSeconds * 1_000_000_000L, maxConntrack != null ? maxConntrack
                    : io.dpbench.conntrack.proto.ConntrackTimeouts.kubeProxyConntrackMax(Runtime.getRuntime().availableProcessors()),
                targetAddress, reflect);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        Files.createDirectories(run);
        try
        {
            return run(options, run);
        }
        catch (final ParameterException ex)
        {
            // a usage error found while building the node: the run folder holds nothing worth keeping
            try (java.util.stream.Stream<Path> files = Files.walk(run))
            {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            throw ex;
        }
    }

    private int run(final LoadGenerator.Options options, final Path run) throws Exception
    {
        final LoadGenerator load;
        final PrintWriter o = spec.commandLine().getOut();
        try (PrintStream hlog = new PrintStream(Files.newOutputStream(run.resolve("latency.hlog"))))
        {
            final HistogramLogWriter writer = new HistogramLogWriter(hlog);
            writer.outputLogFormatVersion();
            writer.outputStartTime(System.currentTimeMillis());
            writer.setBaseTime(System.currentTimeMillis());
            writer.outputLegend();
            try
            {
                load = new LoadGenerator(options, line ->
                {
                    o.println(line);
                    o.flush();
                }, writer);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), ex.getMessage());
            }
            final LoadResult result = load.run();
            final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            final java.util.Map<String, Object> summary = new java.util.LinkedHashMap<>(result.summary());
            final java.util.Map<String, Object> environment = io.dpbench.loadgen.report.RunEnvironment.collect(
                spec.commandLine().getParseResult().originalArgs());
            summary.put("environment", environment);
            Files.writeString(run.resolve("summary.json"), json.writeValueAsString(summary) + "\n");
            Files.writeString(run.resolve("environment.json"), json.writeValueAsString(environment) + "\n");
            plot(result.latency(), run.resolve("latency.png"), modeOptions.mode + ", " + services + " Services, "
                + (rate > 0 ? String.format(Locale.ROOT, "%,d pps open loop", rate) : "closed loop"));
            o.println(new ObjectMapper().writeValueAsString(result.summary()));
            o.println("loadgen: run folder " + run);
            o.flush();
            // over the wire the node's drops are in its own counters: "unaccounted" in the summary must equal them
            final boolean ok = (result.wire() || result.accountingHolds()) && result.backendChanged() == 0
                && result.untranslated() == 0;
            if (!ok)
            {
                spec.commandLine().getErr().println("loadgen: checks failed: accounting holds " + result.accountingHolds()
                    + ", backend changed " + result.backendChanged() + ", untranslated replies " + result.untranslated());
            }
            if (result.wire())
            {
                o.println("loadgen: " + result.unaccounted() + " frames neither received nor dropped here: compare with "
                    + "the node's counted drops (dpbench run --json)");
            }
            return ok ? 0 : 1;
        }
    }

    /** Latency by percentile (x: 1 / (1 - percentile), log scale, as HdrHistogram's plots draw it). */
    static void plot(final Histogram h, final Path png, final String title) throws java.io.IOException
    {
        final XYChart chart = new XYChartBuilder().width(900).height(600).title("Latency by percentile: " + title)
            .xAxisTitle("percentile (1 / (1 - p): 10 = p90, 100 = p99, 1000 = p99.9)").yAxisTitle("microseconds").build();
        chart.getStyler().setXAxisLogarithmic(true);
        final double[] ps = {0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999};
        final double[] x = new double[ps.length];
        final double[] y = new double[ps.length];
        for (int i = 0; i < ps.length; i++)
        {
            x[i] = 1 / (1 - ps[i] / 100);
            y[i] = h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(ps[i]) / 1000.0;
        }
        chart.addSeries("round trip through the node (request and reply)", x, y);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
