package io.dpbench.iptables;

/**
 * An immutable, compiled rule set: every chain of the nat and filter tables as a contiguous run of
 * {@link CompiledRule}s, walked linearly by {@link Classifier}. Built once by {@link ChainEngine#compile}; safe to
 * share between threads (all per-packet state lives in the classifier).
 */
public final class CompiledRules
{
    static final int NO_CHAIN = -1;

    /**
     * The IP-header part of every rule packed contiguously, {@value #STRIDE} ints a rule, so that the linear walk
     * reads a compact array (as the kernel walks its contiguous ipt_entry blob) and touches a rule's
     * {@link CompiledRule} only when the header matched and the rule has more to check or a target to run.
     */
    static final int STRIDE = 8;
    static final int H_FLAGS = 0;
    static final int H_SOURCE = 1;
    static final int H_SOURCE_MASK = 2;
    static final int H_DESTINATION = 3;
    static final int H_DESTINATION_MASK = 4;
    static final int H_PROTOCOL = 5;
    static final int F_SOURCE = 1;
    static final int F_SOURCE_INVERT = 1 << 1;
    static final int F_DESTINATION = 1 << 2;
    static final int F_DESTINATION_INVERT = 1 << 3;
    static final int F_PROTOCOL = 1 << 4;
    static final int F_PROTOCOL_INVERT = 1 << 5;
    /** Interfaces or match modules: the rest of the check needs the CompiledRule. */
    static final int F_MORE = 1 << 6;

    final int[] header;

    final CompiledRule[] rules;
    final int[] chainStart;
    final int[] chainEnd;
    /** ACCEPT (0) or DROP (1) for built-in chains, -1 for user chains. */
    final int[] chainPolicy;
    final String[] chainName;
    final String[] chainTable;

    final int natPrerouting;
    final int natInput;
    final int natOutput;
    final int natPostrouting;
    final int filterInput;
    final int filterForward;
    final int filterOutput;

    /** Node addresses that {@code --dst-type LOCAL} matches (plus 127.0.0.0/8), sorted. */
    final int[] localAddresses;
    final int nthCounters;
    final String[] recentTables;
    /** {@link #recentTables} by name (never changed after construction, so shared by threads). */
    private final java.util.Map<String, Integer> recentTableIndex;
    final IpSets ipSets;
    final int ruleCount;

    CompiledRules(final CompiledRule[] rules, final int[] chainStart, final int[] chainEnd, final int[] chainPolicy,
        final String[] chainName, final String[] chainTable, final int[] hooks, final int[] localAddresses,
        final int nthCounters, final String[] recentTables, final IpSets ipSets)
    {
        this.rules = rules;
        this.chainStart = chainStart;
        this.chainEnd = chainEnd;
        this.chainPolicy = chainPolicy;
        this.chainName = chainName;
        this.chainTable = chainTable;
        this.natPrerouting = hooks[0];
        this.natInput = hooks[1];
        this.natOutput = hooks[2];
        this.natPostrouting = hooks[3];
        this.filterInput = hooks[4];
        this.filterForward = hooks[5];
        this.filterOutput = hooks[6];
        this.localAddresses = localAddresses;
        this.nthCounters = nthCounters;
        this.recentTables = recentTables;
        final java.util.HashMap<String, Integer> byName = new java.util.HashMap<>();
        for (int i = 0; i < recentTables.length; i++)
        {
            byName.put(recentTables[i], i);
        }
        this.recentTableIndex = byName;
        this.ipSets = ipSets;
        this.ruleCount = rules.length;
        this.header = new int[rules.length * STRIDE];
        for (int i = 0; i < rules.length; i++)
        {
            final CompiledRule r = rules[i];
            final int b = i * STRIDE;
            int flags = 0;
            if (r.hasSource)
            {
                flags |= F_SOURCE | (r.sourceInvert ? F_SOURCE_INVERT : 0);
                header[b + H_SOURCE] = r.sourceNetwork;
                header[b + H_SOURCE_MASK] = r.sourceMask;
            }
            if (r.hasDestination)
            {
                flags |= F_DESTINATION | (r.destinationInvert ? F_DESTINATION_INVERT : 0);
                header[b + H_DESTINATION] = r.destinationNetwork;
                header[b + H_DESTINATION_MASK] = r.destinationMask;
            }
            if (r.protocol != 0)
            {
                flags |= F_PROTOCOL | (r.protocolInvert ? F_PROTOCOL_INVERT : 0);
                header[b + H_PROTOCOL] = r.protocol;
            }
            if (r.inInterface != null || r.outInterface != null || r.ops.length > 0)
            {
                flags |= F_MORE;
            }
            header[b + H_FLAGS] = flags;
        }
    }

    public int ruleCount()
    {
        return ruleCount;
    }

    public int chainCount()
    {
        return chainName.length;
    }

    boolean isLocal(final int address)
    {
        if ((address >>> 24) == 127)
        {
            return true;
        }
        return java.util.Arrays.binarySearch(localAddresses, address) >= 0;
    }

    /** The index of the {@code -m recent} table of this name, or -1 when no rule names it. */
    int recentTableIndex(final String name)
    {
        final Integer i = recentTableIndex.get(name);
        return i == null ? -1 : i;
    }
}
