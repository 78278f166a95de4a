package io.dpbench.loadgen.soak;

import io.dpbench.loadgen.drive.LoadResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * What a soak found: the accounting per segment, the bindings across the restart, and per node process (segment) the
 * growth after its warm-up: the median of the first minute after the warm-up against the median of the segment's
 * last minute (a third of what is left after the warm-up when that is shorter), for anonymous RSS and heap after GC
 * (at most {@link SoakOptions#growthLimitPercent()}) and descriptors (no growth). A segment too short to leave two
 * windows of 3 samples after its warm-up is reported as not evaluated.
 */
public record SoakResult(boolean passed, List<String> failures, Map<String, Object> summary, List<SoakDriver.Sample> samples,
    double killedAt, double resumedAt)
{
    static SoakResult of(final SoakOptions options, final int port, final List<SoakDriver.Sample> samples,
        final Map<String, Object> accounting, final Map<String, Object> restart, final LoadResult load,
        final long retransmissions, final double killedAt, final double resumedAt)
    {
        final List<String> failures = new ArrayList<>();
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("minutes", options.minutes());
        m.put("mode", options.mode());
        m.put("rate_requests_per_s", options.rate());
        m.put("port", port);
        final Map<String, Object> w = new LinkedHashMap<>();
        w.put("services", options.services());
        w.put("endpoints", options.endpoints());
        w.put("seed", options.seed());
        w.put("mix", options.mix());
        w.put("nodes", options.nodes());
        w.put("workers", options.workers());
        w.put("flows", options.flows());
        w.put("new_flow_share", options.newFlowShare());
        w.put("tcp_share", options.tcpShare());
        w.put("max_conntrack", options.maxConntrack());
        w.put("node_jvm_options", options.nodeJvmOptions());
        m.put("workload", w);
        m.put("warmup_seconds", options.warmupSeconds());
        m.put("growth_limit_percent", options.growthLimitPercent());
        accounting.forEach((name, value) ->
        {
            if (value instanceof Map<?, ?> section && Boolean.FALSE.equals(section.get("holds")))
            {
                failures.add("accounting of " + name + " does not hold: " + section);
            }
        });
        m.put("accounting", accounting);
        if (options.kill())
        {
            m.put("kill_restart", restart);
            if (!Boolean.TRUE.equals(restart.get("holds")))
            {
                failures.add("established bindings across the restart: " + restart);
            }
        }
        final Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("backend_changed", load.backendChanged());
        checks.put("untranslated_replies", load.untranslated());
        checks.put("unexpected_frames", load.unexpected());
        checks.put("retransmissions", retransmissions);
        checks.put("late_replies", load.late());
        checks.put("requests", load.requests());
        checks.put("flows_completed", load.flowsCompleted());
        checks.put("sent_pps", Math.round(load.sent() / (load.elapsedNanos() / 1e9)));
        checks.put("received_pps", Math.round(load.received() / (load.elapsedNanos() / 1e9)));
        checks.put("max_send_lag_ms", Math.round(load.maxLagNanos() / 1e4) / 100.0);
        m.put("load", checks);
        if (load.backendChanged() != 0 || load.untranslated() != 0)
        {
            failures.add("a flow changed backend (" + load.backendChanged() + ") or a reply was untranslated ("
                + load.untranslated() + ")");
        }
        final Map<String, Object> growth = new LinkedHashMap<>();
        final int segments = options.kill() ? 2 : 1;
        for (int s = 1; s <= segments; s++)
        {
            final int segment = s;
            final List<SoakDriver.Sample> up = samples.stream().filter(x -> x.segment() == segment && x.pid() > 0
                && (x.phase() == SoakDriver.Phase.SEGMENT_1 || x.phase() == SoakDriver.Phase.SEGMENT_2)).toList();
            final Map<String, Object> g = new LinkedHashMap<>();
            growth.put("segment_" + s, g);
            if (up.isEmpty())
            {
                g.put("evaluated", false);
                continue;
            }
            final double begin = s == 1 ? 0 : resumedAt;
            final double from = begin + options.warmupSeconds();
            final List<SoakDriver.Sample> after = up.stream().filter(x -> x.t() >= from).toList();
            g.put("node_pid", up.get(0).pid());
            g.put("from_s", Math.round(from));
            g.put("to_s", Math.round(up.get(up.size() - 1).t()));
            g.put("rss_anon_kib_first_sample", up.get(0).process().rssAnonKib());
            g.put("rss_anon_kib_last_sample", up.get(up.size() - 1).process().rssAnonKib());
            g.put("rss_file_kib_last_sample", up.get(up.size() - 1).process().rssFileKib());
            g.put("conntrack_last_sample", up.get(up.size() - 1).conntrack());
            final int window = (int)Math.min(60, after.size() / 3);
            if (window < 3)
            {
                g.put("evaluated", false);
                g.put("why", "too short: " + after.size() + " samples after the warm-up");
                continue;
            }
            g.put("evaluated", true);
            g.put("window_samples", window);
            final List<SoakDriver.Sample> first = after.subList(0, window);
            final List<SoakDriver.Sample> last = after.subList(after.size() - window, after.size());
            percentCheck(g, "rss_anon_kib", first, last, x -> x.process().rssAnonKib(), options.growthLimitPercent(),
                failures, s);
            percentCheck(g, "heap_after_gc_bytes", first, last, SoakDriver.Sample::heapAfterGc,
                options.growthLimitPercent(), failures, s);
            final long fdFirst = median(first, x -> x.process().fds());
            final long fdLast = median(last, x -> x.process().fds());
            final Map<String, Object> fd = new LinkedHashMap<>();
            fd.put("first", fdFirst);
            fd.put("last", fdLast);
            fd.put("max", last.stream().mapToLong(x -> x.process().fds()).max().orElse(-1));
            fd.put("holds", fdLast <= fdFirst);
            g.put("fds", fd);
            if (fdLast > fdFirst)
            {
                failures.add("segment " + s + ": descriptors grew from " + fdFirst + " to " + fdLast);
            }
            final Map<String, Object> info = new LinkedHashMap<>();
            info.put("first", median(first, x -> x.process().rssFileKib()));
            info.put("last", median(last, x -> x.process().rssFileKib()));
            g.put("rss_file_kib (not checked: the table's mapped file)", info);
            final Map<String, Object> ct = new LinkedHashMap<>();
            ct.put("first", median(first, SoakDriver.Sample::conntrack));
            ct.put("last", median(last, SoakDriver.Sample::conntrack));
            g.put("conntrack_entries (not checked)", ct);
        }
        m.put("growth", growth);
        m.put("passed", failures.isEmpty());
        m.put("failures", failures);
        return new SoakResult(failures.isEmpty(), List.copyOf(failures), m, samples, killedAt, resumedAt);
    }

    private static void percentCheck(final Map<String, Object> g, final String name, final List<SoakDriver.Sample> first,
        final List<SoakDriver.Sample> last, final ToLongFunction<SoakDriver.Sample> f, final double limit,
        final List<String> failures, final int segment)
    {
        final long a = median(first, f);
        final long b = median(last, f);
        final double percent = a > 0 ? 100.0 * (b - a) / a : Double.NaN;
        final Map<String, Object> c = new LinkedHashMap<>();
        c.put("first_minute_median", a);
        c.put("last_minute_median", b);
        c.put("growth_percent", Double.isNaN(percent) ? null : Math.round(percent * 100) / 100.0);
        final boolean holds = a > 0 && percent < limit;
        c.put("holds", holds);
        g.put(name, c);
        if (!holds)
        {
            failures.add("segment " + segment + ": " + name + " grew " + (Double.isNaN(percent) ? "(no data)"
                : String.format(java.util.Locale.ROOT, "%.2f%%", percent)) + " (" + a + " -> " + b + ")");
        }
    }

    /** The median of the values at or above 0 (-1 marks a missing value); -1 when none. */
    static long median(final List<SoakDriver.Sample> samples, final ToLongFunction<SoakDriver.Sample> f)
    {
        final long[] v = samples.stream().mapToLong(f).filter(x -> x >= 0).sorted().toArray();
        return v.length == 0 ? -1 : v[v.length / 2];
    }
}
