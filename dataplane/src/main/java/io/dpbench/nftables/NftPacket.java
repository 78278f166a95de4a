package io.dpbench.nftables;

/**
 * A new flow's first packet as the nftables evaluator sees it, and what the ruleset did to it. Reused per flow:
 * {@link #reset} with the packet's fields, evaluate, read the results. No allocation.
 */
public final class NftPacket
{
    /** ct state bits as nft names them (new, established, related, invalid, untracked). */
    public static final int CT_INVALID = 1;
    public static final int CT_ESTABLISHED = 2;
    public static final int CT_RELATED = 4;
    public static final int CT_NEW = 8;
    public static final int CT_UNTRACKED = 64;

    // inputs
    public int protocol;
    public int sourceAddress;
    public int sourcePort;
    public int destinationAddress;
    public int destinationPort;
    public int ctState = CT_NEW;
    public int mark;
    public long nowNanos;
    /** The packet comes from this node (its source is a node address): it starts at the output hook. */
    public boolean locallyOriginated;

    // results
    /** {@link NftEngine#ACCEPT}, {@link NftEngine#DROP} or {@link NftEngine#REJECT}. */
    public int verdict;
    public boolean dnat;
    public int dnatAddress;
    /** -1: the destination port is kept. */
    public int dnatPort;
    public boolean masquerade;
    /** Rules whose expressions were evaluated (the work a new flow cost). */
    public int rulesEvaluated;

    public NftPacket reset(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort)
    {
        this.protocol = protocol;
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        ctState = CT_NEW;
        mark = 0;
        verdict = NftEngine.ACCEPT;
        dnat = false;
        dnatAddress = 0;
        dnatPort = -1;
        masquerade = false;
        rulesEvaluated = 0;
        return this;
    }
}
