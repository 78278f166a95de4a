package io.dpbench.cli;

import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.NatRewriter;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.packet.Verdict;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dpbench nat}: stateless static NAT of a pcap, one frame at a time, with the packet layer's incremental
 * checksum updates. It is the packet layer end to end (parse, validate, rewrite, write); the stateful, conntrack-backed
 * NAT of a Kubernetes node is the {@code replay} verb's job.
 */
@Command(
    name = "nat",
    mixinStandardHelpOptions = true,
    header = "Rewrite a pcap with static DNAT/SNAT rules, checksums updated incrementally.",
    description = {
        "Rewrite the frames of a pcap with static DNAT/SNAT rules and write the result, checksums updated",
        "incrementally (RFC 1624). Stateless: every frame is matched on its own, replies are not reverse-translated.",
        "Frames that fail validation are dropped and counted by reason (or kept unchanged with --keep-invalid).",
        "",
        "Examples:",
        "  dpbench nat --in in.pcap --out out.pcap --dnat 10.96.0.10:53=10.244.1.5:5353",
        "  dpbench nat --in in.pcap --out out.pcap --dnat 10.96.0.1=10.244.2.2 --snat 10.244.0.5=192.168.1.10"
    })
public final class NatVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "pcap to read")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "pcap to write")
    Path out;

    @Option(names = "--dnat", paramLabel = "DST[:PORT]=NEW[:PORT]", description = {
        "destination rule (repeatable; first match wins). With ports: TCP/UDP frames to DST:PORT get NEW:PORT.",
        "Without: every frame to DST gets NEW, ports (and ICMP identifiers) kept."})
    List<String> dnat = new ArrayList<>();

    @Option(names = "--snat", paramLabel = "SRC=NEW", description = "source rule (repeatable): frames from SRC get "
        + "source NEW, ports kept")
    List<String> snat = new ArrayList<>();

    @Option(names = "--keep-invalid", description = "write frames that fail validation unchanged instead of dropping them")
    boolean keepInvalid;

    @Option(names = "--verify-l4-checksums", description = "drop frames whose TCP/UDP/ICMP checksum does not verify")
    boolean verifyL4;

    @Override
    public Integer call() throws Exception
    {
        final Rule[] dnatRules = parseRules(dnat, "--dnat", true);
        final Rule[] snatRules = parseRules(snat, "--snat", false);
        if (dnatRules.length == 0 && snatRules.length == 0)
        {
            throw new ParameterException(spec.commandLine(), "give at least one --dnat or --snat rule");
        }
        final PacketParser parser = new PacketParser(verifyL4);
        final ParsedPacket packet = new ParsedPacket();
        long dnatted = 0;
        long snatted = 0;
        long written = 0;
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH, in);
        try (PcapReader reader = PcapReader.open(in);
            PcapWriter writer = PcapWriter.create(output.temp(), reader.nanosecondResolution()))
        {
            while (reader.next())
            {
                final Verdict verdict = parser.parse(reader.frame(), 0, reader.frameLength(), packet);
                if (verdict == Verdict.OK)
                {
                    final Rule d = match(dnatRules, packet, true);
                    if (d != null)
                    {
                        NatRewriter.rewriteDestination(packet, d.toAddress, d.matchesPort() ? d.toPort : packet.destinationPort);
                        dnatted++;
                    }
                    final Rule s = match(snatRules, packet, false);
                    if (s != null)
                    {
                        NatRewriter.rewriteSource(packet, s.toAddress, packet.sourcePort);
                        snatted++;
                    }
                }
                else if (!keepInvalid)
                {
                    continue;
                }
                writer.write(reader.frame(), 0, reader.frameLength(), reader.originalLength(), reader.timestampNanos());
                written++;
            }
        }
        catch (final Exception ex)
        {
            throw output.fail(ex);
        }
        output.commit();
        final PrintWriter o = spec.commandLine().getOut();
        o.printf("%s -> %s: %d frames read, %d written, %d DNAT, %d SNAT%n", in, out, parser.total(), written, dnatted, snatted);
        for (final Verdict v : Verdict.values())
        {
            if (v != Verdict.OK && parser.count(v) > 0)
            {
                o.printf("  %s %d (%s)%s%n", v.label(), parser.count(v), v.description(), keepInvalid ? ", kept" : ", dropped");
            }
        }
        return 0;
    }

    private static Rule match(final Rule[] rules, final ParsedPacket p, final boolean destination)
    {
        for (final Rule r : rules)
        {
            final int address = destination ? p.destinationAddress : p.sourceAddress;
            if (address != r.matchAddress)
            {
                continue;
            }
            if (!r.matchesPort())
            {
                return r;
            }
            final boolean hasPorts = p.protocol == Ipv4Flyweight.PROTOCOL_TCP || p.protocol == Ipv4Flyweight.PROTOCOL_UDP;
            if (hasPorts && p.destinationPort == r.matchPort)
            {
                return r;
            }
        }
        return null;
    }

    private Rule[] parseRules(final List<String> texts, final String option, final boolean portsAllowed)
    {
        final Rule[] rules = new Rule[texts.size()];
        for (int i = 0; i < rules.length; i++)
        {
            final String text = texts.get(i);
            final int eq = text.indexOf('=');
            if (eq < 0)
            {
                throw new ParameterException(spec.commandLine(), option + " '" + text + "': expected MATCH=NEW");
            }
            try
            {
                final int[] match = endpoint(text.substring(0, eq), portsAllowed);
                final int[] to = endpoint(text.substring(eq + 1), portsAllowed);
                if ((match[1] < 0) != (to[1] < 0))
                {
                    throw new IllegalArgumentException("give a port on both sides or on neither");
                }
                rules[i] = new Rule(match[0], match[1], to[0], to[1]);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), option + " '" + text + "': " + ex.getMessage());
            }
        }
        return rules;
    }

    /** "a.b.c.d" or "a.b.c.d:port" to {address, port or -1}. */
    private static int[] endpoint(final String text, final boolean portsAllowed)
    {
        final int colon = text.indexOf(':');
        if (colon < 0)
        {
            return new int[]{Ipv4Address.parse(text), -1};
        }
        if (!portsAllowed)
        {
            throw new IllegalArgumentException("ports are not supported here");
        }
        final int port;
        try
        {
            port = Integer.parseInt(text.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("port '" + text.substring(colon + 1) + "' is not a number");
        }
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException("port " + port + " outside 0..65535");
        }
        return new int[]{Ipv4Address.parse(text.substring(0, colon)), port};
    }

    private record Rule(int matchAddress, int matchPort, int toAddress, int toPort)
    {
        boolean matchesPort()
        {
            return matchPort >= 0;
        }
    }
}
