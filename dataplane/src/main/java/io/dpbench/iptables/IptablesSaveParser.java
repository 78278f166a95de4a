package io.dpbench.iptables;

import io.dpbench.model.RuleParseException;
import io.dpbench.model.Cidr;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Parser of {@code iptables-save} / {@code iptables-restore} text: {@code *table}, chain declarations
 * ({@code :NAME POLICY [packets:bytes]}), {@code -A}, {@code -I [n]}, {@code -D}, {@code -N}, {@code -X}, {@code -F},
 * {@code -P}, counters prefixes ({@code [p:b] -A ...}), quoted strings, {@code COMMIT}, {@code #} comments.
 * <p>
 * Every match, option and target kube-proxy's iptables and IPVS modes emit is understood; anything else is a
 * {@link RuleParseException} with the line number, never silently ignored. Lenient where kube-proxy's own
 * iptables-save parser is (pkg/util/iptables/testing/parse.go): a comment may run over several unquoted words, and
 * a rule may have no {@code -j}.
 * <p>
 * A table that appears twice is merged into one, as {@code iptables-restore --noflush} applies the second block: a
 * user chain declared again is flushed and refilled, other chains are kept (plain iptables-restore would flush the
 * whole table at each block). This is how a kube-proxy partial sync lands on the loaded rules.
 */
public final class IptablesSaveParser
{
    private static final Set<String> TABLES = Set.of("filter", "nat", "mangle", "raw", "security");
    private static final Set<String> BUILT_IN_TARGETS = Set.of("ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT",
        "MASQUERADE", "MARK");

    private final String source;
    private int line;

    private IptablesSaveParser(final String source)
    {
        this.source = source;
    }

    public static RuleSet parse(final String text, final String source) throws RuleParseException
    {
        return new IptablesSaveParser(source).parse(text);
    }

    private RuleParseException error(final String problem)
    {
        return new RuleParseException(source, line, problem);
    }

    private RuleSet parse(final String text) throws RuleParseException
    {
        final RuleSet rules = new RuleSet();
        RuleSet.Table table = null;
        final String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++)
        {
            line = i + 1;
            String l = lines[i].strip();
            if (l.isEmpty() || l.startsWith("#"))
            {
                continue;
            }
            if (l.startsWith("*"))
            {
                if (table != null)
                {
                    throw error("table '" + l.substring(1) + "' starts before COMMIT of table '" + table.name() + "'");
                }
                final String name = l.substring(1).strip();
                if (!TABLES.contains(name))
                {
                    throw error("unknown table '" + name + "'");
                }
                table = rules.declareTable(name);
                continue;
            }
            if (table == null)
            {
                throw error("'" + abbreviate(l) + "' outside a table (expected *filter, *nat ...)");
            }
            if ("COMMIT".equals(l))
            {
                table = null;
                continue;
            }
            if (l.startsWith(":"))
            {
                declaration(table, l);
                continue;
            }
            if (l.startsWith("["))
            {
                final int close = l.indexOf(']');
                if (close < 0 || !l.substring(1, close).matches("\\d+:\\d+"))
                {
                    throw error("malformed counters '" + abbreviate(l) + "'");
                }
                l = l.substring(close + 1).strip();
                if (l.isEmpty())
                {
                    throw error("counters without a rule");
                }
            }
            final List<String> tokens = Tokens.split(l);
            if (tokens == null)
            {
                throw error("unterminated quote");
            }
            command(table, tokens);
        }
        if (table != null)
        {
            line = lines.length;
            throw error("table '" + table.name() + "' has no COMMIT");
        }
        return rules;
    }

    private void declaration(final RuleSet.Table table, final String l) throws RuleParseException
    {
        final String[] parts = l.substring(1).split("\\s+");
        if (parts.length < 2 || parts[0].isEmpty())
        {
            throw error("malformed chain declaration '" + l + "' (expected ':NAME POLICY [packets:bytes]')");
        }
        checkChainName(parts[0]);
        final String policy = parts[1];
        if (!"-".equals(policy) && !"ACCEPT".equals(policy) && !"DROP".equals(policy))
        {
            throw error("chain " + parts[0] + ": policy '" + policy + "' is not ACCEPT, DROP or -");
        }
        if (parts.length > 2 && !parts[2].matches("\\[\\d+:\\d+]"))
        {
            throw error("chain " + parts[0] + ": malformed counters '" + parts[2] + "'");
        }
        final RuleSet.Chain existing = table.chain(parts[0]);
        if (existing != null && !existing.builtIn())
        {
            existing.rules().clear(); // iptables-restore --noflush: declaring a user chain again flushes it
        }
        table.declare(parts[0], "-".equals(policy) ? null : policy);
    }

    private void checkChainName(final String name) throws RuleParseException
    {
        if (name.length() > 28)
        {
            throw error("chain name '" + name + "' longer than 28 characters");
        }
        if (name.startsWith("-") || name.startsWith("!"))
        {
            throw error("invalid chain name '" + name + "'");
        }
    }

    private void command(final RuleSet.Table table, final List<String> tokens) throws RuleParseException
    {
        final String op = tokens.get(0);
        switch (op)
        {
            case "-A":
            case "--append":
            case "-I":
            case "--insert":
            case "-D":
            case "--delete":
            {
                if (tokens.size() < 2)
                {
                    throw error(op + " needs a chain");
                }
                final String chainName = tokens.get(1);
                final RuleSet.Chain chain = table.chain(chainName);
                if (chain == null)
                {
                    throw error("chain '" + chainName + "' is not declared in table " + table.name());
                }
                int from = 2;
                int position = -1;
                if ((op.equals("-I") || op.equals("--insert")) && tokens.size() > 2 && tokens.get(2).matches("\\d+"))
                {
                    position = Integer.parseInt(tokens.get(2)) - 1;
                    if (position < 0 || position > chain.rules().size())
                    {
                        throw error("-I " + chainName + " " + tokens.get(2) + ": no such position (chain has "
                            + chain.rules().size() + " rules)");
                    }
                    from = 3;
                }
                final RuleSet.Rule rule = rule(table.name(), chainName, tokens.subList(from, tokens.size()));
                if (op.equals("-D") || op.equals("--delete"))
                {
                    final boolean removed = chain.rules().removeIf(r -> r.args().equals(rule.args()));
                    if (!removed)
                    {
                        throw error("-D " + chainName + ": no such rule");
                    }
                }
                else if (op.equals("-A") || op.equals("--append"))
                {
                    chain.rules().add(rule);
                }
                else
                {
                    chain.rules().add(position < 0 ? 0 : position, rule);
                }
                return;
            }
            case "-N":
            case "--new-chain":
                expectArgs(tokens, 2);
                checkChainName(tokens.get(1));
                table.declare(tokens.get(1), null);
                return;
            case "-X":
            case "--delete-chain":
                if (tokens.size() == 1)
                {
                    table.chains().removeIf(c -> !c.builtIn());
                    return;
                }
                expectArgs(tokens, 2);
                final RuleSet.Chain deleted = table.chain(tokens.get(1));
                if (deleted == null || deleted.builtIn())
                {
                    throw error("-X " + tokens.get(1) + ": no such user-defined chain");
                }
                table.remove(tokens.get(1));
                return;
            case "-F":
            case "--flush":
                if (tokens.size() == 1)
                {
                    table.chains().forEach(c -> c.rules().clear());
                    return;
                }
                expectArgs(tokens, 2);
                final RuleSet.Chain flushed = table.chain(tokens.get(1));
                if (flushed == null)
                {
                    throw error("-F " + tokens.get(1) + ": no such chain");
                }
                flushed.rules().clear();
                return;
            case "-P":
            case "--policy":
                expectArgs(tokens, 3);
                final RuleSet.Chain builtIn = table.chain(tokens.get(1));
                if (builtIn == null || !builtIn.builtIn())
                {
                    throw error("-P " + tokens.get(1) + ": not a built-in chain");
                }
                if (!"ACCEPT".equals(tokens.get(2)) && !"DROP".equals(tokens.get(2)))
                {
                    throw error("-P " + tokens.get(1) + ": policy '" + tokens.get(2) + "' is not ACCEPT or DROP");
                }
                table.declare(tokens.get(1), tokens.get(2));
                return;
            default:
                throw error("unknown command '" + op + "'");
        }
    }

    private void expectArgs(final List<String> tokens, final int n) throws RuleParseException
    {
        if (tokens.size() != n)
        {
            throw error(tokens.get(0) + ": expected " + (n - 1) + " argument(s), got " + (tokens.size() - 1));
        }
    }

    /** Parse a rule's arguments (everything after "-A CHAIN"). */
    private RuleSet.Rule rule(final String table, final String chain, final List<String> tokens)
        throws RuleParseException
    {
        final List<Match> matches = new ArrayList<>();
        final List<String> args = new ArrayList<>();
        Target target = new Target.None();
        boolean haveTarget = false;
        int i = 0;
        while (i < tokens.size())
        {
            boolean invert = false;
            String t = tokens.get(i);
            final int start = i;
            if ("!".equals(t))
            {
                invert = true;
                if (++i >= tokens.size())
                {
                    throw error("'!' at the end of the rule");
                }
                t = tokens.get(i);
            }
            switch (t)
            {
                case "-s":
                case "--source":
                case "-d":
                case "--destination":
                {
                    final Cidr cidr = cidr(value(tokens, i), t);
                    matches.add(new Match.Address(t.equals("-s") || t.equals("--source"), cidr.network(),
                        cidr.prefixLength(), invert));
                    i += 2;
                    break;
                }
                case "-p":
                case "--protocol":
                    matches.add(new Match.ProtocolMatch(protocol(value(tokens, i)), invert));
                    i += 2;
                    break;
                case "-i":
                case "--in-interface":
                case "-o":
                case "--out-interface":
                    matches.add(new Match.Interface(t.startsWith("-i") || t.equals("--in-interface"), value(tokens, i), invert));
                    i += 2;
                    break;
                case "-m":
                case "--match":
                {
                    if (invert)
                    {
                        throw error("'!' before -m: put it before the module's option instead");
                    }
                    final String module = value(tokens, i);
                    i = module(module, tokens, i + 2, matches, args, start);
                    continue;
                }
                case "-j":
                case "--jump":
                case "-g":
                case "--goto":
                {
                    if (invert || haveTarget)
                    {
                        throw error(invert ? "'!' before " + t : "a second target in one rule");
                    }
                    final String name = value(tokens, i);
                    final boolean goTo = t.equals("-g") || t.equals("--goto");
                    i += 2;
                    final int optionsEnd = targetOptionsEnd(tokens, i);
                    target = target(name, goTo, tokens.subList(i, optionsEnd));
                    i = optionsEnd;
                    haveTarget = true;
                    break;
                }
                default:
                    if (isPortOption(t) && lastPortsMatch(matches) >= 0)
                    {
                        // a loaded match's options may appear anywhere later in the rule (kube-proxy writes
                        // "-m tcp -p tcp -d IP --dport 80")
                        final int at = lastPortsMatch(matches);
                        final Match.Ports old = (Match.Ports)matches.get(at);
                        final int[] range = portRange(value(tokens, i), t);
                        final boolean source = t.equals("--sport") || t.equals("--source-port");
                        matches.set(at, source
                            ? new Match.Ports(old.module(), range[0], range[1], invert, old.dportLow(), old.dportHigh(), old.dportInvert())
                            : new Match.Ports(old.module(), old.sportLow(), old.sportHigh(), old.sportInvert(), range[0], range[1], invert));
                        i += 2;
                        break;
                    }
                    throw error("unknown option '" + t + "'" + (t.startsWith("-") ? "" : " (an unquoted value?)"));
            }
            args.addAll(tokens.subList(start, i));
        }
        return new RuleSet.Rule(line, table, chain, args, matches, target);
    }

    private static int lastPortsMatch(final List<Match> matches)
    {
        for (int k = matches.size() - 1; k >= 0; k--)
        {
            if (matches.get(k) instanceof Match.Ports)
            {
                return k;
            }
        }
        return -1;
    }

    private static int targetOptionsEnd(final List<String> tokens, final int from)
    {
        int i = from;
        while (i < tokens.size() && !isRuleOption(tokens.get(i)))
        {
            i++;
        }
        return i;
    }

    private static boolean isRuleOption(final String token)
    {
        switch (token)
        {
            case "-s": case "--source": case "-d": case "--destination": case "-p": case "--protocol":
            case "-i": case "--in-interface": case "-o": case "--out-interface": case "-m": case "--match":
            case "-j": case "--jump": case "-g": case "--goto": case "!":
                return true;
            default:
                return false;
        }
    }

    private String value(final List<String> tokens, final int optionAt) throws RuleParseException
    {
        if (optionAt + 1 >= tokens.size())
        {
            throw error(tokens.get(optionAt) + " needs a value");
        }
        return tokens.get(optionAt + 1);
    }

    /** Parse one -m module's options from {@code i}; returns the index after them. Appends args as normalized. */
    private int module(final String module, final List<String> tokens, final int from, final List<Match> matches,
        final List<String> args, final int start) throws RuleParseException
    {
        args.add("-m");
        args.add(module);
        int i = from;
        switch (module)
        {
            case "comment":
            {
                if (i >= tokens.size() || !"--comment".equals(tokens.get(i)))
                {
                    throw error("-m comment needs --comment TEXT");
                }
                final StringBuilder text = new StringBuilder(value(tokens, i));
                i += 2;
                // kube-proxy's test parser accepts an unquoted comment of several words: take words up to the next option
                while (i < tokens.size() && !tokens.get(i).startsWith("-") && !"!".equals(tokens.get(i)))
                {
                    text.append(' ').append(tokens.get(i++));
                }
                matches.add(new Match.Comment(text.toString()));
                args.add("--comment");
                args.add(text.toString());
                return i;
            }
            case "tcp":
            case "udp":
            case "sctp":
            {
                int sLow = -1, sHigh = -1, dLow = -1, dHigh = -1;
                boolean sInv = false, dInv = false;
                while (i < tokens.size())
                {
                    boolean inv = false;
                    int j = i;
                    if ("!".equals(tokens.get(j)) && j + 1 < tokens.size() && isPortOption(tokens.get(j + 1)))
                    {
                        inv = true;
                        j++;
                    }
                    final String opt = tokens.get(j);
                    if (!isPortOption(opt))
                    {
                        if (opt.startsWith("--"))
                        {
                            throw error("-m " + module + ": unsupported option '" + opt + "'");
                        }
                        break;
                    }
                    final int[] range = portRange(value(tokens, j), opt);
                    if (opt.equals("--sport") || opt.equals("--source-port"))
                    {
                        sLow = range[0];
                        sHigh = range[1];
                        sInv = inv;
                    }
                    else
                    {
                        dLow = range[0];
                        dHigh = range[1];
                        dInv = inv;
                    }
                    args.addAll(tokens.subList(i, j + 2));
                    i = j + 2;
                }
                matches.add(new Match.Ports(module, sLow, sHigh, sInv, dLow, dHigh, dInv));
                return i;
            }
            case "multiport":
            {
                boolean inv = false;
                int j = i;
                if (j < tokens.size() && "!".equals(tokens.get(j)))
                {
                    inv = true;
                    j++;
                }
                if (j >= tokens.size())
                {
                    throw error("-m multiport needs --dports, --sports or --ports");
                }
                final String opt = tokens.get(j);
                final int direction;
                switch (opt)
                {
                    case "--dports": case "--destination-ports": direction = Match.Multiport.DESTINATION; break;
                    case "--sports": case "--source-ports": direction = Match.Multiport.SOURCE; break;
                    case "--ports": direction = Match.Multiport.EITHER; break;
                    default: throw error("-m multiport: unsupported option '" + opt + "'");
                }
                final String[] items = value(tokens, j).split(",");
                if (items.length > 15)
                {
                    throw error("-m multiport: more than 15 ports");
                }
                final int[] ranges = new int[items.length * 2];
                for (int k = 0; k < items.length; k++)
                {
                    final int[] r = portRange(items[k], opt);
                    ranges[2 * k] = r[0];
                    ranges[2 * k + 1] = r[1];
                }
                matches.add(new Match.Multiport(direction, ranges, inv));
                args.addAll(tokens.subList(i, j + 2));
                return j + 2;
            }
            case "addrtype":
            {
                int src = 0, dst = 0;
                boolean srcInv = false, dstInv = false;
                while (i < tokens.size())
                {
                    boolean inv = false;
                    int j = i;
                    if ("!".equals(tokens.get(j)) && j + 1 < tokens.size() && tokens.get(j + 1).endsWith("-type"))
                    {
                        inv = true;
                        j++;
                    }
                    final String opt = tokens.get(j);
                    if (opt.equals("--src-type") || opt.equals("--dst-type"))
                    {
                        final int types;
                        try
                        {
                            types = AddressType.parse(value(tokens, j));
                        }
                        catch (final IllegalArgumentException ex)
                        {
                            throw error("-m addrtype " + opt + ": " + ex.getMessage());
                        }
                        if (opt.equals("--src-type"))
                        {
                            src = types;
                            srcInv = inv;
                        }
                        else
                        {
                            dst = types;
                            dstInv = inv;
                        }
                        args.addAll(tokens.subList(i, j + 2));
                        i = j + 2;
                    }
                    else if (opt.equals("--limit-iface-in") || opt.equals("--limit-iface-out"))
                    {
                        throw error("-m addrtype " + opt + " is not supported");
                    }
                    else
                    {
                        if (opt.startsWith("--"))
                        {
                            throw error("-m addrtype: unsupported option '" + opt + "'");
                        }
                        break;
                    }
                }
                if (src == 0 && dst == 0)
                {
                    throw error("-m addrtype needs --src-type or --dst-type");
                }
                matches.add(new Match.AddrType(src, srcInv, dst, dstInv));
                return i;
            }
            case "mark":
            {
                boolean inv = false;
                int j = i;
                if (j < tokens.size() && "!".equals(tokens.get(j)))
                {
                    inv = true;
                    j++;
                }
                if (j >= tokens.size() || !"--mark".equals(tokens.get(j)))
                {
                    throw error("-m mark needs --mark VALUE[/MASK]");
                }
                final long[] vm = valueMask(value(tokens, j), "--mark");
                matches.add(new Match.Mark((int)vm[0], (int)vm[1], inv));
                args.addAll(tokens.subList(i, j + 2));
                return j + 2;
            }
            case "nfacct":
            {
                if (i >= tokens.size() || !"--nfacct-name".equals(tokens.get(i)))
                {
                    throw error("-m nfacct needs --nfacct-name NAME");
                }
                matches.add(new Match.Nfacct(value(tokens, i)));
                args.addAll(tokens.subList(i, i + 2));
                return i + 2;
            }
            case "physdev":
                return constantModule(module, tokens, i, matches, args, java.util.Set.of("--physdev-is-in",
                    "--physdev-is-out", "--physdev-is-bridged"), java.util.Set.of("--physdev-in", "--physdev-out"));
            case "ipvs":
                return constantModule(module, tokens, i, matches, args, java.util.Set.of("--ipvs"),
                    java.util.Set.of("--vproto", "--vaddr", "--vport", "--vportctl", "--vdir", "--vmethod"));
            case "statistic":
                return statistic(tokens, i, matches, args);
            case "recent":
                return recent(tokens, i, matches, args);
            case "conntrack":
            {
                boolean inv = false;
                int j = i;
                if (j < tokens.size() && "!".equals(tokens.get(j)))
                {
                    inv = true;
                    j++;
                }
                if (j >= tokens.size() || !"--ctstate".equals(tokens.get(j)))
                {
                    throw error("-m conntrack: only --ctstate is supported"
                        + (j < tokens.size() ? " (got '" + tokens.get(j) + "')" : ""));
                }
                try
                {
                    matches.add(new Match.Conntrack(CtState.parse(value(tokens, j)), inv));
                }
                catch (final IllegalArgumentException ex)
                {
                    throw error("-m conntrack --ctstate: " + ex.getMessage());
                }
                args.addAll(tokens.subList(i, j + 2));
                return j + 2;
            }
            case "set":
            {
                boolean inv = false;
                int j = i;
                if (j < tokens.size() && "!".equals(tokens.get(j)))
                {
                    inv = true;
                    j++;
                }
                if (j >= tokens.size() || !"--match-set".equals(tokens.get(j)) || j + 2 >= tokens.size())
                {
                    throw error("-m set needs --match-set NAME src|dst|src,dst");
                }
                final List<Boolean> flags = new ArrayList<>();
                for (final String f : tokens.get(j + 2).split(","))
                {
                    if (!f.equals("src") && !f.equals("dst"))
                    {
                        throw error("-m set --match-set " + tokens.get(j + 1) + ": flag '" + f + "' is not src or dst");
                    }
                    flags.add(f.equals("src"));
                }
                matches.add(new Match.IpSet(tokens.get(j + 1), flags, inv));
                args.addAll(tokens.subList(i, j + 3));
                return j + 3;
            }
            default:
                throw error("unsupported match module '-m " + module + "'");
        }
    }

    private static boolean isPortOption(final String opt)
    {
        return opt.equals("--sport") || opt.equals("--source-port") || opt.equals("--dport") || opt.equals("--destination-port");
    }

    /** A module that never matches what dpbench models (see {@link Match.Constant}): true only if all options are negated. */
    private int constantModule(final String module, final List<String> tokens, final int from, final List<Match> matches,
        final List<String> args, final java.util.Set<String> flags, final java.util.Set<String> valued)
        throws RuleParseException
    {
        int i = from;
        boolean allNegated = true;
        final List<String> own = new ArrayList<>();
        while (i < tokens.size())
        {
            int j = i;
            boolean inv = false;
            if ("!".equals(tokens.get(j)) && j + 1 < tokens.size()
                && (flags.contains(tokens.get(j + 1)) || valued.contains(tokens.get(j + 1))))
            {
                inv = true;
                j++;
            }
            final String opt = tokens.get(j);
            final int consumed;
            if (flags.contains(opt))
            {
                consumed = 1;
            }
            else if (valued.contains(opt))
            {
                value(tokens, j);
                consumed = 2;
            }
            else
            {
                if (opt.startsWith("--"))
                {
                    throw error("-m " + module + ": unsupported option '" + opt + "'");
                }
                break;
            }
            allNegated &= inv;
            own.addAll(tokens.subList(i, j + consumed));
            i = j + consumed;
        }
        if (own.isEmpty())
        {
            throw error("-m " + module + " needs an option");
        }
        matches.add(new Match.Constant(module, own, allNegated));
        args.addAll(own);
        return i;
    }

    private int statistic(final List<String> tokens, final int from, final List<Match> matches, final List<String> args)
        throws RuleParseException
    {
        int i = from;
        String mode = null;
        String probability = null;
        boolean inv = false;
        int every = -1;
        int packet = 0;
        while (i < tokens.size())
        {
            int j = i;
            boolean thisInv = false;
            if ("!".equals(tokens.get(j)) && j + 1 < tokens.size()
                && (tokens.get(j + 1).equals("--probability") || tokens.get(j + 1).equals("--every")))
            {
                thisInv = true;
                j++;
            }
            final String opt = tokens.get(j);
            switch (opt)
            {
                case "--mode":
                    mode = value(tokens, j);
                    break;
                case "--probability":
                    probability = value(tokens, j);
                    inv = thisInv;
                    break;
                case "--every":
                    every = intValue(value(tokens, j), "--every", 1, Integer.MAX_VALUE);
                    inv = thisInv;
                    break;
                case "--packet":
                    packet = intValue(value(tokens, j), "--packet", 0, Integer.MAX_VALUE);
                    break;
                default:
                    if (opt.startsWith("--"))
                    {
                        throw error("-m statistic: unsupported option '" + opt + "'");
                    }
                    j = -1;
            }
            if (j < 0)
            {
                break;
            }
            args.addAll(tokens.subList(i, j + 2));
            i = j + 2;
        }
        if ("random".equals(mode))
        {
            if (probability == null)
            {
                throw error("-m statistic --mode random needs --probability");
            }
            final double p;
            try
            {
                p = Double.parseDouble(probability);
            }
            catch (final NumberFormatException ex)
            {
                throw error("-m statistic --probability '" + probability + "' is not a number");
            }
            if (!(p >= 0.0 && p <= 1.0))
            {
                throw error("-m statistic --probability " + probability + " outside 0..1");
            }
            // libxt_statistic: probability = lround(0x80000000 * p); the kernel matches when
            // (get_random_u32() & 0x7FFFFFFF) < probability
            matches.add(new Match.StatisticRandom(Math.round(0x8000_0000L * p), probability, inv));
        }
        else if ("nth".equals(mode))
        {
            if (every < 1 || packet >= every)
            {
                throw error("-m statistic --mode nth needs --every N (>= 1) and --packet P < N");
            }
            matches.add(new Match.StatisticNth(every, packet, inv));
        }
        else
        {
            throw error("-m statistic: --mode must be random or nth" + (mode == null ? "" : " (got '" + mode + "')"));
        }
        return i;
    }

    private int recent(final List<String> tokens, final int from, final List<Match> matches, final List<String> args)
        throws RuleParseException
    {
        int i = from;
        String name = "DEFAULT";
        int command = 0;
        boolean inv = false;
        int seconds = 0;
        boolean reap = false;
        boolean rsource = true;
        int mask = -1;
        while (i < tokens.size())
        {
            int j = i;
            boolean thisInv = false;
            if ("!".equals(tokens.get(j)) && j + 1 < tokens.size())
            {
                thisInv = true;
                j++;
            }
            final String opt = tokens.get(j);
            int consumed = 1;
            switch (opt)
            {
                case "--name": name = value(tokens, j); consumed = 2; break;
                case "--set": command = Match.Recent.SET; inv = thisInv; break;
                case "--rcheck": command = Match.Recent.RCHECK; inv = thisInv; break;
                case "--update": command = Match.Recent.UPDATE; inv = thisInv; break;
                case "--remove": command = Match.Recent.REMOVE; inv = thisInv; break;
                case "--seconds": seconds = intValue(value(tokens, j), "--seconds", 1, Integer.MAX_VALUE); consumed = 2; break;
                case "--reap": reap = true; break;
                case "--rsource": rsource = true; break;
                case "--rdest": rsource = false; break;
                case "--mask": mask = cidr(value(tokens, j) + "/32", "--mask").network(); consumed = 2; break;
                default:
                    if (opt.startsWith("--"))
                    {
                        throw error("-m recent: unsupported option '" + opt + "'");
                    }
                    consumed = 0;
            }
            if (consumed == 0)
            {
                break;
            }
            if (thisInv && command == 0)
            {
                throw error("-m recent: '!' only before --set, --rcheck, --update or --remove");
            }
            args.addAll(tokens.subList(i, j + consumed));
            i = j + consumed;
        }
        if (command == 0)
        {
            throw error("-m recent needs one of --set, --rcheck, --update, --remove");
        }
        matches.add(new Match.Recent(name, command, inv, seconds, reap, rsource, mask));
        return i;
    }

    private Target target(final String name, final boolean goTo, final List<String> options) throws RuleParseException
    {
        if (goTo && BUILT_IN_TARGETS.contains(name))
        {
            throw error("-g " + name + ": goto needs a user-defined chain");
        }
        switch (name)
        {
            case "ACCEPT": noOptions(name, options); return new Target.Accept();
            case "DROP": noOptions(name, options); return new Target.Drop();
            case "RETURN": noOptions(name, options); return new Target.Return();
            case "REJECT":
            {
                String with = "icmp-port-unreachable";
                for (int i = 0; i < options.size(); i += 2)
                {
                    if (!"--reject-with".equals(options.get(i)) || i + 1 >= options.size())
                    {
                        throw error("-j REJECT: unsupported option '" + options.get(i) + "'");
                    }
                    with = options.get(i + 1);
                }
                return new Target.Reject(with);
            }
            case "DNAT":
            {
                int[] to = null;
                for (int i = 0; i < options.size(); i++)
                {
                    final String o = options.get(i);
                    if ("--to-destination".equals(o) && i + 1 < options.size())
                    {
                        to = natAddress(options.get(++i), "DNAT --to-destination");
                    }
                    else if (!"--random".equals(o) && !"--persistent".equals(o))
                    {
                        throw error("-j DNAT: unsupported option '" + o + "'");
                    }
                }
                if (to == null)
                {
                    throw error("-j DNAT needs --to-destination IP[:PORT]");
                }
                return new Target.Dnat(to[0], to[1]);
            }
            case "SNAT":
            {
                int[] to = null;
                boolean randomFully = false;
                for (int i = 0; i < options.size(); i++)
                {
                    final String o = options.get(i);
                    if ("--to-source".equals(o) && i + 1 < options.size())
                    {
                        to = natAddress(options.get(++i), "SNAT --to-source");
                    }
                    else if ("--random-fully".equals(o))
                    {
                        randomFully = true;
                    }
                    else if (!"--random".equals(o) && !"--persistent".equals(o))
                    {
                        throw error("-j SNAT: unsupported option '" + o + "'");
                    }
                }
                if (to == null)
                {
                    throw error("-j SNAT needs --to-source IP[:PORT]");
                }
                return new Target.Snat(to[0], to[1], randomFully);
            }
            case "MASQUERADE":
            {
                boolean randomFully = false;
                for (final String o : options)
                {
                    if ("--random-fully".equals(o))
                    {
                        randomFully = true;
                    }
                    else if (!"--random".equals(o))
                    {
                        throw error("-j MASQUERADE: unsupported option '" + o + "'");
                    }
                }
                return new Target.Masquerade(randomFully);
            }
            case "MARK":
            {
                if (options.size() != 2)
                {
                    throw error("-j MARK needs exactly one of --set-xmark, --set-mark, --or-mark, --and-mark, --xor-mark");
                }
                final String o = options.get(0);
                final long[] vm = valueMask(options.get(1), o);
                final int v = (int)vm[0];
                final int m = (int)vm[1];
                switch (o)
                {
                    case "--set-xmark": return new Target.MarkTarget(v, m);
                    case "--set-mark": return new Target.MarkTarget(v, m | v);
                    case "--or-mark": return new Target.MarkTarget(v, v);
                    case "--and-mark": return new Target.MarkTarget(0, ~v);
                    case "--xor-mark": return new Target.MarkTarget(v, 0);
                    default: throw error("-j MARK: unsupported option '" + o + "'");
                }
            }
            default:
                if (!options.isEmpty())
                {
                    throw error("-j " + name + ": unexpected '" + options.get(0) + "' (unknown target, or a chain with options)");
                }
                // a user chain; ChainEngine.compile checks that it exists (it may be declared after this rule)
                return new Target.Jump(name, goTo);
        }
    }

    private void noOptions(final String name, final List<String> options) throws RuleParseException
    {
        if (!options.isEmpty())
        {
            throw error("-j " + name + ": unexpected '" + options.get(0) + "'");
        }
    }

    private int[] natAddress(final String text, final String what) throws RuleParseException
    {
        final int colon = text.indexOf(':');
        final String ip = colon < 0 ? text : text.substring(0, colon);
        if (ip.contains("-"))
        {
            throw error(what + " " + text + ": address ranges are not supported");
        }
        final int address;
        try
        {
            address = Ipv4Address.parse(ip);
        }
        catch (final IllegalArgumentException ex)
        {
            throw error(what + ": " + ex.getMessage());
        }
        if (colon < 0)
        {
            return new int[]{address, -1};
        }
        final int[] range = portRange(text.substring(colon + 1).replace('-', ':'), what);
        if (range[0] != range[1])
        {
            throw error(what + " " + text + ": port ranges are not supported");
        }
        return new int[]{address, range[0]};
    }

    private Cidr cidr(final String text, final String option) throws RuleParseException
    {
        try
        {
            final int slash = text.indexOf('/');
            if (slash > 0 && text.indexOf('.', slash) > 0)
            {
                // dotted mask, e.g. 10.0.0.0/255.0.0.0
                final int mask = Ipv4Address.parse(text.substring(slash + 1));
                final int length = Integer.bitCount(mask);
                if (mask != Cidr.mask(length))
                {
                    throw new IllegalArgumentException("non-contiguous mask in '" + text + "'");
                }
                return new Cidr(Ipv4Address.parse(text.substring(0, slash)), length);
            }
            return Cidr.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw error(option + ": " + ex.getMessage());
        }
    }

    private int protocol(final String text) throws RuleParseException
    {
        switch (text.toLowerCase(Locale.ROOT))
        {
            case "all": case "0": return 0;
            case "tcp": return 6;
            case "udp": return 17;
            case "icmp": return 1;
            case "sctp": return 132;
            default:
                try
                {
                    final int n = Integer.parseInt(text);
                    if (n >= 0 && n <= 255)
                    {
                        return n;
                    }
                }
                catch (final NumberFormatException ignored)
                {
                    // fall through to the error
                }
                throw error("-p: unknown protocol '" + text + "'");
        }
    }

    private int[] portRange(final String text, final String option) throws RuleParseException
    {
        final int colon = text.indexOf(':');
        final int low = colon == 0 ? 0 : intValue(colon < 0 ? text : text.substring(0, colon), option, 0, 65535);
        final int high = colon < 0 ? low : colon == text.length() - 1 ? 65535
            : intValue(text.substring(colon + 1), option, 0, 65535);
        if (low > high)
        {
            throw error(option + " " + text + ": range low above high");
        }
        return new int[]{low, high};
    }

    private int intValue(final String text, final String option, final int min, final int max) throws RuleParseException
    {
        try
        {
            final long v = Long.parseLong(text);
            if (v < min || v > max)
            {
                throw error(option + " " + text + ": outside " + min + ".." + max);
            }
            return (int)v;
        }
        catch (final NumberFormatException ex)
        {
            throw error(option + " '" + text + "' is not a number");
        }
    }

    /** "0x4000/0x4000", "16384", "0x4000" (mask 0xffffffff). */
    private long[] valueMask(final String text, final String option) throws RuleParseException
    {
        final int slash = text.indexOf('/');
        final long value = unsigned32(slash < 0 ? text : text.substring(0, slash), option);
        final long mask = slash < 0 ? 0xFFFF_FFFFL : unsigned32(text.substring(slash + 1), option);
        return new long[]{value, mask};
    }

    private long unsigned32(final String text, final String option) throws RuleParseException
    {
        try
        {
            final long v = text.startsWith("0x") || text.startsWith("0X") ? Long.parseLong(text.substring(2), 16)
                : Long.parseLong(text);
            if (v < 0 || v > 0xFFFF_FFFFL)
            {
                throw error(option + " " + text + ": outside 32 bits");
            }
            return v;
        }
        catch (final NumberFormatException ex)
        {
            throw error(option + " '" + text + "' is not a number");
        }
    }

    private static String abbreviate(final String s)
    {
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
