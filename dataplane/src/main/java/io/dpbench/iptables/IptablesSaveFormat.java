package io.dpbench.iptables;

import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints rules the way {@code iptables-save} (1.8.9, nf_tables backend) prints them, measured on this kernel
 * (docs/research/iptables-save-format.md): tables in the order mangle, security, raw, filter, nat; every built-in
 * chain in hook order with its policy, then user chains sorted by byte value; rules of built-in chains first, then
 * of user chains in that order; each rule canonical: {@code -s -d -i -o -p} first (addresses with /len), then the
 * match modules in rule order, then the target; MARK as --set-xmark, REJECT with its --reject-with, -m recent with
 * its defaults, probabilities with 11 decimals of the stored 31-bit value, comments bare only when they are
 * [A-Za-z0-9_-]+. No "# Generated" lines and zero counters.
 */
public final class IptablesSaveFormat
{
    private static final String[] TABLE_ORDER = {"mangle", "security", "raw", "filter", "nat"};
    private static final String[][] BUILT_IN = {
        {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
        {"INPUT", "FORWARD", "OUTPUT"},
        {"PREROUTING", "OUTPUT"},
        {"INPUT", "FORWARD", "OUTPUT"},
        {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
    };
    private static final String[] CT_STATE_ORDER = {"INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"};
    private static final int[] CT_STATE_BITS = {CtState.INVALID, CtState.NEW, CtState.RELATED, CtState.ESTABLISHED,
        CtState.UNTRACKED, CtState.SNAT, CtState.DNAT};

    private IptablesSaveFormat()
    {
    }

    static boolean isBuiltIn(final String table, final String chain)
    {
        for (int t = 0; t < TABLE_ORDER.length; t++)
        {
            if (TABLE_ORDER[t].equals(table))
            {
                for (final String c : BUILT_IN[t])
                {
                    if (c.equals(chain))
                    {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    public static String dump(final RuleSet set)
    {
        final StringBuilder sb = new StringBuilder(1 << 16);
        for (int t = 0; t < TABLE_ORDER.length; t++)
        {
            final RuleSet.Table table = set.table(TABLE_ORDER[t]);
            if (table == null)
            {
                continue;
            }
            sb.append('*').append(table.name()).append('\n');
            final List<RuleSet.Chain> ordered = new ArrayList<>();
            for (final String builtIn : BUILT_IN[t])
            {
                final RuleSet.Chain chain = table.chain(builtIn);
                sb.append(':').append(builtIn).append(' ')
                    .append(chain == null || chain.policy() == null ? "ACCEPT" : chain.policy()).append(" [0:0]\n");
                if (chain != null)
                {
                    ordered.add(chain);
                }
            }
            final List<RuleSet.Chain> user = new ArrayList<>();
            for (final RuleSet.Chain chain : table.chains())
            {
                if (!isBuiltIn(table.name(), chain.name()))
                {
                    user.add(chain);
                }
            }
            user.sort((a, b) -> a.name().compareTo(b.name()));
            for (final RuleSet.Chain chain : user)
            {
                sb.append(':').append(chain.name()).append(" - [0:0]\n");
            }
            ordered.addAll(user);
            for (final RuleSet.Chain chain : ordered)
            {
                for (final RuleSet.Rule rule : chain.rules())
                {
                    sb.append("-A ").append(chain.name());
                    final String spec = rule(rule);
                    if (!spec.isEmpty())
                    {
                        sb.append(' ').append(spec);
                    }
                    sb.append('\n');
                }
            }
            sb.append("COMMIT\n");
        }
        return sb.toString();
    }

    /** One rule's arguments in canonical iptables-save form (without "-A CHAIN"). */
    public static String rule(final RuleSet.Rule rule)
    {
        final List<String> out = new ArrayList<>();
        for (final boolean source : new boolean[]{true, false})
        {
            for (final Match m : rule.matches())
            {
                if (m instanceof Match.Address a && a.source() == source && !(a.prefixLength() == 0 && !a.invert()))
                {
                    negate(out, a.invert());
                    out.add(source ? "-s" : "-d");
                    out.add(Ipv4Address.toString(a.network()) + "/" + a.prefixLength());
                }
            }
        }
        for (final boolean input : new boolean[]{true, false})
        {
            for (final Match m : rule.matches())
            {
                if (m instanceof Match.Interface i && i.input() == input)
                {
                    negate(out, i.invert());
                    out.add(input ? "-i" : "-o");
                    out.add(i.name());
                }
            }
        }
        for (final Match m : rule.matches())
        {
            if (m instanceof Match.ProtocolMatch p && !(p.protocol() == 0 && !p.invert()))
            {
                negate(out, p.invert());
                out.add("-p");
                out.add(protocolName(p.protocol()));
            }
        }
        for (final Match m : rule.matches())
        {
            module(out, m);
        }
        target(out, rule.target());
        return String.join(" ", out);
    }

    private static void module(final List<String> out, final Match m)
    {
        if (m instanceof Match.Comment c)
        {
            final String text = c.text().length() > 255 ? c.text().substring(0, 255) : c.text();
            add(out, "-m", "comment", "--comment", saveString(text));
        }
        else if (m instanceof Match.Constant c)
        {
            add(out, "-m", c.module());
            out.addAll(c.args());
        }
        else if (m instanceof Match.Nfacct n)
        {
            add(out, "-m", "nfacct", "--nfacct-name", n.name());
        }
        else if (m instanceof Match.Ports p)
        {
            add(out, "-m", p.module());
            if (p.sportLow() >= 0)
            {
                negate(out, p.sportInvert());
                add(out, "--sport", range(p.sportLow(), p.sportHigh()));
            }
            if (p.dportLow() >= 0)
            {
                negate(out, p.dportInvert());
                add(out, "--dport", range(p.dportLow(), p.dportHigh()));
            }
        }
        else if (m instanceof Match.Multiport mp)
        {
            add(out, "-m", "multiport");
            negate(out, mp.invert());
            out.add(mp.direction() == Match.Multiport.DESTINATION ? "--dports"
                : mp.direction() == Match.Multiport.SOURCE ? "--sports" : "--ports");
            final StringBuilder list = new StringBuilder();
            for (int k = 0; k < mp.ranges().length; k += 2)
            {
                list.append(k == 0 ? "" : ",").append(range(mp.ranges()[k], mp.ranges()[k + 1]));
            }
            out.add(list.toString());
        }
        else if (m instanceof Match.AddrType t)
        {
            add(out, "-m", "addrtype");
            if (t.sourceTypes() != 0)
            {
                negate(out, t.sourceInvert());
                add(out, "--src-type", AddressType.toString(t.sourceTypes()));
            }
            if (t.destinationTypes() != 0)
            {
                negate(out, t.destinationInvert());
                add(out, "--dst-type", AddressType.toString(t.destinationTypes()));
            }
        }
        else if (m instanceof Match.Mark mk)
        {
            add(out, "-m", "mark");
            negate(out, mk.invert());
            add(out, "--mark", hex(mk.value()) + (mk.mask() == -1 ? "" : "/" + hex(mk.mask())));
        }
        else if (m instanceof Match.StatisticRandom s)
        {
            add(out, "-m", "statistic", "--mode", "random");
            negate(out, s.invert());
            add(out, "--probability", String.format(Locale.ROOT, "%.11f", s.threshold() / (double)0x8000_0000L));
        }
        else if (m instanceof Match.StatisticNth s)
        {
            add(out, "-m", "statistic", "--mode", "nth");
            negate(out, s.invert());
            add(out, "--every", Integer.toString(s.every()), "--packet", Integer.toString(s.packet()));
        }
        else if (m instanceof Match.Recent r)
        {
            add(out, "-m", "recent");
            negate(out, r.invert());
            out.add(r.command() == Match.Recent.SET ? "--set" : r.command() == Match.Recent.RCHECK ? "--rcheck"
                : r.command() == Match.Recent.UPDATE ? "--update" : "--remove");
            if (r.seconds() > 0)
            {
                add(out, "--seconds", Integer.toString(r.seconds()));
            }
            if (r.reap())
            {
                out.add("--reap");
            }
            add(out, "--name", r.name(), "--mask", Ipv4Address.toString(r.mask()), r.rsource() ? "--rsource" : "--rdest");
        }
        else if (m instanceof Match.Conntrack ct)
        {
            add(out, "-m", "conntrack");
            negate(out, ct.invert());
            final StringBuilder states = new StringBuilder();
            for (int k = 0; k < CT_STATE_ORDER.length; k++)
            {
                if ((ct.states() & CT_STATE_BITS[k]) != 0)
                {
                    states.append(states.length() == 0 ? "" : ",").append(CT_STATE_ORDER[k]);
                }
            }
            add(out, "--ctstate", states.toString());
        }
        else if (m instanceof Match.IpSet s)
        {
            add(out, "-m", "set");
            negate(out, s.invert());
            final StringBuilder flags = new StringBuilder();
            for (final boolean src : s.sourceFlags())
            {
                flags.append(flags.length() == 0 ? "" : ",").append(src ? "src" : "dst");
            }
            add(out, "--match-set", s.name(), flags.toString());
        }
    }

    private static void target(final List<String> out, final Target t)
    {
        if (t instanceof Target.Jump j)
        {
            add(out, j.goTo() ? "-g" : "-j", j.chain());
        }
        else if (t instanceof Target.Accept)
        {
            add(out, "-j", "ACCEPT");
        }
        else if (t instanceof Target.Drop)
        {
            add(out, "-j", "DROP");
        }
        else if (t instanceof Target.Return)
        {
            add(out, "-j", "RETURN");
        }
        else if (t instanceof Target.Reject r)
        {
            add(out, "-j", "REJECT", "--reject-with", "tcp-rst".equals(r.with()) ? "tcp-reset" : r.with());
        }
        else if (t instanceof Target.Dnat d)
        {
            add(out, "-j", "DNAT", "--to-destination", Ipv4Address.toString(d.address()) + (d.port() < 0 ? "" : ":" + d.port()));
        }
        else if (t instanceof Target.Snat s)
        {
            add(out, "-j", "SNAT", "--to-source", Ipv4Address.toString(s.address()) + (s.port() < 0 ? "" : ":" + s.port()));
            if (s.randomFully())
            {
                out.add("--random-fully");
            }
        }
        else if (t instanceof Target.Masquerade m)
        {
            add(out, "-j", "MASQUERADE");
            if (m.randomFully())
            {
                out.add("--random-fully");
            }
        }
        else if (t instanceof Target.MarkTarget m)
        {
            add(out, "-j", "MARK", "--set-xmark", hex(m.value()) + "/" + hex(m.mask()));
        }
    }

    /** libxtables xtables_save_string: bare when [A-Za-z0-9_-]+, else double-quoted with " \ ' escaped. */
    static String saveString(final String text)
    {
        boolean bare = !text.isEmpty();
        for (int i = 0; i < text.length() && bare; i++)
        {
            final char c = text.charAt(i);
            bare = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
        if (bare)
        {
            return text;
        }
        final StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c == '"' || c == '\\' || c == '\'')
            {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    private static String protocolName(final int protocol)
    {
        switch (protocol)
        {
            case 1: return "icmp";
            case 6: return "tcp";
            case 17: return "udp";
            case 132: return "sctp";
            default: return Integer.toString(protocol);
        }
    }

    private static String range(final int low, final int high)
    {
        return low == high ? Integer.toString(low) : low + ":" + high;
    }

    private static String hex(final int value)
    {
        return "0x" + Integer.toHexString(value);
    }

    private static void negate(final List<String> out, final boolean invert)
    {
        if (invert)
        {
            out.add("!");
        }
    }

    private static void add(final List<String> out, final String... tokens)
    {
        java.util.Collections.addAll(out, tokens);
    }
}
