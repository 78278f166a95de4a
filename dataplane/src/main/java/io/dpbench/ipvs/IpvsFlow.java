package io.dpbench.ipvs;

import io.dpbench.select.NewFlowDecision;

/**
 * A new flow's first packet for {@link IpvsClassifier}, and the outcome: the chosen server's address and port
 * directly (read from the virtual-service table's line), the service and server objects on demand. Reused; no
 * allocation.
 */
public final class IpvsFlow
{
    /** Outcome codes: {@link NewFlowDecision}'s. */
    public static final int ACCEPT = NewFlowDecision.ACCEPT;
    public static final int DNAT = NewFlowDecision.DNAT;
    public static final int DROP = NewFlowDecision.DROP;
    /** No available real server: IPVS answers ICMP port unreachable (ip_vs_leave), i.e. the client sees a reject. */
    public static final int REJECT = NewFlowDecision.REJECT;

    public int protocol;
    public int sourceAddress;
    public int sourcePort;
    public int destinationAddress;
    public int destinationPort;
    public long nowNanos;

    public int verdict;
    /** For DNAT: the real server's address, port and index in the service's list. */
    public int serverAddress;
    public int serverPort;
    public int serverIndex;
    public boolean masquerade;
    private VirtualServiceTable table;
    private int slot = -1;

    public IpvsFlow reset(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort)
    {
        this.protocol = protocol;
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        verdict = ACCEPT;
        serverAddress = 0;
        serverPort = 0;
        serverIndex = -1;
        masquerade = false;
        table = null;
        slot = -1;
        return this;
    }

    void matched(final VirtualServiceTable table, final int slot)
    {
        this.table = table;
        this.slot = slot;
    }

    /** The virtual service the flow matched, or null (read while the table is unchanged since the decision). */
    public VirtualService service()
    {
        return slot < 0 ? null : table.valueAt(slot);
    }

    /** The real server chosen (DNAT), or null; like {@link #service()}, valid until the service changes. */
    public RealServer server()
    {
        return serverIndex < 0 || slot < 0 ? null : table.valueAt(slot).destination(serverIndex);
    }

    public static String verdictName(final int verdict)
    {
        switch (verdict)
        {
            case DNAT: return "DNAT";
            case DROP: return "DROP";
            case REJECT: return "REJECT";
            default: return "ACCEPT";
        }
    }
}
