package io.dpbench.select;

/**
 * What a backend decided for a new flow's first packet: the verdict, the DNAT destination, and whether the flow is
 * source-NATed (masqueraded to the node's address, or SNATed). Reused per flow; no allocation.
 */
public final class NewFlowDecision
{
    public static final int ACCEPT = 0;
    public static final int DNAT = 1;
    public static final int DROP = 2;
    public static final int REJECT = 3;

    public int verdict;
    public int dnatAddress;
    public int dnatPort;
    public boolean sourceNat;
    /** The source address after SNAT/MASQUERADE (valid when {@link #sourceNat}). */
    public int snatAddress;
    /** A fixed SNAT port, or -1 to let the NAT allocate one. */
    public int snatPort;

    public NewFlowDecision reset()
    {
        verdict = ACCEPT;
        dnatAddress = 0;
        dnatPort = -1;
        sourceNat = false;
        snatAddress = 0;
        snatPort = -1;
        return this;
    }

    /**
     * Take a backend's outcome: {@link #DROP} and {@link #REJECT} end the flow; {@link #DNAT} goes to
     * {@code address:port}; any other code is {@link #ACCEPT}. The backends' outcome codes are these values. Returns
     * whether the flow goes on (accepted, translated or not), that is whether source NAT may still apply.
     */
    public boolean decide(final int outcome, final int address, final int port)
    {
        switch (outcome)
        {
            case DROP:
            case REJECT:
                verdict = outcome;
                return false;
            case DNAT:
                verdict = DNAT;
                dnatAddress = address;
                dnatPort = port;
                return true;
            default:
                verdict = ACCEPT;
                return true;
        }
    }

    /** The flow is source-NATed to {@code address}, on {@code port} or, when it is -1, on a port the NAT allocates. */
    public void sourceNatTo(final int address, final int port)
    {
        sourceNat = true;
        snatAddress = address;
        snatPort = port;
    }
}
