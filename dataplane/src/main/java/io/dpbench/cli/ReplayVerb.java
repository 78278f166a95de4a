package io.dpbench.cli;

import io.dpbench.vxlan.OverlayForwarder;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.VxlanDecapsulator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.pipeline.DecapStage;
import io.dpbench.pipeline.EncapStage;
import io.dpbench.pipeline.FlowSteering;
import io.dpbench.pipeline.FrameLog;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.pipeline.SingleThreadDataplane;
import io.dpbench.pipeline.StageChain;
import io.dpbench.pipeline.TxStage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.ToLongFunction;
import io.dpbench.select.NewFlowSelector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code dpbench replay}: a pcap through the node's dataplane (conntrack, iptables or IPVS, NAT, the overlay), over the
 * multi-worker {@link Pipeline}, out to a pcap in input order.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    header = "Feed a pcap through the node's dataplane (conntrack + iptables or IPVS + NAT) and write what leaves.",
    description = {
        "Each frame is validated, looked up in conntrack, and on a new flow classified by the proxy mode (kube-proxy's",
        "iptables rules walked rule by rule, or IPVS virtual services and a scheduler); then it is translated from its",
        "connection: forward packets to the chosen backend, replies back to the Service's VIP:port. Frames keep their",
        "Ethernet header and timestamps. Time is the pcap's, so timeouts replay exactly. With --workers N the frames",
        "are spread over N worker threads (the node's multi-worker pipeline) and written back in input order. Prints",
        "counters at the end.",
        "",
        "Example: dpbench replay --mode iptables --services 100 --endpoints 4 --in in.pcap --out out.pcap"
    })
public final class ReplayVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--mode", required = true, paramLabel = "iptables|ipvs", description = "proxy mode")
    String mode;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "pcap to read")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "pcap of the frames that leave")
    Path out;

    @Option(names = {"--conntrack", "--table"}, paramLabel = "FILE",
        description = "keep the conntrack table in FILE (created or reopened: a restarted replay continues its flows)")
    Path conntrack;

    @Option(names = "--max-conntrack", paramLabel = "N", description = "nf_conntrack_max (default: kube-proxy's "
        + "max(131072, 32768 x cores))")
    Integer maxConntrack;

    @Option(names = "--scheduler", paramLabel = "NAME", defaultValue = "rr", description = "ipvs mode: scheduler (default: ${DEFAULT-VALUE})")
    String scheduler;

    @Option(names = "--random-seed", paramLabel = "S", defaultValue = "1", description = "seed of iptables mode's "
        + "'-m statistic --mode random' draws, so that a replay is reproducible (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--linger", paramLabel = "SECONDS", defaultValue = "0",
        description = "stay alive this long after the last frame, table open (for restart tests) (default: ${DEFAULT-VALUE})")
    int linger;

    @Option(names = "--json", description = "print the counters as one JSON object")
    boolean json;

    @Option(names = "--nodes", paramLabel = "K", defaultValue = "0", description = {
        "overlay on: K nodes with flannel-style pod networks 10.244.k.0/24 (this node is node 0, underlay 192.168.0.10,",
        "node k at 192.168.0.(10+k)); a synthetic cluster's pods are spread over them. Packets to pods on other nodes",
        "leave VXLAN-encapsulated to that node (VNI 1, port 8472); VXLAN frames that arrive are decapsulated first",
        "(default: 0, no overlay)"})
    int nodes;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = {
        "worker threads (1-64): frames are steered so that both directions of a connection meet on one worker",
        "(by the client's address; masqueraded replies by their SNAT port, each worker using its own ports); each",
        "worker has its own stages, conntrack cache and proxy state (rr cursors, random draws) over the shared",
        "conntrack table. Output is written in input order, so with a flow-hash scheduler (IPVS sh or mh) it is the",
        "same for any N, except for masqueraded flows whose client port another worker owns (a worker keeps a",
        "client's port as its SNAT port only when it is one of its own) (default: ${DEFAULT-VALUE})"})
    int workers;

    @Option(names = "--stages", paramLabel = "LIST", description = {
        "the stage chain each worker runs, comma-separated, from: decap, conntrack, route, encap, tx (default:",
        "" + StageChain.OVERLAY + " with --nodes, else " + StageChain.PLAIN + ")"})
    String stages;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception
    {
        if (!"iptables".equals(mode) && !"ipvs".equals(mode))
        {
            throw new ParameterException(spec.commandLine(), "--mode: expected iptables or ipvs, got '" + mode + "'");
        }
        final NodeConfig nodeConfig = node.toNodeConfig();
        if (nodes < 0)
        {
            throw new ParameterException(spec.commandLine(), "--nodes must be 0 (no overlay) or more");
        }
        final OverlayTopology topology;
        try
        {
            topology = nodes > 0 ? OverlayTopology.generate(nodes) : null;
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final ClusterModel model = cluster.load(spec.commandLine().getErr(), nodes);
        if (workers < 1 || workers > 64)
        {
            throw new ParameterException(spec.commandLine(), "--workers must be between 1 and 64, got " + workers);
        }
        final IntFunction<NewFlowSelector> selectors;
        try
        {
            selectors = Selectors.of(mode, scheduler, seed, model, nodeConfig);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final String chainSpec = stages != null ? stages : topology != null ? StageChain.OVERLAY : StageChain.PLAIN;
        try
        {
            StageChain.build(chainSpec, null, topology, (q, t, b, o, l) -> { });
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), "--stages: " + ex.getMessage());
        }
        final int max = maxConntrack != null ? maxConntrack
            : ConntrackTimeouts.kubeProxyConntrackMax(Runtime.getRuntime().availableProcessors());
        if (max < 1)
        {
            throw new ParameterException(spec.commandLine(), "--max-conntrack must be at least 1");
        }
        final Map<String, Object> counters = new LinkedHashMap<>();
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH, in, conntrack);
        try
        {
            replay(max, chainSpec, counters, output, model, nodeConfig, topology, selectors);
        }
        catch (final Exception ex)
        {
            throw output.fail(ex);
        }
        output.commit();
        if (linger > 0)
        {
            Thread.sleep(linger * 1000L);
        }
        return 0;
    }

    /**
     * Replays the capture into {@code output}. A capture that ends in a damaged record still has its frames before
     * it processed and written (the error is raised after), so that the partial output holds everything read.
     */
    private void replay(final int max, final String chainSpec, final Map<String, Object> counters,
        final OutputFile output, final ClusterModel model, final NodeConfig nodeConfig, final OverlayTopology topology,
        final IntFunction<NewFlowSelector> selectors) throws Exception
    {
        try (ConntrackTable table = conntrack != null ? ConntrackTable.persisted(conntrack, max) : ConntrackTable.inMemory(max);
            PcapReader reader = PcapReader.open(in);
            PcapWriter writer = PcapWriter.create(output.temp(), reader.nanosecondResolution()))
        {
            if (table.recovered())
            {
                spec.commandLine().getErr().println("replay: " + conntrack + ": recovered the table (its last writer"
                    + " did not close it, e.g. killed)");
            }
            // steer VXLAN by its inner frame only where a decap stage will hand conntrack that inner frame
            final boolean decapsulates = java.util.Arrays.stream(chainSpec.split(",")).map(String::trim)
                .anyMatch("decap"::equals);
            final FlowSteering steering = FlowSteering.of(model, nodeConfig, workers,
                topology != null && decapsulates ? topology.local().address() : 0);
            final SingleThreadDataplane[] dataplanes = new SingleThreadDataplane[workers];
            final FrameLog[] logs = new FrameLog[workers];
            final Pipeline pipeline = new Pipeline(steering, w ->
            {
                final ConntrackTable view = workers == 1 ? table : table.view(steering.owner(w));
                dataplanes[w] = new SingleThreadDataplane(selectors.apply(w), view, ConntrackTimeouts.kubernetesNode())
                    .natPorts(w, workers);
                logs[w] = new FrameLog();
                return StageChain.build(chainSpec, dataplanes[w], topology, logs[w]);
            }, Pipeline.DEFAULT_RING_BATCHES, Pipeline.Overflow.WAIT,
                Math.max(64, Math.min(reader.snapLength(), io.dpbench.pipeline.PacketBatch.LARGEST_FRAME)));
            long last = -1;
            long sequence = 0;
            io.dpbench.packet.PcapFormatException damaged = null;
            try
            {
                while (reader.next())
                {
                    last = reader.timestampNanos();
                    pipeline.submit(reader.frame(), 0, reader.frameLength(), last, sequence++);
                }
            }
            catch (final io.dpbench.packet.PcapFormatException ex)
            {
                damaged = ex; // the frames before it still go through and out
            }
            finally
            {
                pipeline.close(); // drains every worker; rethrows a worker's failure
            }
            FrameLog.writeInOrder(logs, (t, b, o, l) -> writer.write(b, o, l, t));
            writer.flush();
            if (damaged != null)
            {
                throw damaged;
            }
            if (last >= 0)
            {
                for (final SingleThreadDataplane d : dataplanes)
                {
                    d.flush(last / 1_000_000L); // counters and expiry the caches still hold
                }
                table.clock(last / 1_000_000L); // conntrack list reads timeouts against the last packet's time
            }
            counters.put("packets_in", sum(dataplanes, SingleThreadDataplane::packetsIn) + pipeline.oversize());
            counters.put("packets_out", sum(dataplanes, SingleThreadDataplane::packetsOut));
            counters.put("new_flows", sum(dataplanes, SingleThreadDataplane::newFlows));
            final Map<String, Long> dropped = new LinkedHashMap<>();
            for (final SingleThreadDataplane d : dataplanes)
            {
                d.addDrops(dropped);
            }
            if (pipeline.oversize() > 0)
            {
                dropped.put("oversize-frame", pipeline.oversize());
            }
            counters.put("dropped", dropped);
            counters.put("conntrack_entries", table.primaryCount());
            counters.put("conntrack_early_drops", sum(dataplanes, d -> d.table().earlyDrops()));
            counters.put("conntrack_reaped", sum(dataplanes, SingleThreadDataplane::reaped));
            counters.put("cache_hits", sum(dataplanes, d -> d.cache().hits()));
            counters.put("cache_misses", sum(dataplanes, d -> d.cache().misses()));
            if (topology != null)
            {
                counters.put("overlay", overlayCounters(pipeline));
            }
            if (workers > 1)
            {
                final List<Long> perWorker = new ArrayList<>();
                for (int w = 0; w < workers; w++)
                {
                    perWorker.add(pipeline.processed(w));
                }
                counters.put("workers", perWorker);
            }
            report(counters);
        }
    }

    private static long sum(final SingleThreadDataplane[] dataplanes, final ToLongFunction<SingleThreadDataplane> f)
    {
        long total = 0;
        for (final SingleThreadDataplane d : dataplanes)
        {
            total += f.applyAsLong(d);
        }
        return total;
    }

    /** The vxlan device's counters, summed over the workers. */
    private static Map<String, Long> overlayCounters(final Pipeline pipeline)
    {
        final Map<String, Long> c = new LinkedHashMap<>();
        long local = 0;
        long decapsulated = 0;
        final long[] forwarded = new long[OverlayForwarder.Counter.values().length];
        final long[] decapDrops = new long[VxlanDecapsulator.Drop.values().length];
        for (final StageChain chain : pipeline.chains())
        {
            final TxStage tx = chain.stage(TxStage.class);
            local += tx != null ? tx.sent() : 0;
            final EncapStage encap = chain.stage(EncapStage.class);
            for (final OverlayForwarder.Counter k : OverlayForwarder.Counter.values())
            {
                forwarded[k.ordinal()] += encap != null ? encap.forwarder().count(k) : 0;
            }
            final DecapStage decap = chain.stage(DecapStage.class);
            if (decap != null)
            {
                decapsulated += decap.decapsulator().decapsulated();
                for (final VxlanDecapsulator.Drop d : VxlanDecapsulator.Drop.values())
                {
                    decapDrops[d.ordinal()] += decap.decapsulator().drops(d);
                }
            }
        }
        c.put("not_encapsulated", local); // to this node's pods, or outside the overlay
        for (final OverlayForwarder.Counter k : OverlayForwarder.Counter.values())
        {
            c.put(k.label().replace('-', '_'), forwarded[k.ordinal()]);
        }
        c.put("decapsulated", decapsulated);
        for (final VxlanDecapsulator.Drop d : VxlanDecapsulator.Drop.values())
        {
            if (decapDrops[d.ordinal()] > 0)
            {
                c.put("decap_drop_" + d.label().replace('-', '_'), decapDrops[d.ordinal()]);
            }
        }
        return c;
    }

    private void report(final Map<String, Object> counters) throws Exception
    {
        final PrintWriter o = spec.commandLine().getOut();
        if (json)
        {
            o.println(new ObjectMapper().writeValueAsString(counters));
        }
        else
        {
            counters.forEach((k, v) -> o.printf("%-22s %s%n", k.replace('_', ' '), v));
        }
        o.flush();
    }
}
