package io.dpbench.iptables;

/**
 * An immutable, compiled rule set: every chain of the nat and filter tables as a contiguous run of
 * {@link CompiledRule}s, walked linearly by {@link Classifier}. Built once by {@link ChainEngine#compile}; safe to
 * share between threads (all per-packet state lives in the classifier).
 */
public final class CompiledRules
{
    static final int NO_CHAIN = -1;

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
        this.ipSets = ipSets;
        this.ruleCount = rules.length;
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
}
