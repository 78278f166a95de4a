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
        if (out.decide(classifier.classifyNewFlow(ctx), ctx.dnatAddress, ctx.dnatPort) && (ctx.masquerade || ctx.snat))
        {
            out.sourceNatTo(ctx.snatAddress, ctx.snat ? ctx.snatPort : -1);
        }
    }

    @Override
    public String mode()
    {
        return "iptables";
    }
}
