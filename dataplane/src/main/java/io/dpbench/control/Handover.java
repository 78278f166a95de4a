package io.dpbench.control;

import io.dpbench.conntrack.StaleUdpFlows;
import io.dpbench.iptables.Classifier;
import io.dpbench.select.NewFlowSelector;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One sync's hand-over to one worker: a link of that worker's chain, appended by the control thread with a release
 * store of {@link #next} and followed by the worker with acquire loads, so that whatever the control thread built
 * before appending (a compiled rule set, classifiers, virtual services) is fully visible to the worker that reaches it.
 * After appending, the control thread never reads or writes what a link carries: the worker owns it.
 */
final class Handover
{
    private static final VarHandle NEXT;

    static
    {
        try
        {
            NEXT = MethodHandles.lookup().findVarHandle(Handover.class, "next", Handover.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final long version;
    /** iptables mode: the worker's new classifier and its selector; null in IPVS mode. */
    final Classifier classifier;
    final NewFlowSelector selector;
    /** IPVS mode: the changes to replay on the worker's proxier, in order; empty in iptables mode. */
    final IpvsChange[] ipvs;
    /** nftables mode: the transaction to apply to the worker's program copy; null otherwise. */
    io.dpbench.nftables.NftTransaction nftTransaction;
    /** kube-proxy's UDP conntrack cleanup for this sync, or null when it has none. */
    final StaleUdpFlows staleUdp;
    @SuppressWarnings("unused") // through NEXT
    private Handover next;

    Handover(final long version, final Classifier classifier, final NewFlowSelector selector, final IpvsChange[] ipvs,
        final StaleUdpFlows staleUdp)
    {
        this.version = version;
        this.classifier = classifier;
        this.selector = selector;
        this.ipvs = ipvs;
        this.staleUdp = staleUdp;
    }

    /** Control thread, before appending: the nftables transaction this link carries (resolved). */
    Handover nftables(final io.dpbench.nftables.NftTransaction transaction)
    {
        nftTransaction = transaction;
        return this;
    }

    /** Control thread: link the next sync (release: everything built before is visible to whoever sees the link). */
    void append(final Handover link)
    {
        NEXT.setRelease(this, link);
    }

    /** Worker thread: the next sync, or null. */
    Handover next()
    {
        return (Handover)NEXT.getAcquire(this);
    }
}
