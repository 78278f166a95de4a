package io.dpbench.control;

import io.dpbench.model.ClusterChange;

/**
 * Everything a {@link ClusterSync} has applied since it was built: syncs (applies that changed something; a no-op
 * apply is counted in {@code noopSyncs}), their durations, and what they changed, in kube-proxy's units.
 */
public record SyncTotals(long syncs, long noopSyncs, long lastNanos, long maxNanos, long totalNanos,
    long servicePortsAdded, long servicePortsRemoved, long servicePortsUpdated, long endpointsAdded,
    long endpointsRemoved, long endpointsUpdated, long conntrackCleanups)
{
    static final SyncTotals NONE = new SyncTotals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    SyncTotals plus(final ClusterChange change, final long nanos, final boolean cleanup)
    {
        final boolean changed = !change.isEmpty();
        return new SyncTotals(syncs + (changed ? 1 : 0), noopSyncs + (changed ? 0 : 1), nanos, Math.max(maxNanos, nanos),
            totalNanos + nanos, servicePortsAdded + change.servicePortsAdded().size(),
            servicePortsRemoved + change.servicePortsRemoved().size(),
            servicePortsUpdated + change.servicePortsUpdated().size(), endpointsAdded + change.endpointsAdded(),
            endpointsRemoved + change.endpointsRemoved(), endpointsUpdated + change.endpointsUpdated(),
            conntrackCleanups + (cleanup ? 1 : 0));
    }
}
