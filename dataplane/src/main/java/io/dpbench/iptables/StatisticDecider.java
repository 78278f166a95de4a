package io.dpbench.iptables;

/**
 * Decides {@code -m statistic --mode random} outcomes. The dataplane uses the classifier's own seeded generator
 * (no decider); {@code trace} plugs in a scripted decider to follow every branch.
 */
public interface StatisticDecider
{
    /** True when the rule's statistic match matches; {@code threshold} is the kernel's 31-bit threshold. */
    boolean decide(int ruleIndex, long threshold);
}
