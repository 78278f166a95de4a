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
}
