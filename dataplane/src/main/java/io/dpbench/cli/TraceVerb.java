package io.dpbench.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.CompiledRules;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSaveParser;
import io.dpbench.iptables.RuleSet;
import io.dpbench.iptables.Tracer;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code dpbench trace}: walk one packet through a rule set and show every rule it meets. */
@Command(
    name = "trace",
    mixinStandardHelpOptions = true,
    header = "Walk one packet through iptables rules (or IPVS services) and report what matched and the outcome.",
    description = {
        "Walks the first packet of a new flow through an iptables-save dump the way netfilter does: nat PREROUTING",
        "(or nat OUTPUT when the source is one of the node's --local-ip), filter INPUT/FORWARD/OUTPUT, nat POSTROUTING.",
        "Every branch of '-m statistic --mode random' rules is followed, so all possible backends are listed.",
        "--mode nftables reads kube-proxy's nftables table, as 'render --mode nftables' prints it or as 'nft list",
        "ruleset' lists it: base chains by hook and priority, every value of 'numgen random' followed.",
        "--mode ipvs reads ipvsadm-save -n text: the virtual service hit and its possible real servers; --flows K",
        "traces K new flows (source port incremented per flow) and counts them per real server.",
        "",
        "Example: dpbench trace --mode iptables --rules node.rules --proto tcp --from 10.0.0.2 --to 172.30.0.41:80"
    })
public final class TraceVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--mode", required = true, paramLabel = "iptables|ipvs|nftables", description = "the rules' proxy mode")
    String mode;

    @Option(names = "--rules", required = true, paramLabel = "FILE",
        description = {"iptables mode: rules as iptables-save prints them; ipvs mode: ipvsadm-save -n text;",
            "nftables mode: kube-proxy's table, dump syntax or nft list ruleset"})
    Path rules;

    @Option(names = "--flows", paramLabel = "K", defaultValue = "0", description = {
        "ipvs mode: also trace K new flows (source port incremented per flow) and count flows per destination"})
    int flows;

    @Option(names = "--proto", required = true, paramLabel = "tcp|udp|sctp", description = "the packet's protocol")
    String proto;

    @Option(names = "--from", required = true, paramLabel = "IP[:PORT]",
        description = "the packet's source (source port default: 33333)")
    String from;

    @Option(names = "--to", required = true, paramLabel = "IP:PORT", description = "the packet's destination")
    String to;

    @Option(names = "--json", description = {"print one JSON object: verdict, destinations, masquerade, path;",
        "iptables mode also branches (how many were explored) and truncated (true when --max-branches stopped it)"})
    boolean json;

    @Option(names = "--max-branches", paramLabel = "N", defaultValue = "" + Tracer.MAX_BRANCHES, description = {
        "iptables mode: stop after N branches of statistic choices (default: ${DEFAULT-VALUE}); a trace that stops",
        "there says so (text and JSON): the branches not explored may lead elsewhere"})
    int maxBranches;

    @Mixin
    NodeOptions node;

    static final int DEFAULT_SOURCE_PORT = 33333;

    @Override
    public Integer call() throws Exception
    {
        if (!"iptables".equals(mode) && !"ipvs".equals(mode) && !"nftables".equals(mode))
        {
            throw new ParameterException(spec.commandLine(), "--mode: '" + mode + "' is not a mode trace knows (iptables, ipvs, nftables)");
        }
        if (flows < 0 || flows > 10_000_000)
        {
            throw new ParameterException(spec.commandLine(), "--flows " + flows + " outside 0..10000000");
        }
        final Protocol protocol;
        try
        {
            protocol = Protocol.parse(proto);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), "--proto: " + ex.getMessage());
        }
        final int[] source = endpoint(from, "--from", false);
        final int[] destination = endpoint(to, "--to", true);
        final NodeConfig nodeConfig = node.toNodeConfig();
        if (maxBranches < 1)
        {
            throw new ParameterException(spec.commandLine(), "--max-branches " + maxBranches + " < 1");
        }

        if ("ipvs".equals(mode))
        {
            return traceIpvs(protocol, source, destination, nodeConfig);
        }
        if (flows > 0)
        {
            throw new ParameterException(spec.commandLine(), "--flows is for --mode ipvs (iptables and nftables trace follow every branch)");
        }
        if ("nftables".equals(mode))
        {
            return traceNftables(protocol, source, destination, nodeConfig);
        }
        final RuleSet set = IptablesSaveParser.parse(Files.readString(rules), rules.toString());
        final CompiledRules compiled = ChainEngine.compile(set, rules.toString(), nodeConfig.nodeIPs(), IpSets.EMPTY);
        final Tracer.Result result = Tracer.trace(compiled, Ipv4Address.parse(nodeConfig.primaryNodeIP()),
            protocol.number(), source[0], source[1], destination[0], destination[1], 0, maxBranches);

        final PrintWriter out = spec.commandLine().getOut();
        if (json)
        {
            final Map<String, Object> object = new LinkedHashMap<>();
            object.put("verdict", result.verdict());
            object.put("destinations", result.destinations());
            object.put("masquerade", result.masquerade());
            object.put("path", result.path());
            object.put("branches", result.branches().size());
            object.put("truncated", result.truncated());
            out.println(new ObjectMapper().writeValueAsString(object));
            return 0;
        }
        out.printf("packet: %s %s:%d -> %s:%d, %s%n", protocol.lowerCase(), Ipv4Address.toString(source[0]), source[1],
            Ipv4Address.toString(destination[0]), destination[1],
            result.locallyOriginated() ? "from this node (starts at nat OUTPUT)" : "arriving (starts at nat PREROUTING)");
        int n = 1;
        for (final Tracer.Branch b : result.branches())
        {
            out.printf("%nbranch %d of %d (probability %.4f): %s%s%s%n", n++, result.branches().size(), b.probability(),
                b.verdict(), b.destination() == null ? "" : " -> " + b.destination(), b.masquerade() ? ", masqueraded" : "");
            String chain = null;
            for (final String step : b.path())
            {
                final String tableChain = step.substring(0, step.indexOf(' ', step.indexOf(' ') + 1));
                if (!tableChain.equals(chain))
                {
                    out.printf("  [%s]%n", tableChain);
                    chain = tableChain;
                }
                out.printf("    %s%n", step.substring(tableChain.length() + 1));
            }
        }
        out.printf("%nverdict: %s; destinations: %s; masquerade: %s%n", result.verdict(),
            result.destinations().isEmpty() ? "none" : String.join(", ", result.destinations()),
            result.masquerade() ? "yes" : "no");
        if (result.truncated())
        {
            out.printf("trace stopped at %d branches (--max-branches): the rules have more ways through, not explored;"
                + " the verdict and destinations above cover only the branches listed%n", result.branches().size());
        }
        return 0;
    }

    private int traceNftables(final Protocol protocol, final int[] source, final int[] destination,
        final NodeConfig nodeConfig) throws Exception
    {
        // a rules file that cannot be used is bad input: one line naming the place, exit 2
        final io.dpbench.nftables.NftProgram program;
        try
        {
            program = io.dpbench.nftables.NftProgram.compile(io.dpbench.nftables.NftTextParser.parse(Files.readString(rules),
                rules.toString()));
        }
        catch (final io.dpbench.model.RuleParseException ex)
        {
            throw new ParameterException(spec.commandLine(), "--rules: " + ex.getMessage());
        }
        catch (final IllegalArgumentException ex)
        {
            // the compiler's "line N: ..." names the rule's line; other messages name the set, map or chain
            final String message = ex.getMessage();
            final java.util.regex.Matcher m = java.util.regex.Pattern.compile("^line (\\d+): (.*)$").matcher(message);
            throw new ParameterException(spec.commandLine(), "--rules: " + rules + ":"
                + (m.matches() ? m.group(1) + ": " + m.group(2) : " " + message));
        }
        final io.dpbench.nftables.NftTracer.Result r = io.dpbench.nftables.NftTracer.trace(program, nodeConfig.nodeIPs(),
            protocol.number(), source[0], source[1], destination[0], destination[1], maxBranches);
        final PrintWriter out = spec.commandLine().getOut();
        if (json)
        {
            final Map<String, Object> object = new LinkedHashMap<>();
            object.put("verdict", r.verdict());
            object.put("destinations", r.destinations());
            object.put("masquerade", r.masquerade());
            object.put("path", r.path());
            object.put("branches", r.branches().size());
            object.put("truncated", r.truncated());
            out.println(new ObjectMapper().writeValueAsString(object));
            return 0;
        }
        out.printf("packet: %s %s:%d -> %s:%d, %s%n", protocol.lowerCase(), Ipv4Address.toString(source[0]), source[1],
            Ipv4Address.toString(destination[0]), destination[1],
            r.locallyOriginated() ? "from this node (starts at the output hook)" : "arriving (starts at the prerouting hook)");
        int n = 1;
        for (final io.dpbench.nftables.NftTracer.Branch b : r.branches())
        {
            out.printf("%nbranch %d of %d (probability %.4f): %s%s%s%n", n++, r.branches().size(), b.probability(),
                b.verdict(), b.destination() == null ? "" : " -> " + b.destination(), b.masquerade() ? ", masqueraded" : "");
            for (final String step : b.path())
            {
                out.printf("    %s%n", step);
            }
        }
        out.printf("%nverdict: %s; destinations: %s; masquerade: %s%n", r.verdict(),
            r.destinations().isEmpty() ? "none" : String.join(", ", r.destinations()), r.masquerade() ? "yes" : "no");
        if (r.truncated())
        {
            out.printf("trace stopped at %d branches (--max-branches): the rules have more ways through, not explored%n",
                r.branches().size());
        }
        return 0;
    }

    private int traceIpvs(final Protocol protocol, final int[] source, final int[] destination, final NodeConfig nodeConfig)
        throws Exception
    {
        final io.dpbench.ipvs.VirtualServiceTable table = io.dpbench.ipvs.IpvsadmFormat.parse(Files.readString(rules),
            rules.toString(), nodeConfig.nodeIPs());
        final io.dpbench.ipvs.IpvsProxier proxier = new io.dpbench.ipvs.IpvsProxier(nodeConfig, "rr",
            io.dpbench.ipvs.sched.SchedulerFlags.NONE, table);
        final io.dpbench.ipvs.IpvsTracer.Result r = io.dpbench.ipvs.IpvsTracer.trace(proxier, protocol.number(),
            source[0], source[1], destination[0], destination[1], flows);
        final PrintWriter out = spec.commandLine().getOut();
        if (json)
        {
            final Map<String, Object> object = new LinkedHashMap<>();
            object.put("verdict", r.verdict());
            object.put("destinations", r.destinations());
            object.put("masquerade", r.masquerade());
            object.put("path", r.path());
            if (flows > 0)
            {
                object.put("counts", r.counts());
            }
            out.println(new ObjectMapper().writeValueAsString(object));
            return 0;
        }
        out.printf("packet: %s %s:%d -> %s:%d%n", protocol.lowerCase(), Ipv4Address.toString(source[0]), source[1],
            Ipv4Address.toString(destination[0]), destination[1]);
        for (final String step : r.path())
        {
            out.printf("  %s%n", step);
        }
        if (r.path().isEmpty())
        {
            out.println("  no virtual service: the packet is not load-balanced");
        }
        out.printf("verdict: %s; destinations: %s; masquerade: %s%n", r.verdict(),
            r.destinations().isEmpty() ? "none" : String.join(", ", r.destinations()), r.masquerade() ? "yes" : "no");
        if (flows > 0)
        {
            out.printf("%d new flows:%n", flows);
            r.counts().forEach((k, v) -> out.printf("  %-24s %8d  %5.1f%%%n", k, v, 100.0 * v / flows));
        }
        return 0;
    }

    private int[] endpoint(final String text, final String option, final boolean portRequired)
    {
        final int colon = text.indexOf(':');
        try
        {
            if (colon < 0)
            {
                if (portRequired)
                {
                    throw new IllegalArgumentException("expected IP:PORT, got '" + text + "'");
                }
                return new int[]{Ipv4Address.parse(text), DEFAULT_SOURCE_PORT};
            }
            final int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 0 || port > 65535)
            {
                throw new IllegalArgumentException("port " + port + " outside 0..65535");
            }
            return new int[]{Ipv4Address.parse(text.substring(0, colon)), port};
        }
        catch (final NumberFormatException ex)
        {
            throw new ParameterException(spec.commandLine(), option + ": port '" + text.substring(colon + 1) + "' is not a number");
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), option + ": " + ex.getMessage());
        }
    }
}
