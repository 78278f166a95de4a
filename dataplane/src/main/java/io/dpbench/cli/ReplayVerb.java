package io.dpbench.cli;

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
        final ClusterModel model = cluster.load(spec.commandLine().getErr());
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
            long last = -1;
            while (reader.next())
            {
                last = reader.timestampNanos();
                if (dataplane.process(reader.frame(), 0, reader.frameLength(), last))
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
            report(counters);
            if (linger > 0)
            {
                Thread.sleep(linger * 1000L);
            }
        }
        return 0;
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
