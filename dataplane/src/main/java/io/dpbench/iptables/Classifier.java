package io.dpbench.iptables;

/**
 * Walks a new flow's first packet through {@link CompiledRules} the way netfilter does: rule after rule, chain after
 * chain, through the hooks kube-proxy's rules hang off. Arriving traffic: nat PREROUTING, then filter INPUT (and
 * nat INPUT) when the possibly translated destination is a local address, else filter FORWARD, then nat
 * POSTROUTING. Traffic from the node itself (its source is a local address): nat OUTPUT, filter OUTPUT, nat
 * POSTROUTING. The cost therefore grows with the number of rules before the one that matches, as in Linux.
 * <p>
 * Per-thread state: the random generator of {@code -m statistic --mode random} (SplitMix64, seeded), the
 * {@code --mode nth} counters, and the {@code -m recent} tables (bounded at {@value #RECENT_ENTRIES} addresses
 * each, the kernel's default {@code ip_list_tot}, oldest evicted). Allocation-free. One thread only.
 */
public final class Classifier
{
    /** xt_recent's default ip_list_tot: addresses remembered per table. */
    public static final int RECENT_ENTRIES = 200;
    /** Deepest nesting of -j the walk keeps a return stack for; {@link ChainEngine#compile} refuses deeper sets. */
    static final int MAX_DEPTH = 64;

    private static final int CONTINUE = -1;
    private static final int ACCEPT_TABLE = -2;

    private final CompiledRules compiled;
    private final CompiledRule[] rules;
    private long randomState;
    private final long[] nthCount;
    private final int[][] recentAddress;
    private final long[][] recentStamp;
    private final int[] recentSize;
    private final int[] returnChain = new int[MAX_DEPTH];
    private final int[] returnRule = new int[MAX_DEPTH];
    private final int masqueradeAddress;

    private StatisticDecider decider;
    private TraceListener listener;

    /**
     * @param masqueradeAddress the address MASQUERADE translates to (the node's primary IP)
     */
    public Classifier(final CompiledRules compiled, final long seed, final int masqueradeAddress)
    {
        this.compiled = compiled;
        this.rules = compiled.rules;
        this.randomState = seed;
        this.masqueradeAddress = masqueradeAddress;
        nthCount = new long[compiled.nthCounters];
        final int tables = compiled.recentTables.length;
        recentAddress = new int[tables][RECENT_ENTRIES];
        recentStamp = new long[tables][RECENT_ENTRIES];
        recentSize = new int[tables];
        for (final CompiledRule r : rules)
        {
            if (r.ops.length > 0 && contains(r.ops, CompiledRule.OP_STATISTIC_NTH))
            {
                nthCount[r.nthCounter] = r.nthPacket;
            }
        }
    }

    /**
     * Take over the state a previous classifier of the same thread built up, when a rule set replaces another (a
     * sync): its random generator's position, and the addresses of every {@code -m recent} table whose name both rule
     * sets have (the kernel keeps an xt_recent table while some rule names it, so ClientIP affinity survives an
     * iptables-restore). {@code previous} must not be used afterwards: its tables now belong to this classifier.
     * Costs a map lookup per table; no copy of addresses.
     */
    public Classifier continueFrom(final Classifier previous)
    {
        randomState = previous.randomState;
        final String[] names = compiled.recentTables;
        for (int i = 0; i < names.length; i++)
        {
            final int j = previous.compiled.recentTableIndex(names[i]);
            if (j >= 0)
            {
                recentAddress[i] = previous.recentAddress[j];
                recentStamp[i] = previous.recentStamp[j];
                recentSize[i] = previous.recentSize[j];
            }
        }
        return this;
    }

    /** For trace: decide statistic branches from a script instead of the generator (null restores it). */
    public Classifier decider(final StatisticDecider decider)
    {
        this.decider = decider;
        return this;
    }

    public Classifier listener(final TraceListener listener)
    {
        this.listener = listener;
        return this;
    }

    public CompiledRules rules()
    {
        return compiled;
    }

    /** Classify a new flow; fills the context's results and returns {@link FlowContext#verdict}. */
    public int classifyNewFlow(final FlowContext ctx)
    {
        final CompiledRules c = compiled;
        ctx.locallyOriginated = c.isLocal(ctx.sourceAddress);
        int outcome;
        if (ctx.locallyOriginated)
        {
            outcome = traverse(c.natOutput, c.filterOutput, ctx);
        }
        else
        {
            outcome = traverse(c.natPrerouting, ctx);
            if (outcome < 0)
            {
                outcome = c.isLocal(ctx.destinationAddress) ? traverse(c.filterInput, c.natInput, ctx)
                    : traverse(c.filterForward, ctx);
            }
        }
        if (outcome < 0)
        {
            outcome = traverse(c.natPostrouting, ctx);
        }
        if (outcome == Verdicts.DROP || outcome == Verdicts.REJECT)
        {
            ctx.verdict = outcome;
        }
        else
        {
            ctx.verdict = ctx.dnat ? Verdicts.DNAT : Verdicts.ACCEPT;
        }
        return ctx.verdict;
    }

    /** Walk {@code first}, then, when the packet goes on, {@code then}: two chains of one hook, in netfilter's order. */
    private int traverse(final int first, final int then, final FlowContext ctx)
    {
        final int outcome = traverse(first, ctx);
        return outcome < 0 ? traverse(then, ctx) : outcome;
    }

    /**
     * Walk one hook's chain. Returns DROP or REJECT when the packet ends there, ACCEPT_TABLE-style negative values
     * when it goes on to the next hook.
     */
    private int traverse(final int startChain, final FlowContext ctx)
    {
        if (startChain == CompiledRules.NO_CHAIN)
        {
            return CONTINUE;
        }
        final CompiledRule[] all = rules;
        final int[] header = compiled.header;
        final int[] chainEnd = compiled.chainEnd;
        int depth = 0;
        int chain = startChain;
        int i = compiled.chainStart[chain];
        while (true)
        {
            if (i >= chainEnd[chain])
            {
                if (depth == 0)
                {
                    // end of the built-in chain: its policy
                    if (listener != null)
                    {
                        listener.policyApplied(compiled.chainTable[chain], compiled.chainName[chain],
                            compiled.chainPolicy[chain] == 1 ? "DROP" : "ACCEPT");
                    }
                    return compiled.chainPolicy[chain] == 1 ? Verdicts.DROP : CONTINUE;
                }
                depth--;
                chain = returnChain[depth];
                i = returnRule[depth];
                continue;
            }
            ctx.rulesEvaluated++;
            final int b = i * CompiledRules.STRIDE;
            final int flags = header[b];
            if (((flags & CompiledRules.F_DESTINATION) != 0
                && (((ctx.destinationAddress & header[b + CompiledRules.H_DESTINATION_MASK]) == header[b + CompiledRules.H_DESTINATION])
                == ((flags & CompiledRules.F_DESTINATION_INVERT) != 0)))
                || ((flags & CompiledRules.F_SOURCE) != 0
                && (((ctx.sourceAddress & header[b + CompiledRules.H_SOURCE_MASK]) == header[b + CompiledRules.H_SOURCE])
                == ((flags & CompiledRules.F_SOURCE_INVERT) != 0)))
                || ((flags & CompiledRules.F_PROTOCOL) != 0
                && ((ctx.protocol == header[b + CompiledRules.H_PROTOCOL]) == ((flags & CompiledRules.F_PROTOCOL_INVERT) != 0))))
            {
                i++;
                continue;
            }
            final CompiledRule r = all[i];
            if ((flags & CompiledRules.F_MORE) != 0 && !moreMatches(r, i, ctx))
            {
                i++;
                continue;
            }
            if (listener != null)
            {
                listener.ruleMatched(r.source, r.number);
            }
            switch (r.target)
            {
                case CompiledRule.T_NONE:
                    i++;
                    continue;
                case CompiledRule.T_MARK:
                    ctx.mark = (ctx.mark & ~r.xmarkMask) ^ r.xmarkValue;
                    i++;
                    continue;
                case CompiledRule.T_JUMP:
                    // ChainEngine.compile refused loops and nesting beyond MAX_DEPTH: the stack cannot overflow,
                    // and every walk ends (each goto or jump moves along an acyclic graph of chains)
                    returnChain[depth] = chain;
                    returnRule[depth] = i + 1;
                    depth++;
                    chain = r.targetChain;
                    i = compiled.chainStart[chain];
                    continue;
                case CompiledRule.T_GOTO:
                    chain = r.targetChain;
                    i = compiled.chainStart[chain];
                    continue;
                case CompiledRule.T_RETURN:
                    if (depth == 0)
                    {
                        return compiled.chainPolicy[chain] == 1 ? Verdicts.DROP : CONTINUE;
                    }
                    depth--;
                    chain = returnChain[depth];
                    i = returnRule[depth];
                    continue;
                case CompiledRule.T_ACCEPT:
                    return ACCEPT_TABLE;
                case CompiledRule.T_DROP:
                    return Verdicts.DROP;
                case CompiledRule.T_REJECT:
                    ctx.rejectWith = r.rejectWith;
                    return Verdicts.REJECT;
                case CompiledRule.T_DNAT:
                    ctx.dnat = true;
                    ctx.dnatAddress = r.natAddress;
                    ctx.dnatPort = r.natPort < 0 ? ctx.destinationPort : r.natPort;
                    ctx.destinationAddress = r.natAddress;
                    if (r.natPort >= 0)
                    {
                        ctx.destinationPort = r.natPort;
                    }
                    return ACCEPT_TABLE;
                case CompiledRule.T_SNAT:
                    ctx.snat = true;
                    ctx.snatAddress = r.natAddress;
                    ctx.snatPort = r.natPort;
                    return ACCEPT_TABLE;
                case CompiledRule.T_MASQUERADE:
                    ctx.masquerade = true;
                    ctx.snatAddress = masqueradeAddress;
                    return ACCEPT_TABLE;
                default:
                    throw new IllegalStateException("target " + r.target);
            }
        }
    }

    /** Everything past the IP header fields: interfaces and match modules, in rule order. */
    private boolean moreMatches(final CompiledRule r, final int index, final FlowContext ctx)
    {
        if (r.inInterface != null && interfaceMatches(r.inInterface, ctx.inInterface) == r.inInterfaceInvert)
        {
            return false;
        }
        if (r.outInterface != null && interfaceMatches(r.outInterface, ctx.outInterface) == r.outInterfaceInvert)
        {
            return false;
        }
        final int[] ops = r.ops;
        for (int k = 0; k < ops.length; k++)
        {
            if (!op(ops[k], r, index, ctx))
            {
                return false;
            }
        }
        return true;
    }

    private boolean op(final int op, final CompiledRule r, final int index, final FlowContext ctx)
    {
        switch (op)
        {
            case CompiledRule.OP_PORTS:
                if (r.sportLow >= 0 && inRange(ctx.sourcePort, r.sportLow, r.sportHigh) == r.sportInvert)
                {
                    return false;
                }
                return r.dportLow < 0 || inRange(ctx.destinationPort, r.dportLow, r.dportHigh) != r.dportInvert;
            case CompiledRule.OP_MULTIPORT:
            {
                final int[] ranges = r.multiportRanges;
                boolean hit = false;
                for (int k = 0; k < ranges.length && !hit; k += 2)
                {
                    hit = ((r.multiportDirection & 1) != 0 && inRange(ctx.sourcePort, ranges[k], ranges[k + 1]))
                        || ((r.multiportDirection & 2) != 0 && inRange(ctx.destinationPort, ranges[k], ranges[k + 1]));
                }
                return hit != r.multiportInvert;
            }
            case CompiledRule.OP_ADDRTYPE:
                if (r.sourceTypes != 0 && ((addressTypes(ctx.sourceAddress) & r.sourceTypes) != 0) == r.sourceTypesInvert)
                {
                    return false;
                }
                return r.destinationTypes == 0
                    || ((addressTypes(ctx.destinationAddress) & r.destinationTypes) != 0) != r.destinationTypesInvert;
            case CompiledRule.OP_MARK:
                return ((ctx.mark & r.markMask) == r.markValue) != r.markInvert;
            case CompiledRule.OP_STATISTIC_RANDOM:
            {
                final boolean hit = decider != null ? decider.decide(index, r.randomThreshold)
                    : (nextRandom31() < r.randomThreshold);
                return hit != r.statisticInvert;
            }
            case CompiledRule.OP_STATISTIC_NTH:
            {
                // xt_statistic: count advances 0..every-1 and wraps; the packet that wraps it to 0 matches
                final long count = nthCount[r.nthCounter];
                final long next = count == r.nthEvery - 1 ? 0 : count + 1;
                nthCount[r.nthCounter] = next;
                return (next == 0) != r.statisticInvert;
            }
            case CompiledRule.OP_RECENT:
                return recent(r, ctx) != r.recentInvert;
            case CompiledRule.OP_CONNTRACK:
                return ((ctx.ctState & r.ctStates) != 0) != r.ctInvert;
            case CompiledRule.OP_IPSET:
            {
                final boolean hit = r.ipSet >= 0 && compiled.ipSets.get(r.ipSet).contains(
                    r.ipSetSource ? ctx.sourceAddress : ctx.destinationAddress, ctx.protocol,
                    r.ipSetSource ? ctx.sourcePort : ctx.destinationPort);
                return hit != r.ipSetInvert;
            }
            case CompiledRule.OP_CONSTANT_FALSE:
                return false;
            default:
                throw new IllegalStateException("op " + op);
        }
    }

    /** xt_recent: check or update the table for the source (or destination) address. */
    private boolean recent(final CompiledRule r, final FlowContext ctx)
    {
        final int table = r.recentTable;
        final int address = (r.recentRsource ? ctx.sourceAddress : ctx.destinationAddress) & r.recentMask;
        final int[] addresses = recentAddress[table];
        final long[] stamps = recentStamp[table];
        final int size = recentSize[table];
        final long now = ctx.nowNanos;
        int found = -1;
        for (int k = 0; k < size; k++)
        {
            if (addresses[k] == address)
            {
                found = k;
                break;
            }
        }
        switch (r.recentCommand)
        {
            case Match.Recent.SET:
                if (found < 0)
                {
                    found = size < RECENT_ENTRIES ? recentSize[table]++ : oldest(stamps, size);
                    addresses[found] = address;
                }
                stamps[found] = now;
                return true;
            case Match.Recent.REMOVE:
                if (found < 0)
                {
                    return false;
                }
                addresses[found] = addresses[size - 1];
                stamps[found] = stamps[size - 1];
                recentSize[table]--;
                return true;
            default:
            {
                // RCHECK / UPDATE: seen, and within --seconds when given
                if (found < 0 || (r.recentSecondsNanos > 0 && now - stamps[found] > r.recentSecondsNanos))
                {
                    return false;
                }
                if (r.recentCommand == Match.Recent.UPDATE)
                {
                    stamps[found] = now;
                }
                return true;
            }
        }
    }

    private static int oldest(final long[] stamps, final int size)
    {
        int oldest = 0;
        for (int k = 1; k < size; k++)
        {
            if (stamps[k] < stamps[oldest])
            {
                oldest = k;
            }
        }
        return oldest;
    }

    private int addressTypes(final int address)
    {
        if (compiled.isLocal(address))
        {
            return AddressType.LOCAL;
        }
        if ((address >>> 28) == 0xE)
        {
            return AddressType.MULTICAST;
        }
        if (address == -1)
        {
            return AddressType.BROADCAST;
        }
        return AddressType.UNICAST;
    }

    private static boolean inRange(final int value, final int low, final int high)
    {
        return value >= low && value <= high;
    }

    private static boolean interfaceMatches(final String pattern, final String name)
    {
        final int last = pattern.length() - 1;
        if (last >= 0 && pattern.charAt(last) == '+')
        {
            return name.regionMatches(0, pattern, 0, last);
        }
        return pattern.equals(name);
    }

    /** The kernel's draw: get_random_u32() & 0x7FFFFFFF, here from SplitMix64. */
    private long nextRandom31()
    {
        long z = (randomState += 0x9E37_79B9_7F4A_7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        z ^= z >>> 31;
        return (z >>> 32) & 0x7FFF_FFFFL;
    }

    private static boolean contains(final int[] values, final int value)
    {
        for (final int v : values)
        {
            if (v == value)
            {
                return true;
            }
        }
        return false;
    }
}
