package io.dpbench.select;

/**
 * A proxy mode's decision for a new flow (the first packet of a connection, as netfilter's nat hooks and IPVS see
 * only those): iptables mode walks its chains, IPVS mode looks up its virtual service and schedules. Later packets
 * of the flow are translated from the connection-tracking entry and never come here. One instance per thread.
 */
public interface NewFlowSelector
{
    /** Decide for a new flow; {@code out} is reset and filled. */
    void select(int protocol, int sourceAddress, int sourcePort, int destinationAddress, int destinationPort,
        long nowNanos, NewFlowDecision out);

    /** "iptables", "ipvs" or "nftables". */
    String mode();
}
