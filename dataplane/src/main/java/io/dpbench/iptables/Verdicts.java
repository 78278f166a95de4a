package io.dpbench.iptables;

import io.dpbench.select.NewFlowDecision;

/** Outcome codes of {@link Classifier#classifyNewFlow}: {@link NewFlowDecision}'s. */
public final class Verdicts
{
    /** Accepted with no address translation. */
    public static final int ACCEPT = NewFlowDecision.ACCEPT;
    /** Accepted, destination translated ({@link FlowContext#dnatAddress}). */
    public static final int DNAT = NewFlowDecision.DNAT;
    public static final int DROP = NewFlowDecision.DROP;
    public static final int REJECT = NewFlowDecision.REJECT;

    private static final String[] NAMES = {"ACCEPT", "DNAT", "DROP", "REJECT"};

    private Verdicts()
    {
    }

    public static String name(final int verdict)
    {
        return NAMES[verdict];
    }
}
