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
        switch (classifier.classifyNewFlow(flow))
        {
            case IpvsFlow.DROP:
                out.verdict = NewFlowDecision.DROP;
                return;
            case IpvsFlow.REJECT:
                out.verdict = NewFlowDecision.REJECT;
                return;
            case IpvsFlow.DNAT:
                out.verdict = NewFlowDecision.DNAT;
                out.dnatAddress = flow.serverAddress;
                out.dnatPort = flow.serverPort;
                flow.server().connectionStarted(); // ip_vs_bind_dest: the counters lc/wlc/sed/nq read
                break;
            default:
                out.verdict = NewFlowDecision.ACCEPT;
                break;
        }
        if (flow.masquerade)
        {
            out.sourceNat = true;
            out.snatAddress = masqueradeAddress;
        }
    }

    @Override
    public String mode()
    {
        return "ipvs";
    }
}
