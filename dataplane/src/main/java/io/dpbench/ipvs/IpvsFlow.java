package io.dpbench.ipvs;

/** A new flow's first packet for {@link IpvsClassifier}, and the outcome. Reused; no allocation. */
public final class IpvsFlow
{
    public static final int ACCEPT = 0;
    public static final int DNAT = 1;
    public static final int DROP = 2;
    /** No available real server: IPVS answers ICMP port unreachable (ip_vs_leave), i.e. the client sees a reject. */
    public static final int REJECT = 3;

    public int protocol;
    public int sourceAddress;
    public int sourcePort;
    public int destinationAddress;
    public int destinationPort;
    public long nowNanos;

    public int verdict;
    public VirtualService service;
    public RealServer server;
    public boolean masquerade;

    public IpvsFlow reset(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort)
    {
        this.protocol = protocol;
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        verdict = ACCEPT;
        service = null;
        server = null;
        masquerade = false;
        return this;
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
