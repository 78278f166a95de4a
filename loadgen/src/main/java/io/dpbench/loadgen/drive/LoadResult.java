package io.dpbench.loadgen.drive;

import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a load run measured. {@code sent} counts every frame the generator handed to the node (requests, backends'
 * answers, the last ACKs of TCP closes), {@code received} every frame the node sent back out; {@code countedDrops}
 * every frame dropped on the way with a counted reason, so {@code sent == received + countedDrops} when nothing is
 * lost silently. {@code backendChanged} (a flow's request reached another backend) and {@code untranslated} (a reply
 * reached its client from elsewhere than the Service's VIP:port) must be 0.
 */
public record LoadResult(LoadGenerator.Options options, long elapsedNanos, long sent, long received, long requests,
    long countedDrops, Map<String, Long> drops, long newFlows, long flowsCompleted, long backendChanged,
    long untranslated, long late, long timedOut, long unexpected, Histogram latency, long maxLagNanos)
{
    /**
     * sent == received + counted drops. Over the wire the node's own drops are in the node's counters
     * ({@code dpbench run --json}), so there this is {@code unaccounted() == the node's drops}, checked by the caller.
     */
    public boolean accountingHolds()
    {
        return sent == received + countedDrops;
    }

    /** Frames neither received nor dropped with a reason this side counted: the node's drops, over the wire. */
    public long unaccounted()
    {
        return sent - received - countedDrops;
    }

    public boolean wire()
    {
        return options.target() != null;
    }

    /** The summary as a JSON-ready map (rates, drops, latency percentiles in microseconds, the workload). */
    public Map<String, Object> summary()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final double seconds = elapsedNanos / 1e9;
        m.put("mode", options.mode());
        if ("ipvs".equals(options.mode()))
        {
            m.put("scheduler", options.scheduler());
        }
        m.put("workers", options.workers());
        m.put("rate_target_pps", options.ratePps());
        m.put("seconds", Math.round(seconds * 1000) / 1000.0);
        m.put("sent", sent);
        m.put("received", received);
        m.put("counted_drops", countedDrops);
        if (wire())
        {
            m.put("unaccounted", unaccounted()); // must equal the node's counted drops (dpbench run's "dropped")
        }
        else
        {
            m.put("accounting_holds", accountingHolds());
        }
        m.put("drops", drops);
        m.put("sent_pps", Math.round(sent / seconds));
        m.put("received_pps", Math.round(received / seconds));
        m.put("requests", requests);
        m.put("new_flows", newFlows);
        m.put("flows_completed", flowsCompleted);
        m.put("backend_changed", backendChanged);
        m.put("untranslated_replies", untranslated);
        m.put("late_replies", late);
        m.put("timed_out", timedOut);
        m.put("unexpected_frames", unexpected);
        if (options.ratePps() > 0)
        {
            m.put("max_send_lag_ms", Math.round(maxLagNanos / 1e4) / 100.0);
        }
        final Map<String, Object> l = new LinkedHashMap<>();
        l.put("count", latency.getTotalCount());
        for (final double p : new double[]{50, 90, 99, 99.9, 99.99, 100})
        {
            l.put("p" + (p == 100 ? "max" : (p == Math.rint(p) ? String.valueOf((int)p) : String.valueOf(p))),
                Math.round(latency.getValueAtPercentile(p) / 100.0) / 10.0);
        }
        l.put("warmup_seconds_left_out", options.warmupNanos() / 1_000_000_000L);
        m.put("latency_us", l);
        final Map<String, Object> w = new LinkedHashMap<>();
        w.put("services", options.workload().services());
        w.put("endpoints", options.workload().endpoints());
        w.put("seed", options.workload().seed());
        w.put("mix", options.workload().mix().name().toLowerCase(java.util.Locale.ROOT));
        w.put("nodes", options.workload().nodes());
        w.put("flows", options.workload().flows());
        w.put("new_flow_share", options.workload().newFlowShare());
        w.put("zipf", options.workload().zipf());
        w.put("size", options.workload().frameSize() == 0 ? "imix" : String.valueOf(options.workload().frameSize()));
        w.put("tcp_share", options.workload().tcpShare());
        m.put("workload", w);
        return m;
    }
}
