package io.dpbench.iptables;

/**
 * A new flow's first packet as the chain engine sees it, and what the rules did to it. Reused per flow: call
 * {@link #reset} with the packet's fields, classify, read the results. No allocation.
 */
public final class FlowContext
{
    // inputs
    public int protocol;
    public int sourceAddress;
    public int sourcePort;
    public int destinationAddress;
    public int destinationPort;
    /** Input / output interface names ("" = unknown: {@code -i eth0} does not match, {@code ! -i eth0} does). */
    public String inInterface = "";
    public String outInterface = "";
    /** Conntrack state bits seen by {@code -m conntrack --ctstate} (a new flow: {@link CtState#NEW}). */
    public int ctState = CtState.NEW;
    /** Packet mark (skb->mark), 0 for a new packet. */
    public int mark;
    /** Clock for {@code -m recent}, nanoseconds. */
    public long nowNanos;

    // results
    public int verdict;
    /** True once a DNAT target translated the destination. */
    public boolean dnat;
    /** DNAT destination, valid when {@link #verdict} is {@link Verdicts#DNAT}; port -1 = unchanged. */
    public int dnatAddress;
    public int dnatPort;
    /** Source NAT: MASQUERADE (to the node's primary IP) or SNAT. */
    public boolean masquerade;
    public boolean snat;
    public int snatAddress;
    public int snatPort;
    public String rejectWith;
    /** True when the packet came from this node (starts at OUTPUT) rather than arriving (PREROUTING). */
    public boolean locallyOriginated;
    /** Rules whose matches were evaluated (the cost the benchmark measures). */
    public int rulesEvaluated;

    public FlowContext reset(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort)
    {
        this.protocol = protocol;
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        ctState = CtState.NEW;
        mark = 0;
        verdict = Verdicts.ACCEPT;
        dnat = false;
        dnatAddress = 0;
        dnatPort = -1;
        masquerade = false;
        snat = false;
        snatAddress = 0;
        snatPort = -1;
        rejectWith = null;
        rulesEvaluated = 0;
        return this;
    }
}
