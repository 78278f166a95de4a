package io.dpbench.nftables;

import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;

/** nftables mode as a {@link NewFlowSelector}: one {@link NftEngine} walk per new flow. */
public final class NftablesSelector implements NewFlowSelector
{
    private final NftEngine engine;
    private final int masqueradeAddress;
    private final NftPacket packet = new NftPacket();

    public NftablesSelector(final NftEngine engine, final int masqueradeAddress)
    {
        this.engine = engine;
        this.masqueradeAddress = masqueradeAddress;
    }

    public NftEngine engine()
    {
        return engine;
    }

    @Override
    public void select(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort, final long nowNanos, final NewFlowDecision out)
    {
        out.reset();
        final NftPacket p = packet.reset(protocol, sourceAddress, sourcePort, destinationAddress, destinationPort);
        p.nowNanos = nowNanos;
        engine.classify(p);
        final int outcome = p.verdict == NftEngine.DROP ? NewFlowDecision.DROP
            : p.verdict == NftEngine.REJECT ? NewFlowDecision.REJECT
            : p.dnat ? NewFlowDecision.DNAT : NewFlowDecision.ACCEPT;
        if (out.decide(outcome, p.dnatAddress, p.dnatPort < 0 ? destinationPort : p.dnatPort) && p.masquerade)
        {
            out.sourceNatTo(masqueradeAddress, -1);
        }
    }

    @Override
    public String mode()
    {
        return "nftables";
    }
}
