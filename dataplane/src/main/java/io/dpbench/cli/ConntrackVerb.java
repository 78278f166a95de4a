package io.dpbench.cli;

import io.dpbench.conntrack.ConntrackRecord;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.TcpConntrack;
import io.dpbench.conntrack.proto.TcpTrack;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code dpbench conntrack list|count}: read a conntrack table file, also while a dataplane holds it open. */
@Command(
    name = "conntrack",
    mixinStandardHelpOptions = true,
    header = "List or count the connections in a conntrack table file (conntrack -L format).",
    description = {
        "list: one line per connection in the format of 'conntrack -L' (protocol, number, seconds left, TCP state,",
        "original tuple, [UNREPLIED], reply tuple, [ASSURED], mark, use). Seconds left are counted from the table's",
        "clock: the last packet's time for a table written by replay, else now.",
        "count: the number of connections. Both work while another process holds the table."
    })
public final class ConntrackVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "list|count", description = "what to do")
    String action;

    @Option(names = {"--table", "--conntrack"}, required = true, paramLabel = "FILE", description = "the table file")
    Path table;

    @Option(names = "--max-conntrack", paramLabel = "N", defaultValue = "131072",
        description = "the table's nf_conntrack_max, as it was created with (default: ${DEFAULT-VALUE})")
    int max;

    @Override
    public Integer call() throws Exception
    {
        if (!"list".equals(action) && !"count".equals(action))
        {
            throw new ParameterException(spec.commandLine(), "expected list or count, got '" + action + "'");
        }
        if (!Files.exists(table))
        {
            throw new java.nio.file.NoSuchFileException(table.toString());
        }
        final PrintWriter out = spec.commandLine().getOut();
        try (ConntrackTable t = ConntrackTable.attach(table, max))
        {
            if ("count".equals(action))
            {
                out.println(t.primaryCount());
                return 0;
            }
            final long clock = t.clock() >= 0 ? t.clock() : System.currentTimeMillis();
            final List<String> lines = new ArrayList<>();
            t.forEachConnection(r -> lines.add(line(r, clock)));
            lines.forEach(out::println);
            spec.commandLine().getErr().printf("conntrack v1.4-style listing: %d flow entries have been shown.%n", lines.size());
        }
        return 0;
    }

    /** One connection as conntrack -L prints it. */
    static String line(final ConntrackRecord r, final long clockMillis)
    {
        final int protocol = FlowKey.protocol(r.originalPorts());
        final long left = Math.max(0, (r.expiryMillis() - clockMillis + 999) / 1000);
        final StringBuilder sb = new StringBuilder(160);
        final String name = FlowKey.protocolName(protocol);
        sb.append(name);
        for (int i = name.length(); i < 8; i++)
        {
            sb.append(' ');
        }
        sb.append(' ').append(protocol).append(' ').append(left).append(' ');
        if (protocol == 6)
        {
            sb.append(TcpConntrack.name(TcpTrack.state(r.state()))).append(' ');
        }
        tuple(sb, r.originalAddresses(), r.originalPorts(), protocol, true);
        if ((r.status() & ConntrackRecord.IPS_SEEN_REPLY) == 0)
        {
            sb.append("[UNREPLIED] ");
        }
        tuple(sb, r.replyAddresses(), r.replyPorts(), protocol, false);
        if ((r.status() & ConntrackRecord.IPS_ASSURED) != 0)
        {
            sb.append("[ASSURED] ");
        }
        return sb.append("mark=").append(r.mark()).append(" use=1").toString();
    }

    private static void tuple(final StringBuilder sb, final long addresses, final long ports, final int protocol,
        final boolean original)
    {
        sb.append("src=").append(Ipv4Address.toString(FlowKey.sourceAddress(addresses)))
            .append(" dst=").append(Ipv4Address.toString(FlowKey.destinationAddress(addresses))).append(' ');
        final int sport = FlowKey.sourcePort(ports);
        final int dport = FlowKey.destinationPort(ports);
        if (protocol == 1)
        {
            sb.append("type=").append(original ? 8 : 0).append(" code=0 id=").append(sport).append(' ');
        }
        else
        {
            sb.append("sport=").append(sport).append(" dport=").append(dport).append(' ');
        }
    }
}
