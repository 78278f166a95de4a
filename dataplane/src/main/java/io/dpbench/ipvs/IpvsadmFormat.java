package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.Scheduler;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.model.RuleParseException;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code ipvsadm-save -n} text: render a {@link VirtualServiceTable} and parse one back.
 * <pre>
 * -A -t 10.96.0.1:443 -s rr
 * -a -t 10.96.0.1:443 -r 172.18.0.2:6443 -m -w 1
 * -A -u 10.96.0.10:53 -s rr -p 10800
 * </pre>
 * {@code -t} TCP, {@code -u} UDP, {@code --sctp-service} SCTP; {@code -s} scheduler, {@code -b} scheduler flags
 * (sh-fallback, sh-port, mh-fallback, mh-port), {@code -p} persistence seconds; real servers with {@code -m}
 * (masquerading, i.e. NAT: what kube-proxy uses) and {@code -w} weight, in the kernel's list order. Services are
 * printed sorted by protocol, address and port (ipvsadm prints the kernel's hash-table order).
 */
public final class IpvsadmFormat
{
    private IpvsadmFormat()
    {
    }

    public static String render(final VirtualServiceTable table, final SchedulerFlags flags)
    {
        return render(table.all(), flags);
    }

    /** The services given, in ipvsadm-save's order (the list is not changed). */
    public static String render(final List<VirtualService> given, final SchedulerFlags flags)
    {
        final List<VirtualService> services = new java.util.ArrayList<>(given);
        services.sort(Comparator.comparingInt(VirtualService::protocol)
            .thenComparingLong(vs -> vs.address() & 0xFFFF_FFFFL).thenComparingInt(VirtualService::port));
        final StringBuilder sb = new StringBuilder(services.size() * 96);
        for (final VirtualService vs : services)
        {
            final String service = option(vs.protocol()) + " " + Ipv4Address.toString(vs.address()) + ":" + vs.port();
            sb.append("-A ").append(service).append(" -s ").append(vs.scheduler().name());
            final String f = flags(vs.scheduler().name(), flags);
            if (!f.isEmpty())
            {
                sb.append(" -b ").append(f);
            }
            if (vs.persistenceSeconds() > 0)
            {
                sb.append(" -p ").append(vs.persistenceSeconds());
            }
            sb.append('\n');
            for (int i = 0; i < vs.destinationCount(); i++)
            {
                final RealServer rs = vs.destination(i);
                sb.append("-a ").append(service).append(" -r ").append(Ipv4Address.toString(rs.address())).append(':')
                    .append(rs.port()).append(" -m -w ").append(rs.weight()).append('\n');
            }
        }
        return sb.toString();
    }

    private static String flags(final String scheduler, final SchedulerFlags flags)
    {
        if (!"sh".equals(scheduler) && !"mh".equals(scheduler))
        {
            return "";
        }
        final List<String> out = new ArrayList<>();
        if (flags.fallback())
        {
            out.add(scheduler + "-fallback");
        }
        if (flags.port())
        {
            out.add(scheduler + "-port");
        }
        return String.join(",", out);
    }

    private static String option(final int protocol)
    {
        switch (protocol)
        {
            case 6: return "-t";
            case 17: return "-u";
            case 132: return "--sctp-service";
            default: throw new IllegalArgumentException("IPVS protocol " + protocol);
        }
    }

    /**
     * Parse ipvsadm-save text. Real servers are added in file order to the head of their service's list, so the
     * file's order is reproduced only after reversing; to keep the file's order as the list order (which is what the
     * file shows), they are inserted last-line-first. Node addresses mark node-port services (for masquerade).
     */
    public static VirtualServiceTable parse(final String text, final String source, final List<String> nodeIPs)
        throws RuleParseException
    {
        final VirtualServiceTable table = new VirtualServiceTable();
        final List<Object[]> pending = new ArrayList<>();
        final String[] lines = text.split("\n", -1);
        final java.util.Set<Integer> local = new java.util.HashSet<>();
        for (final String ip : nodeIPs)
        {
            local.add(Ipv4Address.parse(ip));
        }
        for (int n = 0; n < lines.length; n++)
        {
            final String line = lines[n].strip();
            final int lineNo = n + 1;
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            final String[] t = line.split("\\s+");
            int protocol = -1;
            long[] address = null;
            String scheduler = "wlc";
            String flagText = "";
            int persistence = 0;
            long[] server = null;
            int weight = 1;
            for (int i = 1; i < t.length; i++)
            {
                switch (t[i])
                {
                    case "-t": case "--tcp-service": protocol = 6; address = endpoint(t, ++i, source, lineNo); break;
                    case "-u": case "--udp-service": protocol = 17; address = endpoint(t, ++i, source, lineNo); break;
                    case "--sctp-service": protocol = 132; address = endpoint(t, ++i, source, lineNo); break;
                    case "-s": case "--scheduler": scheduler = value(t, ++i, source, lineNo); break;
                    case "-b": case "--sched-flags": flagText = value(t, ++i, source, lineNo); break;
                    case "-p": case "--persistent":
                        persistence = number(value(t, ++i, source, lineNo), source, lineNo, 1, 2_678_400);
                        break;
                    case "-r": case "--real-server": server = endpoint(t, ++i, source, lineNo); break;
                    case "-w": case "--weight": weight = number(value(t, ++i, source, lineNo), source, lineNo, 0, 65535); break;
                    case "-m": case "--masquerading": break;
                    case "-g": case "--gatewaying": case "-i": case "--ipip":
                        throw new RuleParseException(source, lineNo, t[i] + ": only masquerading (-m, NAT) is modelled; "
                            + "kube-proxy uses -m");
                    default:
                        throw new RuleParseException(source, lineNo, "unknown option '" + t[i] + "'");
                }
            }
            if (protocol < 0)
            {
                throw new RuleParseException(source, lineNo, "no service (-t, -u or --sctp-service)");
            }
            final int vip = (int)address[0];
            final int vport = (int)address[1];
            switch (t[0])
            {
                case "-A":
                case "--add-service":
                {
                    final SchedulerFlags flags = new SchedulerFlags(flagText.contains("fallback"), flagText.contains("-port"));
                    final Scheduler s;
                    try
                    {
                        s = io.dpbench.ipvs.sched.Schedulers.create(scheduler, flags);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        throw new RuleParseException(source, lineNo, ex.getMessage());
                    }
                    if (table.find(protocol, vip, vport) != null)
                    {
                        throw new RuleParseException(source, lineNo, "service " + t[1] + " " + t[2] + " is already defined");
                    }
                    table.put(new VirtualService(protocol, vip, vport, s, persistence)
                        .kind(local.contains(vip) ? KubeServiceKind.NODE_PORT : KubeServiceKind.CLUSTER_IP));
                    break;
                }
                case "-a":
                case "--add-server":
                {
                    if (server == null)
                    {
                        throw new RuleParseException(source, lineNo, "-a needs -r SERVER:PORT");
                    }
                    final VirtualService vs = table.find(protocol, vip, vport);
                    if (vs == null)
                    {
                        throw new RuleParseException(source, lineNo, "-a before its service's -A line");
                    }
                    pending.add(new Object[]{vs, new RealServer((int)server[0], (int)server[1], weight), lineNo});
                    break;
                }
                default:
                    throw new RuleParseException(source, lineNo, "unknown command '" + t[0] + "' (expected -A or -a)");
            }
        }
        // the file lists servers head first; adding each at the head, last one first, rebuilds that order
        for (int i = pending.size() - 1; i >= 0; i--)
        {
            final VirtualService vs = (VirtualService)pending.get(i)[0];
            if (!vs.addDestination((RealServer)pending.get(i)[1]))
            {
                throw new RuleParseException(source, (Integer)pending.get(i)[2], "real server listed twice");
            }
        }
        return table;
    }

    private static String value(final String[] t, final int i, final String source, final int line)
        throws RuleParseException
    {
        if (i >= t.length)
        {
            throw new RuleParseException(source, line, t[i - 1] + " needs a value");
        }
        return t[i];
    }

    private static long[] endpoint(final String[] t, final int i, final String source, final int line)
        throws RuleParseException
    {
        final String text = value(t, i, source, line);
        final int colon = text.lastIndexOf(':');
        if (colon < 0)
        {
            throw new RuleParseException(source, line, "'" + text + "': expected ADDRESS:PORT");
        }
        try
        {
            return new long[]{Ipv4Address.parse(text.substring(0, colon)),
                number(text.substring(colon + 1), source, line, 0, 65535)};
        }
        catch (final IllegalArgumentException ex)
        {
            throw new RuleParseException(source, line, ex.getMessage());
        }
    }

    private static int number(final String text, final String source, final int line, final int min, final int max)
        throws RuleParseException
    {
        try
        {
            final int v = Integer.parseInt(text);
            if (v < min || v > max)
            {
                throw new RuleParseException(source, line, text + " outside " + min + ".." + max);
            }
            return v;
        }
        catch (final NumberFormatException ex)
        {
            throw new RuleParseException(source, line, "'" + text + "' is not a number");
        }
    }
}
