package io.dpbench.iptables;

/** Outcome codes of {@link Classifier#classifyNewFlow}. */
public final class Verdicts
{
    /** Accepted with no address translation. */
    public static final int ACCEPT = 0;
    /** Accepted, destination translated ({@link FlowContext#dnatAddress}). */
    public static final int DNAT = 1;
    public static final int DROP = 2;
    public static final int REJECT = 3;

    private static final String[] NAMES = {"ACCEPT", "DNAT", "DROP", "REJECT"};

    private Verdicts()
    {
    }

    public static String name(final int verdict)
    {
        return NAMES[verdict];
    }
}
