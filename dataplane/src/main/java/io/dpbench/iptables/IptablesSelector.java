package io.dpbench.iptables;

import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;

/** iptables mode as a {@link NewFlowSelector}: a {@link Classifier} walk per new flow. */
public final class IptablesSelector implements NewFlowSelector
{
    private final Classifier classifier;
    private final FlowContext ctx = new FlowContext();

    public IptablesSelector(final Classifier classifier)
    {
        this.classifier = classifier;
    }

    @Override
    public void select(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort, final long nowNanos, final NewFlowDecision out)
    {
        out.reset();
        ctx.reset(protocol, sourceAddress, sourcePort, destinationAddress, destinationPort);
        ctx.nowNanos = nowNanos;
        switch (classifier.classifyNewFlow(ctx))
        {
            case Verdicts.DROP:
                out.verdict = NewFlowDecision.DROP;
                return;
            case Verdicts.REJECT:
                out.verdict = NewFlowDecision.REJECT;
                return;
            case Verdicts.DNAT:
                out.verdict = NewFlowDecision.DNAT;
                out.dnatAddress = ctx.dnatAddress;
                out.dnatPort = ctx.dnatPort;
                break;
            default:
                out.verdict = NewFlowDecision.ACCEPT;
                break;
        }
        if (ctx.masquerade || ctx.snat)
        {
            out.sourceNat = true;
            out.snatAddress = ctx.snatAddress;
            out.snatPort = ctx.snat ? ctx.snatPort : -1;
        }
    }

    @Override
    public String mode()
    {
        return "iptables";
    }
}
