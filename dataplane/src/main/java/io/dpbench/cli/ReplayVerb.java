package io.dpbench.cli;

import io.dpbench.verb.Verb;
import io.dpbench.model.ClusterModel;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.node.NodeCounters;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.pipeline.FrameLog;
import io.dpbench.pipeline.PacketBatch;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.pipeline.StageChain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

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


    @Option(names = "--in", required = true, paramLabel = "FILE", description = "pcap to read")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "pcap of the frames that leave")
    Path out;





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


    @Option(names = "--stages", paramLabel = "LIST", description = {
        "the stage chain each worker runs, comma-separated, from: decap, conntrack, route, encap, tx (default:",
        "" + StageChain.OVERLAY + " with --nodes, else " + StageChain.PLAIN + ")"})
    String stages;

    @Mixin
    ModeOptions modeOptions;

    @Mixin
    DataplaneOptions dataplane;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception
    {
        final NodeConfig config = config();
        final ClusterModel model = cluster.load(spec.commandLine().getErr(), nodes);
        final Map<String, Object> counters = new LinkedHashMap<>();
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH, in, dataplane.conntrack);
        try
        {
            replay(config, model, counters, output);
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

    /** The node's settings from the options, every bad one named (bad usage). */
    private NodeConfig config()
    {
        final NodeConfig.Builder b = NodeConfig.builder().mode(modeOptions.mode).scheduler(modeOptions.scheduler).seed(dataplane.seed)
            .workers(dataplane.workers)
            .overlayNodes(nodes).stages(stages).maxConntrack(dataplane.maxConntrack).conntrackFile(dataplane.conntrack)
            .kubeProxy(node.toNodeConfig()).nftables(node.toNftablesSettings(node.toNodeConfig()))
            .overflow(Pipeline.Overflow.WAIT);
        if (nodes < 0)
        {
            throw new ParameterException(spec.commandLine(), "--nodes must be 0 (no overlay) or more");
        }
        try
        {
            return b.build();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
    }

    /**
     * Replays the capture into {@code output}. A capture that ends in a damaged record still has its frames before
     * it processed and written (the error is raised after), so that the partial output holds everything read.
     */
    private void replay(final NodeConfig settings, final ClusterModel model, final Map<String, Object> counters,
        final OutputFile output) throws Exception
    {
        try (PcapReader reader = PcapReader.open(in))
        {
            // slots as large as the capture's frames can be
            final NodeConfig config = NodeConfig.builder().mode(settings.mode()).scheduler(settings.scheduler())
                .seed(settings.seed()).workers(settings.workers()).overlayNodes(settings.overlayNodes())
                .stages(settings.stages()).maxConntrack(settings.maxConntrack()).conntrackFile(settings.conntrackFile())
                .kubeProxy(settings.kubeProxy()).nftables(settings.nftables()).overflow(Pipeline.Overflow.WAIT)
                // rx reads a file: waiting for a worker's ring it yields, then parks, rather than spinning on a core
                // the JIT compiler and the workers need (measured on 2 cores, 1 worker: a new connection ~40% cheaper
                // in a replay of new flows, issue 17)
                .idle(Pipeline.Idle.BACKOFF)
                .maxFrame(Math.max(64, Math.min(reader.snapLength(), PacketBatch.LARGEST_FRAME))).build();
            try (Node node = Node.open(config, model);
                PcapWriter writer = PcapWriter.create(output.temp(), reader.nanosecondResolution()))
            {
                if (node.table().recovered())
                {
                    spec.commandLine().getErr().println("replay: " + dataplane.conntrack + ": recovered the table (its last writer"
                        + " did not close it, e.g. killed)");
                }
                final FrameLog[] logs = new FrameLog[config.workers()];
                final Pipeline pipeline = node.start(w -> logs[w] = new FrameLog());
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
                    // counters and expiry the caches still hold; conntrack list reads timeouts against the last packet
                    node.settle(last / 1_000_000L);
                }
                counters.putAll(node.counters().toMap());
                NodeCounters.print(spec.commandLine().getOut(), counters, json);
            }
        }
    }

}
