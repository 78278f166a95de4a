package io.dpbench.iptables;

/** Told about each rule that matched (its matches all held), in evaluation order. For {@code trace}. */
public interface TraceListener
{
    void ruleMatched(RuleSet.Rule rule, int ruleNumber);

    /** A built-in chain ended without a verdict rule and its policy applied. */
    void policyApplied(String table, String chain, String policy);
}
