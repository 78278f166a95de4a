package io.dpbench.loadgen.report;

import io.dpbench.gate.JmhRun;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns a benchmark run's {@code jmh.json} into what a reader needs: {@code summary.md} (ns per new flow per N for
 * each mode (iptables, IPVS, nftables) with JMH's error, IPVS's and nftables' speedup over iptables, the iptables
 * slope from a least-squares fit, sync cost per mode, then every other benchmark) and {@code scaling.png} (log-log,
 * error bars, one line per mode).
 */
public final class ScalingReport
{
    static final String IPTABLES = "IptablesNewFlowBenchmark.classifyNewFlow";
    static final String IPVS = "IpvsNewFlowBenchmark.classifyNewFlow";
    static final String NFTABLES = "NftablesNewFlowBenchmark.classifyNewFlow";

    private ScalingReport()
    {
    }

    /** One mode's curve: N -> (score, error). */
    record Curve(String name, TreeMap<Integer, double[]> points)
    {
    }

    static List<Curve> curves(final JmhRun run)
    {
        final Map<String, Curve> byName = new TreeMap<>();
        for (final JmhRun.Result r : run.results().values())
        {
            final String services = r.paramMap().get("services");
            if (services == null)
            {
                continue;
            }
            final String mode;
            if (r.benchmark().endsWith(IPTABLES))
            {
                mode = "iptables";
            }
            else if (r.benchmark().endsWith(IPVS))
            {
                mode = "ipvs " + r.paramMap().getOrDefault("scheduler", "?");
            }
            else if (r.benchmark().endsWith(NFTABLES))
            {
                mode = "nftables";
            }
            else
            {
                continue;
            }
            final String name = mode + otherParams(r.paramMap());
            byName.computeIfAbsent(name, n -> new Curve(n, new TreeMap<>()))
                .points().put(Integer.parseInt(services), new double[]{r.score(), r.scoreError()});
        }
        return new ArrayList<>(byName.values());
    }

    /**
     * Parameters other than N and the scheduler, as " key=value" in name order, so that runs with a control (e.g.
     * IpvsNewFlowBenchmark's hot=10) draw their own curves instead of overwriting the main ones. hot=0 is the default
     * (all N Services) and names nothing.
     */
    static String otherParams(final Map<String, String> params)
    {
        final StringBuilder out = new StringBuilder();
        for (final Map.Entry<String, String> e : new TreeMap<>(params).entrySet())
        {
            final String key = e.getKey();
            if (!key.equals("services") && !key.equals("scheduler") && !(key.equals("hot") && e.getValue().equals("0")))
            {
                out.append(' ').append(key).append('=').append(e.getValue());
            }
        }
        return out.toString();
    }

    /** Least-squares slope of score over N (ns per added Service). */
    static double slope(final TreeMap<Integer, double[]> points)
    {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        final int n = points.size();
        for (final Map.Entry<Integer, double[]> e : points.entrySet())
        {
            final double x = e.getKey();
            final double y = e.getValue()[0];
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    public static void write(final JmhRun run, final Path folder) throws IOException
    {
        final List<Curve> curves = curves(run);
        Files.writeString(folder.resolve("summary.md"), summary(run, curves));
        if (!curves.isEmpty())
        {
            plot(curves, folder.resolve("scaling.png"));
        }
    }

    static String summary(final JmhRun run, final List<Curve> curves)
    {
        final StringBuilder sb = new StringBuilder("# Benchmark summary\n\n");
        if (!curves.isEmpty())
        {
            sb.append("## New-flow cost, ns per flow (JMH mean +- 99.9% error)\n\n| Services |");
            for (final Curve c : curves)
            {
                sb.append(' ').append(c.name()).append(" |");
            }
            final Curve iptables = curves.stream().filter(c -> c.name().equals("iptables")).findFirst().orElse(null);
            final List<Curve> faster = iptables == null ? List.of() : speedupCurves(curves);
            faster.forEach(f -> sb.append(" speedup (iptables / ").append(f.name()).append(") |"));
            sb.append("\n|---:|");
            curves.forEach(c -> sb.append("---:|"));
            faster.forEach(f -> sb.append("---:|"));
            sb.append('\n');
            final java.util.TreeSet<Integer> ns = new java.util.TreeSet<>();
            curves.forEach(c -> ns.addAll(c.points().keySet()));
            for (final int n : ns)
            {
                sb.append("| ").append(n).append(" |");
                for (final Curve c : curves)
                {
                    final double[] p = c.points().get(n);
                    sb.append(p == null ? " - |" : String.format(Locale.ROOT, " %.1f +- %.1f |", p[0], p[1]));
                }
                for (final Curve f : faster)
                {
                    final double[] a = iptables.points().get(n);
                    final double[] b = f.points().get(n);
                    sb.append(a == null || b == null ? " - |" : String.format(Locale.ROOT, " %.1fx |", a[0] / b[0]));
                }
                sb.append('\n');
            }
            if (iptables != null && iptables.points().size() >= 2)
            {
                final double slope = slope(iptables.points());
                sb.append(String.format(Locale.ROOT, "%niptables slope (least squares over N): %.3f ns per Service, "
                    + "i.e. %.3f ns per KUBE-SERVICES rule walked (a uniformly chosen Service is found half-way down)%n",
                    slope, 2 * slope));
            }
        }
        sb.append(newConnectionTable(run));
        sb.append(syncTable(run));
        sb.append(packetRateTable(run));
        sb.append("\n## All benchmarks\n\n| benchmark | params | score | error | unit |\n|---|---|---:|---:|---|\n");
        for (final JmhRun.Result r : run.results().values())
        {
            final String name = r.benchmark().startsWith("io.dpbench.bench.") ? r.benchmark().substring(17) : r.benchmark();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.4g | %.3g | %s |%n", name, r.params(), r.score(),
                r.scoreError(), r.unit()));
        }
        return sb.toString();
    }

    /**
     * The curves the summary gives a speedup over iptables for, one per mode the run has: IPVS with kube-proxy's
     * default scheduler, rr, and nftables without a control parameter, each when the run has it (else the mode's
     * first curve), so that a narrowed run (e.g. -p scheduler=mh) still gets its column.
     */
    static List<Curve> speedupCurves(final List<Curve> curves)
    {
        final List<Curve> out = new ArrayList<>();
        modeCurve(curves, "ipvs rr", "ipvs").ifPresent(out::add);
        modeCurve(curves, "nftables", "nftables").ifPresent(out::add);
        return out;
    }

    /** The curve named {@code name}, else the first of the mode (its name starts with {@code mode}). */
    private static Optional<Curve> modeCurve(final List<Curve> curves, final String name, final String mode)
    {
        return curves.stream().filter(c -> c.name().equals(name)).findFirst()
            .or(() -> curves.stream().filter(c -> c.name().startsWith(mode)).findFirst());
    }

    /**
     * A new connection end to end (NewConnectionBenchmark: parse, conntrack miss, selection, insert, NAT), in
     * microseconds, per mode and N Services (rows) and table fill (columns), beside the selection-only curves above.
     * Empty when the run has none.
     */
    static String newConnectionTable(final JmhRun run)
    {
        final Map<String, TreeMap<Integer, double[]>> rows = new TreeMap<>();
        final java.util.TreeSet<Integer> fills = new java.util.TreeSet<>();
        for (final JmhRun.Result r : run.results().values())
        {
            final Map<String, String> p = r.paramMap();
            final double toMicros = microsPer(r.unit());
            if (!r.benchmark().endsWith("NewConnectionBenchmark.newConnections") || Double.isNaN(toMicros)
                || p.get("fill") == null)
            {
                continue;
            }
            final int fill = Integer.parseInt(p.get("fill"));
            fills.add(fill);
            rows.computeIfAbsent(p.getOrDefault("mode", "?") + ", " + p.getOrDefault("services", "?") + " Services",
                k -> new TreeMap<>()).put(fill, new double[]{r.score() * toMicros, r.scoreError() * toMicros});
        }
        if (rows.isEmpty())
        {
            return "";
        }
        final StringBuilder sb = new StringBuilder(
            "\n## New connection end to end, microseconds per connection, by connections already in the table"
                + " (JMH mean +- 99.9% error)\n\n| mode, Services |");
        fills.forEach(f -> sb.append(String.format(Locale.ROOT, " %,d |", f)));
        sb.append("\n|---|");
        fills.forEach(f -> sb.append("---:|"));
        sb.append('\n');
        rows.forEach((row, byFill) ->
        {
            sb.append("| ").append(row).append(" |");
            for (final int f : fills)
            {
                final double[] v = byFill.get(f);
                sb.append(v == null ? " - |" : " " + micros(v[0]) + " +- " + micros(v[1]) + " |");
            }
            sb.append('\n');
        });
        return sb.toString();
    }

    /**
     * The cost of one endpoint change per N and mode, in microseconds: iptables mode's full sync (re-render, parse,
     * compile) and partial-sync text, IPVS mode's real-server change per scheduler, nftables mode's endpoint change
     * (NftablesSyncBenchmark). Empty when the run has none.
     */
    static String syncTable(final JmhRun run)
    {
        final Map<String, TreeMap<Integer, double[]>> columns = new TreeMap<>();
        for (final JmhRun.Result r : run.results().values())
        {
            final String services = r.paramMap().get("services");
            final String column;
            if (r.benchmark().endsWith("IptablesSyncBenchmark.iptablesFullSync"))
            {
                column = "iptables full sync";
            }
            else if (r.benchmark().endsWith("IptablesSyncBenchmark.iptablesPartialSyncText"))
            {
                column = "iptables partial sync (text)";
            }
            else if (r.benchmark().endsWith("IpvsSyncBenchmark.ipvsRemoveAddServer"))
            {
                column = "ipvs " + r.paramMap().getOrDefault("scheduler", "?");
            }
            else if (r.benchmark().endsWith("NftablesSyncBenchmark.nftablesEndpointChange"))
            {
                // any parameter besides N gets its own column rather than overwriting the main one
                column = "nftables" + otherParams(r.paramMap());
            }
            else
            {
                continue;
            }
            final double toMicros = microsPer(r.unit());
            if (services == null || Double.isNaN(toMicros))
            {
                continue;
            }
            columns.computeIfAbsent(column, c -> new TreeMap<>()).put(Integer.parseInt(services),
                new double[]{r.score() * toMicros, r.scoreError() * toMicros});
        }
        if (columns.isEmpty())
        {
            return "";
        }
        final StringBuilder sb = new StringBuilder("\n## Sync cost of one endpoint change, microseconds (JMH mean +- 99.9% error)\n\n| Services |");
        columns.keySet().forEach(c -> sb.append(' ').append(c).append(" |"));
        sb.append("\n|---:|");
        columns.keySet().forEach(c -> sb.append("---:|"));
        sb.append('\n');
        final java.util.TreeSet<Integer> ns = new java.util.TreeSet<>();
        columns.values().forEach(c -> ns.addAll(c.keySet()));
        for (final int n : ns)
        {
            sb.append("| ").append(n).append(" |");
            for (final TreeMap<Integer, double[]> c : columns.values())
            {
                final double[] p = c.get(n);
                sb.append(p == null ? " - |" : " " + micros(p[0]) + " +- " + micros(p[1]) + " |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * Per-packet benchmarks as a packet rate: the pipeline (established flows with encapsulation, per number of
     * workers) and the VXLAN stages alone (per frame size), ns per packet and Mpps (1,000 / ns). Empty when the run
     * has none.
     */
    static String packetRateTable(final JmhRun run)
    {
        final StringBuilder rows = new StringBuilder();
        for (final JmhRun.Result r : run.results().values())
        {
            final String what;
            if (r.benchmark().endsWith("PipelineBenchmark.established"))
            {
                what = "pipeline, established flows + encap, " + r.paramMap().getOrDefault("workers", "?") + " worker(s)";
            }
            else if (r.benchmark().contains("VxlanBenchmark."))
            {
                what = "vxlan " + r.benchmark().substring(r.benchmark().lastIndexOf('.') + 1) + ", size "
                    + r.paramMap().getOrDefault("size", "?");
            }
            else
            {
                continue;
            }
            final double toMicros = microsPer(r.unit());
            if (Double.isNaN(toMicros))
            {
                continue;
            }
            final double ns = r.score() * toMicros * 1000;
            rows.append(String.format(Locale.ROOT, "| %s | %.1f +- %.1f | %.2f |%n", what, ns,
                r.scoreError() * toMicros * 1000, 1000 / ns));
        }
        return rows.length() == 0 ? "" : "\n## Packet rate (JMH mean +- 99.9% error)\n\n| path | ns per packet | Mpps |\n"
            + "|---|---:|---:|\n" + rows;
    }

    /** Three significant digits below 100, whole numbers with thousands separators above. */
    static String micros(final double v)
    {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    /** Microseconds per unit of a JMH time-per-op score ("ns/op", "us/op", ...), NaN for other units. */
    static double microsPer(final String unit)
    {
        switch (unit)
        {
            case "ns/op": return 1e-3;
            case "us/op": return 1;
            case "ms/op": return 1e3;
            case "s/op": return 1e6;
            default: return Double.NaN;
        }
    }

    static void plot(final List<Curve> curves, final Path png) throws IOException
    {
        final XYChart chart = new XYChartBuilder().width(900).height(600)
            .title("New-flow cost vs Services (kube-proxy iptables, IPVS and nftables modes)")
            .xAxisTitle("Services (N, 4 endpoints each)").yAxisTitle("ns per new flow").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        for (final Curve c : curves)
        {
            final double[] x = new double[c.points().size()];
            final double[] y = new double[x.length];
            final double[] e = new double[x.length];
            int i = 0;
            for (final Map.Entry<Integer, double[]> p : c.points().entrySet())
            {
                x[i] = p.getKey();
                y[i] = p.getValue()[0];
                e[i] = Double.isNaN(p.getValue()[1]) ? 0 : Math.min(p.getValue()[1], 0.9 * p.getValue()[0]);
                i++;
            }
            final XYSeries series = chart.addSeries(c.name(), x, y, e);
            series.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.CIRCLE);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
