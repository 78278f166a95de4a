package io.dpbench.iptables;

import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Walks one packet through compiled rules for {@code trace}, following every branch of every
 * {@code -m statistic --mode random} rule (as kube-proxy's own test tracer does), and reports each branch: the rules
 * that matched, chain by chain, and what happened. A control-plane tool: it allocates freely.
 */
public final class Tracer
{
    /**
     * Default for the most branches explored before stopping (a rule set with more random choices per packet is
     * pathological: sixty chains that each jump on a statistic match have 2^60 ways through). A trace that stops
     * there says so ({@link Result#truncated()}).
     */
    public static final int MAX_BRANCHES = 100_000;

    private Tracer()
    {
    }

    /** One way through the rules. {@code probability} is the product of the random choices taken. */
    public record Branch(String verdict, String destination, boolean masquerade, List<String> path, double probability)
    {
    }

    /**
     * Everything that can happen to the packet.
     *
     * @param verdict      DNAT, ACCEPT, DROP or REJECT; when branches differ, the first of DROP, REJECT, DNAT, ACCEPT
     *                     that some branch reaches
     * @param destinations sorted, distinct ip:port after NAT over all branches (the original destination for ACCEPT
     *                     without DNAT; none for DROP/REJECT)
     * @param masquerade   true when any branch masquerades (or SNATs)
     * @param path         every rule that matched on some branch, in first-seen order, as "TABLE CHAIN n: rule"
     *                     (the rule as iptables-save prints it)
     * @param truncated    true when the trace stopped at its branch cap: other branches exist and were not explored,
     *                     so the verdict, destinations and path cover only the branches listed
     */
    public record Result(String verdict, List<String> destinations, boolean masquerade, List<String> path,
        List<Branch> branches, boolean locallyOriginated, boolean truncated)
    {
    }

    public static Result trace(final CompiledRules rules, final int masqueradeAddress, final int protocol,
        final int source, final int sourcePort, final int destination, final int destinationPort, final long nowNanos)
    {
        return trace(rules, masqueradeAddress, protocol, source, sourcePort, destination, destinationPort, nowNanos,
            MAX_BRANCHES);
    }

    /** As above, exploring at most {@code maxBranches} branches (at least 1). */
    public static Result trace(final CompiledRules rules, final int masqueradeAddress, final int protocol,
        final int source, final int sourcePort, final int destination, final int destinationPort, final long nowNanos,
        final int maxBranches)
    {
        if (maxBranches < 1)
        {
            throw new IllegalArgumentException("maxBranches " + maxBranches + " < 1");
        }
        final List<Branch> branches = new ArrayList<>();
        final ScriptedDecider decider = new ScriptedDecider();
        final PathRecorder recorder = new PathRecorder();
        final FlowContext ctx = new FlowContext();
        boolean local = false;
        boolean truncated = false;
        while (true)
        {
            // a fresh classifier per branch: -m recent tables and nth counters must not leak between branches
            final Classifier classifier = new Classifier(rules, 1, masqueradeAddress).decider(decider).listener(recorder);
            decider.startRun();
            recorder.path.clear();
            ctx.reset(protocol, source, sourcePort, destination, destinationPort);
            ctx.nowNanos = nowNanos;
            classifier.classifyNewFlow(ctx);
            local = ctx.locallyOriginated;
            final String verdict = Verdicts.name(ctx.verdict);
            final String dest = ctx.verdict == Verdicts.DROP || ctx.verdict == Verdicts.REJECT ? null
                : Ipv4Address.toString(ctx.destinationAddress) + ":" + ctx.destinationPort;
            branches.add(new Branch(verdict, dest, ctx.masquerade || ctx.snat, List.copyOf(recorder.path),
                decider.probability()));
            if (!decider.nextScript())
            {
                break;
            }
            if (branches.size() >= maxBranches)
            {
                truncated = true;
                break;
            }
        }
        final Set<String> destinations = new TreeSet<>();
        final Set<String> path = new LinkedHashSet<>();
        boolean masquerade = false;
        String verdict = null;
        for (final Branch b : branches)
        {
            if (b.destination() != null)
            {
                destinations.add(b.destination());
            }
            path.addAll(b.path());
            masquerade |= b.masquerade();
            verdict = verdict == null || rank(b.verdict()) < rank(verdict) ? b.verdict() : verdict;
        }
        return new Result(verdict, List.copyOf(destinations), masquerade, List.copyOf(path), branches, local, truncated);
    }

    private static int rank(final String verdict)
    {
        switch (verdict)
        {
            case "DROP": return 0;
            case "REJECT": return 1;
            case "DNAT": return 2;
            default: return 3;
        }
    }

    /** Depth-first enumeration of statistic outcomes: each run follows the script, then "no match" beyond it. */
    private static final class ScriptedDecider implements StatisticDecider
    {
        private final List<Boolean> script = new ArrayList<>();
        private final List<Boolean> taken = new ArrayList<>();
        private final List<Boolean> forced = new ArrayList<>();
        private double probability;

        void startRun()
        {
            taken.clear();
            forced.clear();
            probability = 1.0;
        }

        @Override
        public boolean decide(final int ruleIndex, final long threshold)
        {
            final int k = taken.size();
            final boolean always = threshold >= 0x8000_0000L;
            final boolean never = threshold <= 0;
            final boolean choice = always || (!never && k < script.size() && script.get(k));
            taken.add(choice);
            forced.add(always || never);
            final double p = Math.min(1.0, threshold / (double)0x8000_0000L);
            probability *= choice ? p : 1.0 - p;
            return choice;
        }

        double probability()
        {
            return probability;
        }

        /** Next script: flip the last free "no match" to "match"; false when every branch was explored. */
        boolean nextScript()
        {
            for (int k = taken.size() - 1; k >= 0; k--)
            {
                if (!taken.get(k) && !forced.get(k))
                {
                    script.clear();
                    script.addAll(taken.subList(0, k));
                    script.add(true);
                    return true;
                }
            }
            return false;
        }
    }

    private static final class PathRecorder implements TraceListener
    {
        final List<String> path = new ArrayList<>();
        /** Each rule's text formatted once: a trace of many branches meets the same rules again and again. */
        private final Map<RuleSet.Rule, String> text = new IdentityHashMap<>();

        @Override
        public void ruleMatched(final RuleSet.Rule rule, final int ruleNumber)
        {
            path.add(text.computeIfAbsent(rule,
                r -> r.table() + " " + r.chain() + " " + ruleNumber + ": " + IptablesSaveFormat.rule(r)));
        }

        @Override
        public void policyApplied(final String table, final String chain, final String policy)
        {
            // policies are not rules; the human output shows them from the branch verdict
        }
    }
}
