package io.dpbench.ipvs;

import io.dpbench.packet.Ipv4Address;
import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;

/** IPVS mode as a {@link NewFlowSelector}: virtual-service lookup and scheduling per new flow. */
public final class IpvsSelector implements NewFlowSelector
{
    private final IpvsClassifier classifier;
    private final IpvsFlow flow = new IpvsFlow();
    private final int masqueradeAddress;

    public IpvsSelector(final IpvsProxier proxier)
    {
        this.classifier = new IpvsClassifier(proxier);
        this.masqueradeAddress = Ipv4Address.parse(proxier.node().primaryNodeIP());
    }

    @Override
    public void select(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort, final long nowNanos, final NewFlowDecision out)
    {
        out.reset();
        flow.reset(protocol, sourceAddress, sourcePort, destinationAddress, destinationPort);
        flow.nowNanos = nowNanos;
        final int outcome = classifier.classifyNewFlow(flow);
        if (!out.decide(outcome, flow.serverAddress, flow.serverPort))
        {
            return;
        }
        if (outcome == IpvsFlow.DNAT)
        {
            flow.server().connectionStarted(); // ip_vs_bind_dest: the counters lc/wlc/sed/nq read
        }
        if (flow.masquerade)
        {
            out.sourceNatTo(masqueradeAddress, -1);
        }
    }

    @Override
    public String mode()
    {
        return "ipvs";
    }
}
