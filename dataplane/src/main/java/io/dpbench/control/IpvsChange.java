package io.dpbench.control;

import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.RealServer;
import io.dpbench.ipvs.VirtualService;

import java.util.List;

/**
 * One change to a worker's IPVS state, prepared on the control thread and carried out by the worker on its own
 * {@link IpvsProxier} (whose tables and scheduler state only that worker touches): what ipvsadm's add, edit and delete
 * commands do to the kernel's tables.
 */
sealed interface IpvsChange
{
    void applyTo(IpvsProxier proxier);

    /** ipvsadm -A (or a replacement): a virtual service built on the control thread for this worker alone. */
    record Install(VirtualService service, List<String> sourceRanges) implements IpvsChange
    {
        @Override
        public void applyTo(final IpvsProxier proxier)
        {
            proxier.install(service, sourceRanges);
        }
    }

    /** ipvsadm -D. */
    record Uninstall(int protocol, int address, int port) implements IpvsChange
    {
        @Override
        public void applyTo(final IpvsProxier proxier)
        {
            proxier.uninstall(protocol, address, port);
        }
    }

    /**
     * ipvsadm -a for each added server (in this order, each at the head of the list), then -d for each removed one
     * (packed by {@link IpvsProxier#server}), as kube-proxy's syncEndpoint adds new endpoints before deleting stale
     * ones. The service keeps its scheduler state (rr's cursor, the lc family's counters, persistence templates).
     */
    record Servers(int protocol, int address, int port, RealServer[] added, long[] removed) implements IpvsChange
    {
        @Override
        public void applyTo(final IpvsProxier proxier)
        {
            final VirtualService vs = proxier.table().find(protocol, address, port);
            if (vs == null)
            {
                // every worker replays the same changes in order, so the service is there; a missing one would mean
                // the control thread's view and the worker's table differ: fail loudly rather than drift
                throw new IllegalStateException("no virtual service " + protocol + "/" + address + ":" + port);
            }
            for (final RealServer server : added)
            {
                vs.addDestination(server);
            }
            for (final long server : removed)
            {
                vs.removeDestination((int)(server >>> 16), (int)server & 0xFFFF);
            }
        }
    }
}
