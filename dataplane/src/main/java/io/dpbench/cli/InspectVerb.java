package io.dpbench.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code dpbench inspect}: run every frame of a pcap through the validating parser and report the verdicts. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    header = "Validate every frame of a pcap and count the verdicts (ok or drop reason).",
    description = {
        "Validate every frame of a pcap with dpbench's parser (the checks Linux's ip_rcv and the conntrack L4",
        "trackers apply) and count the verdicts: ok, or the one reason a frame would be dropped.",
        "Prints a table (or --json), optionally one line per frame (--frames)."
    })
public final class InspectVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "pcap file to read (classic libpcap, Ethernet)")
    Path in;

    @Option(names = "--verify-l4-checksums", description = "also verify TCP/UDP/ICMP checksums, as Linux does with "
        + "nf_conntrack_checksum=1 and no NIC offload (default: off)")
    boolean verifyL4;

    @Option(names = "--frames", description = "print one line per frame: number, verdict, 5-tuple, TCP flags, length")
    boolean frames;

    @Option(names = "--json", description = "print the summary as one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PacketParser parser = new PacketParser(verifyL4);
        final ParsedPacket packet = new ParsedPacket();
        final Map<String, Long> protocols = new LinkedHashMap<>();
        final Set<FlowTuple> flows = new HashSet<>();
        final FlowKey key = new FlowKey();
        long bytes = 0;
        long firstTimestamp = -1;
        long lastTimestamp = -1;
        try (PcapReader reader = PcapReader.open(in))
        {
            while (reader.next())
            {
                final Verdict verdict = parser.parse(reader.frame(), 0, reader.frameLength(), packet);
                bytes += reader.frameLength();
                if (firstTimestamp < 0)
                {
                    firstTimestamp = reader.timestampNanos();
                }
                lastTimestamp = reader.timestampNanos();
                if (verdict == Verdict.OK)
                {
                    protocols.merge(FlowKey.protocolName(packet.protocol), 1L, Long::sum);
                    packet.flowKey(key);
                    flows.add(new FlowTuple(key.addresses(), key.portsAndProtocol()));
                }
                if (frames)
                {
                    out.println(frameLine(reader.frameNumber(), verdict, packet, reader.frameLength()));
                }
            }
        }

        final long total = parser.total();
        final Map<String, Long> verdicts = new LinkedHashMap<>();
        for (final Verdict v : Verdict.values())
        {
            if (parser.count(v) > 0 || v == Verdict.OK)
            {
                verdicts.put(v.label(), parser.count(v));
            }
        }
        final double seconds = total > 1 ? (lastTimestamp - firstTimestamp) / 1e9 : 0;
        if (json)
        {
            final Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("file", in.toString());
            summary.put("frames", total);
            summary.put("bytes", bytes);
            summary.put("capture_seconds", seconds);
            summary.put("l4_checksums_verified", verifyL4);
            summary.put("verdicts", verdicts);
            summary.put("protocols", protocols);
            summary.put("flows", flows.size());
            out.println(new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary));
            return 0;
        }
        out.printf("%s: %d frames, %d bytes, %.3f s of capture%s%n", in, total, bytes, seconds,
            verifyL4 ? ", L4 checksums verified" : "");
        out.printf("%-28s %12s %8s  %s%n", "verdict", "frames", "share", "meaning");
        for (final Verdict v : Verdict.values())
        {
            final long n = parser.count(v);
            if (n > 0 || v == Verdict.OK)
            {
                out.printf("%-28s %12d %7.2f%%  %s%n", v.label(), n, total == 0 ? 0.0 : 100.0 * n / total, v.description());
            }
        }
        out.printf("ok frames by protocol: %s%n", protocols.isEmpty() ? "none" : protocols.toString().replaceAll("[{}]", ""));
        out.printf("distinct 5-tuples (one direction each) among ok frames: %d%n", flows.size());
        return 0;
    }

    static String frameLine(final long number, final Verdict verdict, final ParsedPacket p, final int length)
    {
        if (verdict != Verdict.OK)
        {
            return number + " " + verdict.label() + " len=" + length;
        }
        final StringBuilder sb = new StringBuilder(96).append(number).append(" ok ")
            .append(FlowKey.protocolName(p.protocol)).append(' ')
            .append(Ipv4Address.toString(p.sourceAddress)).append(':').append(p.sourcePort).append(" > ")
            .append(Ipv4Address.toString(p.destinationAddress)).append(':').append(p.destinationPort);
        if (p.protocol == 6)
        {
            sb.append(" [").append(TcpFlyweight.flagsToString(p.tcpFlags)).append(']');
        }
        if (p.protocol == 1)
        {
            sb.append(" icmp-type=").append(p.icmpType);
        }
        if (p.vlanTags > 0)
        {
            sb.append(" vlan-tags=").append(p.vlanTags);
        }
        return sb.append(" len=").append(length).toString();
    }

    private record FlowTuple(long addresses, long portsAndProtocol)
    {
    }
}
