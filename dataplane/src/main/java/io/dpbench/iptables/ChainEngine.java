package io.dpbench.iptables;

import io.dpbench.model.RuleParseException;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a parsed {@link RuleSet} into {@link CompiledRules}: the nat and filter tables' chains laid out as runs
 * of rules, jumps resolved to chain indices, match modules turned into opcodes. Done once per rule set (a sync);
 * the packet path then only walks arrays.
 */
public final class ChainEngine
{
    private ChainEngine()
    {
    }

    /**
     * @param localAddresses the node's addresses (what {@code --dst-type LOCAL} matches, besides 127.0.0.0/8)
     * @param ipSets         contents of ipsets named by {@code -m set} (an unknown set matches nothing)
     */
    public static CompiledRules compile(final RuleSet set, final String source, final List<String> localAddresses,
        final IpSets ipSets) throws RuleParseException
    {
        final List<RuleSet.Chain> chains = new ArrayList<>();
        final List<String> tables = new ArrayList<>();
        final Map<String, Integer> chainIndex = new HashMap<>();
        for (final String tableName : new String[]{"nat", "filter"})
        {
            final RuleSet.Table table = set.table(tableName);
            if (table == null)
            {
                continue;
            }
            for (final RuleSet.Chain chain : table.chains())
            {
                chainIndex.put(tableName + "/" + chain.name(), chains.size());
                chains.add(chain);
                tables.add(tableName);
            }
        }

        final int n = chains.size();
        final int[] chainStart = new int[n];
        final int[] chainEnd = new int[n];
        final int[] chainPolicy = new int[n];
        final String[] chainName = new String[n];
        final String[] chainTable = new String[n];
        final List<CompiledRule> rules = new ArrayList<>();
        final Map<String, Integer> recentTables = new LinkedHashMap<>();
        int nthCounters = 0;
        for (int c = 0; c < n; c++)
        {
            final RuleSet.Chain chain = chains.get(c);
            chainName[c] = chain.name();
            chainTable[c] = tables.get(c);
            chainPolicy[c] = chain.policy() == null ? -1 : "DROP".equals(chain.policy()) ? 1 : 0;
            chainStart[c] = rules.size();
            int number = 1;
            for (final RuleSet.Rule rule : chain.rules())
            {
                final CompiledRule r = new CompiledRule();
                r.number = number++;
                r.chain = c;
                r.source = rule;
                final List<Integer> ops = new ArrayList<>();
                for (final Match m : rule.matches())
                {
                    if (m instanceof Match.Address a)
                    {
                        final int mask = a.prefixLength() == 0 ? 0 : -1 << (32 - a.prefixLength());
                        if (a.source())
                        {
                            r.hasSource = true;
                            r.sourceNetwork = a.network() & mask;
                            r.sourceMask = mask;
                            r.sourceInvert = a.invert();
                        }
                        else
                        {
                            r.hasDestination = true;
                            r.destinationNetwork = a.network() & mask;
                            r.destinationMask = mask;
                            r.destinationInvert = a.invert();
                        }
                    }
                    else if (m instanceof Match.ProtocolMatch p)
                    {
                        r.protocol = p.protocol();
                        r.protocolInvert = p.invert();
                    }
                    else if (m instanceof Match.Interface i)
                    {
                        if (i.input())
                        {
                            r.inInterface = i.name();
                            r.inInterfaceInvert = i.invert();
                        }
                        else
                        {
                            r.outInterface = i.name();
                            r.outInterfaceInvert = i.invert();
                        }
                    }
                    else if (m instanceof Match.Ports p)
                    {
                        r.sportLow = p.sportLow();
                        r.sportHigh = p.sportHigh();
                        r.sportInvert = p.sportInvert();
                        r.dportLow = p.dportLow();
                        r.dportHigh = p.dportHigh();
                        r.dportInvert = p.dportInvert();
                        ops.add(CompiledRule.OP_PORTS);
                    }
                    else if (m instanceof Match.Multiport mp)
                    {
                        r.multiportDirection = mp.direction();
                        r.multiportRanges = mp.ranges().clone();
                        r.multiportInvert = mp.invert();
                        ops.add(CompiledRule.OP_MULTIPORT);
                    }
                    else if (m instanceof Match.AddrType t)
                    {
                        r.sourceTypes = t.sourceTypes();
                        r.sourceTypesInvert = t.sourceInvert();
                        r.destinationTypes = t.destinationTypes();
                        r.destinationTypesInvert = t.destinationInvert();
                        ops.add(CompiledRule.OP_ADDRTYPE);
                    }
                    else if (m instanceof Match.Mark mk)
                    {
                        r.markValue = mk.value();
                        r.markMask = mk.mask();
                        r.markInvert = mk.invert();
                        ops.add(CompiledRule.OP_MARK);
                    }
                    else if (m instanceof Match.StatisticRandom s)
                    {
                        r.randomThreshold = s.threshold();
                        r.statisticInvert = s.invert();
                        ops.add(CompiledRule.OP_STATISTIC_RANDOM);
                    }
                    else if (m instanceof Match.StatisticNth s)
                    {
                        r.nthEvery = s.every();
                        r.nthPacket = s.packet();
                        r.statisticInvert = s.invert();
                        r.nthCounter = nthCounters++;
                        ops.add(CompiledRule.OP_STATISTIC_NTH);
                    }
                    else if (m instanceof Match.Recent rc)
                    {
                        r.recentTable = recentTables.computeIfAbsent(rc.name(), k -> recentTables.size());
                        r.recentCommand = rc.command();
                        r.recentInvert = rc.invert();
                        r.recentSecondsNanos = rc.seconds() * 1_000_000_000L;
                        r.recentRsource = rc.rsource();
                        r.recentMask = rc.mask();
                        ops.add(CompiledRule.OP_RECENT);
                    }
                    else if (m instanceof Match.Conntrack ct)
                    {
                        r.ctStates = ct.states();
                        r.ctInvert = ct.invert();
                        ops.add(CompiledRule.OP_CONNTRACK);
                    }
                    else if (m instanceof Match.IpSet s)
                    {
                        r.ipSet = ipSets.indexOf(s.name());
                        r.ipSetSource = s.sourceFlags().get(0);
                        r.ipSetInvert = s.invert();
                        ops.add(CompiledRule.OP_IPSET);
                    }
                    else if (m instanceof Match.Constant constant && !constant.result())
                    {
                        ops.add(CompiledRule.OP_CONSTANT_FALSE);
                    }
                    // Match.Comment, Match.Nfacct and a Constant that holds match every packet: nothing to evaluate
                }
                checkProtocol(rule, r, source);
                r.ops = ops.stream().mapToInt(Integer::intValue).toArray();
                target(r, rule, tables.get(c), chainIndex, source);
                rules.add(r);
            }
            chainEnd[c] = rules.size();
        }

        checkLoops(chains, tables, rules, chainStart, chainEnd, source);

        final int[] hooks = {
            chainIndex.getOrDefault("nat/PREROUTING", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("nat/INPUT", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("nat/OUTPUT", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("nat/POSTROUTING", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("filter/INPUT", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("filter/FORWARD", CompiledRules.NO_CHAIN),
            chainIndex.getOrDefault("filter/OUTPUT", CompiledRules.NO_CHAIN),
        };
        final int[] local = new int[localAddresses.size()];
        for (int i = 0; i < local.length; i++)
        {
            local[i] = Ipv4Address.parse(localAddresses.get(i));
        }
        Arrays.sort(local);
        return new CompiledRules(rules.toArray(new CompiledRule[0]), chainStart, chainEnd, chainPolicy, chainName,
            chainTable, hooks, local, nthCounters, recentTables.keySet().toArray(new String[0]), ipSets);
    }

    /**
     * Refuses jump and goto loops reachable from a built-in chain, as the kernel does when the rules are loaded
     * ({@code iptables-restore}: "RULE_APPEND failed (Too many links)" with the nf_tables backend, "line N failed"
     * with legacy): without this, a walk through such a set would never end. The error names the chains of the
     * cycle and the line of the rule that closes it. A loop that no built-in chain reaches is accepted, as the kernel
     * accepts it (no packet can enter it). Also refuses -j nesting deeper than the classifier's return stack
     * ({@value Classifier#MAX_DEPTH}; iptables-nft already refuses more than 16 levels, NFT_JUMP_STACK_SIZE).
     */
    private static void checkLoops(final List<RuleSet.Chain> chains, final List<String> tables,
        final List<CompiledRule> rules, final int[] chainStart, final int[] chainEnd, final String source)
        throws RuleParseException
    {
        final int n = chains.size();
        final int[][] edges = new int[n][];
        final int[][] edgeRule = new int[n][];
        for (int c = 0; c < n; c++)
        {
            int count = 0;
            for (int i = chainStart[c]; i < chainEnd[c]; i++)
            {
                count += isJumpOrGoto(rules.get(i)) ? 1 : 0;
            }
            edges[c] = new int[count];
            edgeRule[c] = new int[count];
            int e = 0;
            for (int i = chainStart[c]; i < chainEnd[c]; i++)
            {
                if (isJumpOrGoto(rules.get(i)))
                {
                    edges[c][e] = rules.get(i).targetChain;
                    edgeRule[c][e++] = i;
                }
            }
        }
        // iterative depth-first search; colour 0 unseen, 1 on the current path, 2 done (and its depth known)
        final byte[] colour = new byte[n];
        final int[] depth = new int[n]; // most -j levels below a finished chain
        final int[] stackChain = new int[n];
        final int[] stackEdge = new int[n];
        for (int root = 0; root < n; root++)
        {
            if (chains.get(root).policy() == null || colour[root] != 0)
            {
                continue; // user-defined chains are entered only from a built-in one
            }
            int top = 0;
            stackChain[0] = root;
            stackEdge[0] = 0;
            colour[root] = 1;
            while (top >= 0)
            {
                final int c = stackChain[top];
                if (stackEdge[top] < edges[c].length)
                {
                    final int e = stackEdge[top]++;
                    final int next = edges[c][e];
                    if (colour[next] == 1)
                    {
                        final StringBuilder cycle = new StringBuilder();
                        int k = 0;
                        while (stackChain[k] != next)
                        {
                            k++;
                        }
                        for (int j = k; j <= top; j++)
                        {
                            cycle.append(chains.get(stackChain[j]).name()).append(" -> ");
                        }
                        cycle.append(chains.get(next).name());
                        final CompiledRule closing = rules.get(edgeRule[c][e]);
                        throw new RuleParseException(source, closing.source.line(), "chain loop in table "
                            + tables.get(c) + ": " + cycle + " (reached from " + chains.get(root).name()
                            + "); the kernel refuses it at load (Too many links)");
                    }
                    if (colour[next] == 0)
                    {
                        colour[next] = 1;
                        stackChain[++top] = next;
                        stackEdge[top] = 0;
                    }
                    continue;
                }
                int d = 0;
                for (int e = 0; e < edges[c].length; e++)
                {
                    final boolean jump = rules.get(edgeRule[c][e]).target == CompiledRule.T_JUMP;
                    d = Math.max(d, depth[edges[c][e]] + (jump ? 1 : 0));
                }
                if (d > Classifier.MAX_DEPTH)
                {
                    throw new RuleParseException(source, chains.get(c).rules().isEmpty() ? 0
                        : chains.get(c).rules().get(0).line(), "-j nests " + d + " chains deep below "
                        + chains.get(c).name() + " in table " + tables.get(c) + "; dpbench walks at most "
                        + Classifier.MAX_DEPTH + " (iptables-nft refuses more than 16)");
                }
                depth[c] = d;
                colour[c] = 2;
                top--;
            }
        }
    }

    private static boolean isJumpOrGoto(final CompiledRule r)
    {
        return r.target == CompiledRule.T_JUMP || r.target == CompiledRule.T_GOTO;
    }

    /** iptables refuses -m tcp/udp/sctp and multiport without the matching -p (the kernel checks it at load). */
    private static void checkProtocol(final RuleSet.Rule rule, final CompiledRule r, final String source)
        throws RuleParseException
    {
        for (final Match m : rule.matches())
        {
            if (m instanceof Match.Ports p)
            {
                final int proto = "tcp".equals(p.module()) ? 6 : "udp".equals(p.module()) ? 17 : 132;
                if (r.protocol != proto || r.protocolInvert)
                {
                    throw new RuleParseException(source, rule.line(), "-m " + p.module() + " needs -p " + p.module());
                }
            }
            else if (m instanceof Match.Multiport && r.protocol != 6 && r.protocol != 17 && r.protocol != 132)
            {
                throw new RuleParseException(source, rule.line(), "-m multiport needs -p tcp, udp or sctp");
            }
        }
    }

    private static void target(final CompiledRule r, final RuleSet.Rule rule, final String table,
        final Map<String, Integer> chainIndex, final String source) throws RuleParseException
    {
        final Target t = rule.target();
        if (t instanceof Target.None)
        {
            r.target = CompiledRule.T_NONE;
        }
        else if (t instanceof Target.Jump j)
        {
            final Integer index = chainIndex.get(table + "/" + j.chain());
            if (index == null)
            {
                throw new RuleParseException(source, rule.line(), "-j " + j.chain() + ": no such chain in table "
                    + table + " (and not a target dpbench models)");
            }
            r.target = j.goTo() ? CompiledRule.T_GOTO : CompiledRule.T_JUMP;
            r.targetChain = index;
        }
        else if (t instanceof Target.Accept)
        {
            r.target = CompiledRule.T_ACCEPT;
        }
        else if (t instanceof Target.Drop)
        {
            r.target = CompiledRule.T_DROP;
        }
        else if (t instanceof Target.Return)
        {
            r.target = CompiledRule.T_RETURN;
        }
        else if (t instanceof Target.Reject rj)
        {
            r.target = CompiledRule.T_REJECT;
            r.rejectWith = rj.with();
        }
        else if (t instanceof Target.Dnat d)
        {
            requireTable(rule, table, "nat", "DNAT", source);
            r.target = CompiledRule.T_DNAT;
            r.natAddress = d.address();
            r.natPort = d.port();
        }
        else if (t instanceof Target.Snat s)
        {
            requireTable(rule, table, "nat", "SNAT", source);
            r.target = CompiledRule.T_SNAT;
            r.natAddress = s.address();
            r.natPort = s.port();
            r.randomFully = s.randomFully();
        }
        else if (t instanceof Target.Masquerade m)
        {
            requireTable(rule, table, "nat", "MASQUERADE", source);
            r.target = CompiledRule.T_MASQUERADE;
            r.randomFully = m.randomFully();
        }
        else if (t instanceof Target.MarkTarget m)
        {
            r.target = CompiledRule.T_MARK;
            r.xmarkValue = m.value();
            r.xmarkMask = m.mask();
        }
    }

    private static void requireTable(final RuleSet.Rule rule, final String table, final String required,
        final String target, final String source) throws RuleParseException
    {
        if (!required.equals(table))
        {
            throw new RuleParseException(source, rule.line(), "-j " + target + " is only valid in the " + required + " table");
        }
    }
}
