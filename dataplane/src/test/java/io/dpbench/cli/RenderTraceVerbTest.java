package io.dpbench.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RenderTraceVerbTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();
    private final java.io.StringWriter out = cli.out;
    private final java.io.StringWriter err = cli.err;

    private int run(final String... args)
    {
        return cli.run(args);
    }

    @Test
    void renderThenTraceAKubectlCluster() throws Exception
    {
        final Path cluster = dir.resolve("cluster.json");
        Files.writeString(cluster, io.dpbench.model.KubectlJsonLoaderTest.CLUSTER);
        assertThat(run("render", "--mode", "iptables", "--cluster", cluster.toString(), "--node-name", "node-a",
            "--local-ip", "192.168.0.2")).isZero();
        assertThat(err.toString()).contains("note: ").contains("headless");
        final String rules = out.toString();
        assertThat(rules).startsWith("*mangle\n").contains("-A KUBE-SERVICES -d 198.51.100.7/32 -p tcp -m comment "
            + "--comment \"shop/web:http loadbalancer IP\" -m tcp --dport 80 -j KUBE-FW-");
        final Path file = dir.resolve("node.rules");
        Files.writeString(file, rules);

        // ETP=Local LoadBalancer, from an allowed source: only the local endpoint (node-a's 10.244.1.5)
        assertThat(run("trace", "--mode", "iptables", "--rules", file.toString(), "--proto", "tcp",
            "--from", "203.0.113.9:5555", "--to", "198.51.100.7:80", "--local-ip", "192.168.0.2", "--json")).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("verdict").asText()).isEqualTo("DNAT");
        assertThat(json.get("destinations").toString()).isEqualTo("[\"10.244.1.5:8080\"]");
        assertThat(json.get("masquerade").asBoolean()).isFalse();
        assertThat(json.get("path").get(0).asText()).isEqualTo(
            "nat PREROUTING 1: -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");

        // from outside loadBalancerSourceRanges: dropped by KUBE-PROXY-FIREWALL
        assertThat(run("trace", "--mode", "iptables", "--rules", file.toString(), "--proto", "tcp",
            "--from", "192.0.2.1", "--to", "198.51.100.7:80", "--local-ip", "192.168.0.2", "--json")).isZero();
        json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("verdict").asText()).isEqualTo("DROP");
        assertThat(json.get("destinations").size()).isZero();

        // the ClusterIP from a pod: every ready endpoint, then the terminating one is not used
        assertThat(run("trace", "--mode", "iptables", "--rules", file.toString(), "--proto", "tcp",
            "--from", "10.244.9.9", "--to", "10.96.10.10:80", "--local-ip", "192.168.0.2")).isZero();
        assertThat(out.toString()).contains("branch 1 of 2", "verdict: DNAT; destinations: 10.244.1.5:8080, 10.244.3.7:8080; masquerade: no");
    }

    @Test
    void nftablesRenderThenTraceAKubectlCluster() throws Exception
    {
        final Path cluster = dir.resolve("cluster.json");
        Files.writeString(cluster, io.dpbench.model.KubectlJsonLoaderTest.CLUSTER);
        assertThat(run("render", "--mode", "nftables", "--cluster", cluster.toString(), "--node-name", "node-a",
            "--local-ip", "192.168.0.2")).isZero();
        final String rules = out.toString();
        assertThat(rules).startsWith("add table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n")
            .contains("add element ip kube-proxy nodeport-ips { 192.168.0.2 }")
            .contains("add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/12 } drop");
        final Path file = dir.resolve("node.nft");
        Files.writeString(file, rules);

        // ETP=Local LoadBalancer, from an allowed source: only the local endpoint (node-a's 10.244.1.5)
        assertThat(run("trace", "--mode", "nftables", "--rules", file.toString(), "--proto", "tcp",
            "--from", "203.0.113.9:5555", "--to", "198.51.100.7:80", "--local-ip", "192.168.0.2", "--json")).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("verdict").asText()).isEqualTo("DNAT");
        assertThat(json.get("destinations").toString()).isEqualTo("[\"10.244.1.5:8080\"]");
        assertThat(json.get("masquerade").asBoolean()).isFalse();
        assertThat(json.get("path").get(0).asText()).isEqualTo(
            "filter-prerouting-pre-dnat 1: ct state new jump firewall-check -> jump firewall-check");

        // from outside loadBalancerSourceRanges: dropped by the firewall chain before DNAT
        assertThat(run("trace", "--mode", "nftables", "--rules", file.toString(), "--proto", "tcp",
            "--from", "192.0.2.1", "--to", "198.51.100.7:80", "--local-ip", "192.168.0.2", "--json")).isZero();
        json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("verdict").asText()).isEqualTo("DROP");
        assertThat(json.get("destinations").size()).isZero();

        // the partial-sync transaction to a changed cluster: node-a's endpoint of shop/web leaves
        final Path next = dir.resolve("next.json");
        Files.writeString(next, io.dpbench.model.KubectlJsonLoaderTest.CLUSTER.replace("\"10.244.1.5\"", "\"10.244.1.6\""));
        assertThat(run("render", "--mode", "nftables", "--cluster", cluster.toString(), "--node-name", "node-a",
            "--local-ip", "192.168.0.2", "--transaction-to", next.toString())).isZero();
        assertThat(out.toString()).contains("add chain ip kube-proxy service-KHN6ECMT-shop/web/tcp/http\n"
            + "flush chain ip kube-proxy service-KHN6ECMT-shop/web/tcp/http\n")
            .contains("flush chain ip kube-proxy endpoint-FDH7QP7U-shop/web/tcp/http__10.244.1.5/8080")
            .contains("dnat to 10.244.1.6:8080").doesNotContain("add table");
        assertThat(run("render", "--mode", "iptables", "--cluster", cluster.toString(), "--transaction-to",
            next.toString())).isEqualTo(2);

        // a rules file it cannot use: one line naming the file, line and column; exit 2
        final Path bad = dir.resolve("bad.nft");
        Files.writeString(bad, "add table ip kube-proxy\nadd chain ip kube-proxy c\nadd rule ip kube-proxy c ip daddr 1.2.3.4 frob\n");
        assertThat(run("trace", "--mode", "nftables", "--rules", bad.toString(), "--proto", "tcp", "--from", "1.1.1.1",
            "--to", "1.2.3.4:80")).isEqualTo(2);
        assertThat(err.toString().strip()).doesNotContain("\n").contains("bad.nft:3: chain c, rule 1")
            .contains("'frob' is not an expression this model knows");
        assertThat(run("render", "--mode", "nftables", "--services", "2", "--service-cidr", "10.0.0.0/33")).isEqualTo(2);
        assertThat(err.toString()).contains("--service-cidr: '10.0.0.0/33' is not an IPv4 CIDR");
        assertThat(run("render", "--mode", "nftables", "--services", "2", "--nodeport-addresses", "1.2.3")).isEqualTo(2);
        assertThat(err.toString()).contains("--nodeport-addresses: '1.2.3' is not an IPv4 CIDR");
    }

    @Test
    void syntheticRenderFormatsAndErrors()
    {
        assertThat(run("render", "--mode", "iptables", "--services", "3", "--endpoints", "2", "--format", "restore")).isZero();
        assertThat(out.toString()).startsWith("*filter\n:KUBE-SERVICES - [0:0]\n").contains("-m tcp -p tcp -d 10.96.0.1 --dport 80");
        assertThat(run("render", "--mode", "iptables")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required argument");
        assertThat(run("render", "--mode", "iptables", "--services", "3", "--cluster", "x.json")).isEqualTo(2);
        assertThat(run("render", "--mode", "nft", "--services", "3")).isEqualTo(2);
        assertThat(err.toString()).contains("--mode: 'nft' is not a mode render knows (iptables, ipvs, nftables)");
        assertThat(run("render", "--mode", "iptables", "--services", "3", "--mix", "odd")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown mix 'odd'");
        assertThat(run("trace", "--mode", "iptables", "--rules", "/nonexistent", "--proto", "tcp", "--from", "1.1.1.1",
            "--to", "2.2.2.2:80")).isEqualTo(1);
        assertThat(err.toString().strip()).isEqualTo("dpbench trace: error: /nonexistent: no such file");
        assertThat(run("trace", "--mode", "iptables", "--rules", "/nonexistent", "--proto", "icmp", "--from", "1.1.1.1",
            "--to", "2.2.2.2:80")).isEqualTo(2);
        assertThat(run("trace", "--mode", "iptables", "--rules", "/nonexistent", "--proto", "tcp", "--from", "1.1.1.1",
            "--to", "2.2.2.2")).isEqualTo(2);
        assertThat(err.toString()).contains("--to: expected IP:PORT");
    }

    @Test
    void ipvsModeRenderAndTraceWithFlowCounts() throws Exception
    {
        assertThat(run("render", "--mode", "ipvs", "--services", "2", "--endpoints", "3", "--scheduler", "wrr")).isZero();
        final String save = out.toString();
        assertThat(save).startsWith("-A -t 10.96.0.1:80 -s wrr\n-a -t 10.96.0.1:80 -r ");
        final Path file = dir.resolve("ipvs.save");
        Files.writeString(file, save);
        assertThat(run("trace", "--mode", "ipvs", "--rules", file.toString(), "--proto", "tcp", "--from", "10.244.7.7:1000",
            "--to", "10.96.0.1:80", "--flows", "300", "--json")).isZero();
        final JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("verdict").asText()).isEqualTo("DNAT");
        assertThat(json.get("destinations").size()).isEqualTo(3);
        final JsonNode counts = json.get("counts");
        assertThat(counts.size()).isEqualTo(3);
        counts.forEach(n -> assertThat(n.asInt()).isEqualTo(100)); // wrr with equal weights: an exact rotation
        assertThat(run("trace", "--mode", "ipvs", "--rules", file.toString(), "--proto", "udp", "--from", "10.244.7.7",
            "--to", "10.96.0.1:80")).isZero();
        assertThat(out.toString()).contains("no virtual service", "verdict: ACCEPT; destinations: 10.96.0.1:80");
        final Path ipset = dir.resolve("ipset.save");
        final Path iptables = dir.resolve("ipvs.iptables");
        assertThat(run("render", "--mode", "ipvs", "--services", "2", "--endpoints", "3", "--ipset", ipset.toString(),
            "--iptables", iptables.toString())).isZero();
        assertThat(out.toString()).isEqualTo(save.replace(" -s wrr", " -s rr"));
        assertThat(Files.readString(ipset)).contains("create KUBE-CLUSTER-IP hash:ip,port").contains("add KUBE-CLUSTER-IP 10.96.0.1,tcp:80");
        assertThat(Files.readString(iptables)).contains("-m set --match-set KUBE-CLUSTER-IP dst,dst");
        assertThat(run("render", "--mode", "ipvs", "--services", "2", "--scheduler", "mh", "--mh-table-size", "65537",
            "--sched-flags", "mh-fallback,mh-port")).isZero();
        assertThat(out.toString()).contains("-s mh -b mh-fallback,mh-port");
        assertThat(run("render", "--mode", "ipvs", "--services", "2", "--scheduler", "mh", "--mh-table-size", "4096")).isEqualTo(2);
        assertThat(err.toString()).contains("mh table size 4096 is not one of the kernel's primes");
        assertThat(run("render", "--mode", "ipvs", "--services", "2", "--scheduler", "fastest")).isEqualTo(2);
        assertThat(err.toString()).contains("--scheduler: ");
    }

    @Test
    void traceReportsBadRulesWithTheLine() throws Exception
    {
        final Path file = dir.resolve("bad.rules");
        Files.writeString(file, "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m bogus --x 1 -j ACCEPT\nCOMMIT\n");
        assertThat(run("trace", "--mode", "iptables", "--rules", file.toString(), "--proto", "tcp", "--from", "1.1.1.1",
            "--to", "2.2.2.2:80")).isEqualTo(1);
        assertThat(err.toString().strip()).isEqualTo("dpbench trace: error: " + file + ":3: unsupported match module '-m bogus'");
    }
}
