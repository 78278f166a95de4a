package io.dpbench.loadgen.report;

import io.dpbench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

class ScalingReportTest
{
    @TempDir
    Path dir;

    @Test
    void summaryAndPlotFromAKnownRun() throws Exception
    {
        // iptables: 100 + 2 ns per Service; IPVS rr: a flat 20 ns; nftables: a flat 50 ns
        final StringBuilder json = new StringBuilder("[");
        final int[] ns = {10, 1000, 10000, 50000};
        for (int i = 0; i < ns.length; i++)
        {
            json.append(i == 0 ? "" : ",").append(result("io.dpbench.bench.iptables.IptablesNewFlowBenchmark.classifyNewFlow",
                "{\"services\":\"" + ns[i] + "\"}", 100 + 2.0 * ns[i]));
            json.append(',').append(result("io.dpbench.bench.ipvs.IpvsNewFlowBenchmark.classifyNewFlow",
                "{\"hot\":\"0\",\"scheduler\":\"rr\",\"services\":\"" + ns[i] + "\"}", 20));
            // the hot-set control draws its own curve, never overwriting the main one
            json.append(',').append(result("io.dpbench.bench.ipvs.IpvsNewFlowBenchmark.classifyNewFlow",
                "{\"hot\":\"10\",\"scheduler\":\"rr\",\"services\":\"" + ns[i] + "\"}", 15));
            json.append(',').append(result("io.dpbench.bench.nftables.NftablesNewFlowBenchmark.classifyNewFlow",
                "{\"services\":\"" + ns[i] + "\"}", 50));
        }
        json.append(',').append(result("io.dpbench.bench.sync.IptablesSyncBenchmark.iptablesFullSync",
            "{\"services\":\"10\"}", 300_000));
        json.append(',').append(result("io.dpbench.bench.sync.IpvsSyncBenchmark.ipvsRemoveAddServer",
            "{\"scheduler\":\"rr\",\"services\":\"10\"}", 50));
        // nftables' sync at an N the others lack: its row must keep the other columns in place
        json.append(',').append(result("io.dpbench.bench.sync.NftablesSyncBenchmark.nftablesEndpointChange",
            "{\"services\":\"10\"}", 30_000));
        json.append(',').append(result("io.dpbench.bench.sync.NftablesSyncBenchmark.nftablesEndpointChange",
            "{\"services\":\"1000\"}", 4_000_000));
        json.append(',').append(result("io.dpbench.bench.conntrack.NewConnectionBenchmark.newConnections",
            "{\"fill\":\"100000\",\"mode\":\"ipvs\",\"services\":\"10\"}", 1800));
        json.append(',').append(result("io.dpbench.bench.conntrack.NewConnectionBenchmark.newConnections",
            "{\"fill\":\"1000000\",\"mode\":\"ipvs\",\"services\":\"10\"}", 2100));
        json.append(',').append(result("io.dpbench.bench.pipeline.PipelineBenchmark.established",
            "{\"services\":\"200\",\"workers\":\"2\"}", 125));
        json.append(',').append(result("io.dpbench.bench.vxlan.VxlanBenchmark.encapsulate", "{\"size\":\"imix\"}", 80))
            .append(']');
        Files.writeString(dir.resolve("jmh.json"), json.toString());

        final StringWriter out = new StringWriter();
        assertThat(Main.run(new String[]{"report", "--run", dir.toString()}, new PrintWriter(out),
            new PrintWriter(new StringWriter()))).isZero();
        final String summary = Files.readString(dir.resolve("summary.md"));
        assertThat(summary).contains("| Services | iptables | ipvs rr | ipvs rr hot=10 | nftables |"
                + " speedup (iptables / ipvs rr) | speedup (iptables / nftables) |")
            .contains("|---:|---:|---:|---:|---:|---:|---:|\n")
            .contains("| 10 | 120.0 +- 1.0 | 20.0 +- 1.0 | 15.0 +- 1.0 | 50.0 +- 1.0 | 6.0x | 2.4x |")
            .contains("| 50000 | 100100.0 +- 1.0 | 20.0 +- 1.0 | 15.0 +- 1.0 | 50.0 +- 1.0 | 5005.0x | 2002.0x |")
            .contains("iptables slope (least squares over N): 2.000 ns per Service, i.e. 4.000 ns per KUBE-SERVICES rule")
            .contains("| sync.IpvsSyncBenchmark.ipvsRemoveAddServer | scheduler=rr,services=10 | 50.00 |")
            .contains("## Sync cost of one endpoint change, microseconds")
            .contains("| Services | iptables full sync | ipvs rr | nftables |")
            .contains("| 10 | 300 +- 0.00100 | 0.0500 +- 0.00100 | 30.0 +- 0.00100 |")
            .contains("| 1000 | - | - | 4,000 +- 0.00100 |")
            .contains("| sync.NftablesSyncBenchmark.nftablesEndpointChange | services=1000 | 4.000e+06 |")
            .contains("## New connection end to end, microseconds per connection")
            .contains("| mode, Services | 100,000 | 1,000,000 |")
            .contains("| ipvs, 10 Services | 1.80 +- 0.00100 | 2.10 +- 0.00100 |")
            .contains("## Packet rate")
            .contains("| pipeline, established flows + encap, 2 worker(s) | 125.0 +- 1.0 | 8.00 |")
            .contains("| vxlan encapsulate, size imix | 80.0 +- 1.0 | 12.50 |");
        // scaling.png draws the same curves, nftables' included
        assertThat(ScalingReport.curves(io.dpbench.gate.JmhRun.load(dir)))
            .extracting(ScalingReport.Curve::name).containsExactly("iptables", "ipvs rr", "ipvs rr hot=10", "nftables");
        assertThat(ScalingReport.curves(io.dpbench.gate.JmhRun.load(dir)).get(3).points())
            .containsOnlyKeys(10, 1000, 10000, 50000).allSatisfy((n, p) -> assertThat(p).containsExactly(50.0, 1.0));
        final byte[] png = Files.readAllBytes(dir.resolve("scaling.png"));
        assertThat(png.length).isGreaterThan(10_000);
        assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    private static String result(final String benchmark, final String params, final double score)
    {
        return String.format(Locale.ROOT, "{\"benchmark\":\"%s\",\"mode\":\"avgt\",\"params\":%s,\"primaryMetric\":{"
            + "\"score\":%.3f,\"scoreError\":1.0,\"scoreUnit\":\"ns/op\",\"rawData\":[[%.3f,%.3f,%.3f]]}}",
            benchmark, params, score, score, score, score);
    }
}
