package io.dpbench.control;

import io.dpbench.conntrack.StaleUdpFlows;
import io.dpbench.model.ClusterChange;

import java.util.Locale;

/**
 * One {@link ClusterSync#apply}: the version it published (unchanged when nothing changed), how long it took on the
 * control thread (the diff, then building the workers' new state, up to the release store that publishes it), what
 * changed, what the backend did about it, the UDP conntrack cleanup the workers will run ({@code staleUdp}, null when
 * none), and the totals so far.
 *
 * @param backendWork iptables: rules rendered and compiled; IPVS: virtual services added, removed and replaced, real
 *                    servers added and removed
 */
public record SyncReport(long version, String mode, long durationNanos, long diffNanos, ClusterChange change,
    String backendWork, StaleUdpFlows staleUdp, SyncTotals totals)
{
    /** One line: version, duration, the change's summary, the backend's work. */
    public String summary()
    {
        return String.format(Locale.ROOT, "sync v%d (%s) %.3f ms (diff %.3f ms): %s; %s", version, mode,
            durationNanos / 1e6, diffNanos / 1e6, change.summary(), backendWork);
    }
}
