package io.dpbench.cli;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.vxlan.OverlayForwarder;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSelector;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.IpvsSelector;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.packet.Verdict;
import io.dpbench.pipeline.SingleThreadDataplane;
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

/** {@code dpbench replay}: a pcap through the node's dataplane (conntrack, iptables or IPVS, NAT), out to a pcap. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    header = "Feed a pcap through the node's dataplane (conntrack + iptables or IPVS + NAT) and write what leaves.",
    description = {
        "Each frame is validated, looked up in conntrack, and on a new flow classified by the proxy mode (kube-proxy's",
        "iptables rules walked rule by rule, or IPVS virtual services and a scheduler); then it is translated from its",
        "connection: forward packets to the chosen backend, replies back to the Service's VIP:port. Frames keep their",
        "Ethernet header and timestamps. Time is the pcap's, so timeouts replay exactly. Prints counters at the end.",
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
        final NewFlowSelector selector;
        if ("iptables".equals(mode))
        {
            final String restore = KubeProxyRenderer.render(model, nodeConfig, KubeProxyRenderer.Options.production());
            selector = new IptablesSelector(new Classifier(ChainEngine.compile(NodeRules.assemble(restore, "rendered"),
                "rendered", nodeConfig.nodeIPs(), IpSets.EMPTY), seed, Ipv4Address.parse(nodeConfig.primaryNodeIP())));
        }
        else
        {
            try
            {
                selector = new IpvsSelector(new IpvsProxier(nodeConfig, scheduler, io.dpbench.ipvs.SchedulerFlags.NONE)
                    .syncAll(model));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), "--scheduler: " + ex.getMessage());
            }
        }
        final int max = maxConntrack != null ? maxConntrack
            : ConntrackTimeouts.kubeProxyConntrackMax(Runtime.getRuntime().availableProcessors());
        if (max < 1)
        {
            throw new ParameterException(spec.commandLine(), "--max-conntrack must be at least 1");
        }
        final Map<String, Object> counters = new LinkedHashMap<>();
        try (ConntrackTable table = conntrack != null ? ConntrackTable.persisted(conntrack, max) : ConntrackTable.inMemory(max);
            PcapReader reader = PcapReader.open(in);
            PcapWriter writer = PcapWriter.create(out, reader.nanosecondResolution()))
        {
            final SingleThreadDataplane dataplane = new SingleThreadDataplane(selector, table, ConntrackTimeouts.kubernetesNode());
            final Overlay overlay = topology != null ? new Overlay(topology, writer) : null;
            long last = -1;
            while (reader.next())
            {
                last = reader.timestampNanos();
                if (overlay != null)
                {
                    overlay.process(dataplane, reader.frame(), reader.frameLength(), last);
                }
                else if (dataplane.process(reader.frame(), 0, reader.frameLength(), last))
                {
                    writer.write(reader.frame(), 0, reader.frameLength(), last);
                }
            }
            writer.flush();
            if (last >= 0)
            {
                dataplane.flush(last / 1_000_000L); // counters and expiry the cache still holds
                table.clock(last / 1_000_000L); // conntrack list reads timeouts against the last packet's time
            }
            counters.put("packets_in", dataplane.packetsIn());
            counters.put("packets_out", dataplane.packetsOut());
            counters.put("new_flows", dataplane.newFlows());
            final Map<String, Long> dropped = new LinkedHashMap<>();
            for (final Verdict v : Verdict.values())
            {
                if (v != Verdict.OK && dataplane.parser().count(v) > 0)
                {
                    dropped.put(v.label(), dataplane.parser().count(v));
                }
            }
            for (final SingleThreadDataplane.Drop d : SingleThreadDataplane.Drop.values())
            {
                if (dataplane.drops(d) > 0)
                {
                    dropped.put(d.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), dataplane.drops(d));
                }
            }
            counters.put("dropped", dropped);
            counters.put("conntrack_entries", table.primaryCount());
            counters.put("conntrack_early_drops", table.earlyDrops());
            counters.put("conntrack_reaped", dataplane.reaped());
            counters.put("cache_hits", dataplane.cache().hits());
            counters.put("cache_misses", dataplane.cache().misses());
            if (overlay != null)
            {
                counters.put("overlay", overlay.counters());
            }
            report(counters);
            if (linger > 0)
            {
                Thread.sleep(linger * 1000L);
            }
        }
        return 0;
    }

    /**
     * The overlay around the single-thread dataplane: VXLAN frames for this node are decapsulated before it, and
     * packets it translates toward a pod on another node are forwarded through the vxlan device (TTL, MTU,
     * encapsulation to that node's VTEP) after it.
     */
    private static final class Overlay
    {
        private final OverlayTopology topology;
        private final PcapWriter writer;
        private final VxlanDecapsulator decapsulator;
        private final OverlayForwarder forwarder;
        private final UnsafeBuffer work = new UnsafeBuffer(new byte[VxlanConfig.OVERHEAD + PcapReader.MAX_FRAME_LENGTH]);
        private final OverlayForwarder.FrameSink sink;
        private long now;
        private long local;

        Overlay(final OverlayTopology topology, final PcapWriter writer)
        {
            this.topology = topology;
            this.writer = writer;
            final VxlanConfig config = VxlanConfig.flannel();
            this.decapsulator = new VxlanDecapsulator(config);
            this.forwarder = new OverlayForwarder(new VxlanEncapsulator(config, topology.local()), topology.local());
            this.sink = (buffer, offset, length) -> write(buffer, offset, length);
        }

        void process(final SingleThreadDataplane dataplane, final MutableDirectBuffer frame, final int length,
            final long timestampNanos) throws IOException
        {
            now = timestampNanos;
            int offset = 0;
            int size = length;
            if (decapsulator.addressedToDevice(frame, 0, length, topology.local().address()))
            {
                offset = decapsulator.decapsulate(frame, 0, length);
                if (offset < 0)
                {
                    return; // dropped by the vxlan device, counted by reason
                }
                size = decapsulator.innerLength();
            }
            if (!dataplane.process(frame, offset, size, timestampNanos))
            {
                return;
            }
            final RemoteVtep remote = remoteFor(frame, offset, size);
            if (remote == null)
            {
                local++;
                writer.write(frame, offset, size, timestampNanos);
                return;
            }
            work.putBytes(VxlanConfig.OVERHEAD, frame, offset, size);
            try
            {
                forwarder.forward(work, VxlanConfig.OVERHEAD, size, remote, sink);
            }
            catch (final UncheckedIOException ex)
            {
                throw ex.getCause();
            }
        }

        private void write(final MutableDirectBuffer buffer, final int offset, final int length)
        {
            try
            {
                writer.write(buffer, offset, length, now);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }

        /** The VTEP for the frame's IPv4 destination (VLAN tags stepped over), or null. */
        private RemoteVtep remoteFor(final MutableDirectBuffer f, final int offset, final int length)
        {
            final int ip = EthernetFlyweight.ipv4Offset(f, offset, length);
            if (ip < 0 || ip + 20 > offset + length)
            {
                return null;
            }
            return topology.remoteFor(f.getInt(ip + 16, ByteOrder.BIG_ENDIAN));
        }

        Map<String, Long> counters()
        {
            final Map<String, Long> c = new LinkedHashMap<>();
            c.put("not_encapsulated", local); // to this node's pods, or outside the overlay
            for (final OverlayForwarder.Counter k : OverlayForwarder.Counter.values())
            {
                c.put(k.label().replace('-', '_'), forwarder.count(k));
            }
            c.put("decapsulated", decapsulator.decapsulated());
            for (final VxlanDecapsulator.Drop d : VxlanDecapsulator.Drop.values())
            {
                if (decapsulator.drops(d) > 0)
                {
                    c.put("decap_drop_" + d.label().replace('-', '_'), decapsulator.drops(d));
                }
            }
            return c;
        }
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
