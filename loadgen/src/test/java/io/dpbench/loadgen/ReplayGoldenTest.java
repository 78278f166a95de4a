package io.dpbench.loadgen;

import io.dpbench.cli.Main;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.SyntheticCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden outputs of {@code dpbench replay}: what the node's dataplane writes, byte for byte, and the counters it
 * prints, for fixed inputs through a matrix of configurations, compared with what the code wrote when the
 * expectations were recorded ({@code src/test/resources/golden/replay.golden}). A safety net for refactoring the
 * packet pipeline, the wire code and the CLI verbs: any change of behaviour, however small, fails here, and the
 * failure names every case that moved, with the counters before and after.
 * <p>
 * <b>Inputs</b> (all deterministic; their SHA-256 are recorded as {@code input/...} lines, so that a change in how
 * an input is built is told apart from a change in the dataplane):
 * <ul>
 *   <li>{@code mixed-imix}, {@code mixed-60b-novlan}, {@code mixed-1518b-vlan}: the {@code frames} verb (the loadgen
 *   module's {@code MixedFrameGenerator}) with fixed seeds: TCP/UDP/ICMP-echo mixes, IMIX / minimum / maximum frame
 *   sizes, 10% / no / every frame VLAN-tagged;</li>
 *   <li>{@code conversations}: per configuration, every frontend of the cluster (two flows per ClusterIP:port, node
 *   ports and load-balancer IPs from outside clients inside and outside the source ranges, external IPs, hairpin,
 *   the node itself, ICMP echo, pod to pod, a port no Service has): the first packets are replayed once
 *   ({@code conversations-learn/...}), the backends' answers are built from what came out (VXLAN-encapsulated from
 *   the backend's node when the overlay is on), and the whole conversation is replayed (TCP handshake, data both
 *   ways, FIN both ways; UDP and ICMP echo request/response twice);</li>
 *   <li>{@code vxlan-in}: VXLAN from the other nodes' VTEPs (to Services, to this node's pods, to a third node's) and
 *   datagrams the vxlan device drops or treats specially (unknown VNI, flags, reserved bits, bad outer checksums,
 *   outer fragment, another port, another node's address, truncations, options, padding, inner TTL 1, inner frames
 *   above the overlay MTU);</li>
 *   <li>{@code edge}: malformed and edge frames for every parser verdict replay can give (not bad-l4-checksum:
 *   replay does not verify L4 checksums) and conntrack's INVALID flag combinations,
 *   TTL 1/0, fragments, options, padding, a record cut by the snap length, a frame larger than any slot, with
 *   nanosecond timestamps; {@code edge-damaged}: the same capture cut in its last record (exit 1, partial output).</li>
 * </ul>
 * <b>Matrix</b>: {@code --mode iptables}, {@code --mode ipvs --scheduler rr} and {@code mh}; {@code --workers 1}
 * and {@code 2}; overlay off ({@code flat}: no {@code --nodes}) and on ({@code overlay}: {@code --nodes 4}); on a
 * seeded realistic cluster of 120 Services ({@code --mix realistic}: node ports, load balancers with source ranges,
 * Local traffic policies, affinity, UDP, Services without endpoints). A few extra cases: the text (not JSON)
 * counters, a 64-entry conntrack table (early drops), a stage chain without decap, other IPVS
 * schedulers and another iptables random seed on the conversations.
 * <p>
 * <b>Recorded per case</b>: the SHA-256 of the output pcap (the whole file: global header, record headers with the
 * input's timestamps, frames) and the exit code, stdout (the counters JSON: packets in/out, new flows, drops by reason,
 * conntrack, cache, overlay and per-worker counters) and stderr, literally. The only normalisation: the temporary
 * directory's path in stderr (the damaged capture's error message names the files) becomes {@code <tmp>}. The JSON
 * is compared as printed, key order included (the {@code dropped} map lists reasons in the order the workers first
 * met them: deterministic, but a refactoring that sums them otherwise shows here). Nothing
 * else varies from run to run: replay's time is the pcap's, the output is written in input order whatever the
 * number of workers (each worker logs its frames with their input sequence numbers, {@code FrameLog.writeInOrder}),
 * steering is a pure function of the frame, and each worker's choices (rr cursor, iptables random draws, SNAT ports,
 * the vxlan device's outer IP ID, ICMP IDs) depend only on the frames steered to it, in input order. The conntrack
 * limit is passed explicitly ({@code --max-conntrack 131072}) because its default depends on the number of cores.
 * Left out on purpose: a full conntrack table with {@code --workers 2}. The workers share the table's limit, and which
 * of them inserts first decides the counters: {@code replay --max-conntrack 64 --workers 2} of {@code mixed-imix}
 * gave {@code conntrack_entries} 65 in 16 of 18 runs and 66 in 2 (early drops 329 / 328), the output pcap the same;
 * so the 64-entry cases run with one worker only.
 * <p>
 * <b>Run</b> (about 25 s on 2 cores), from the root of the working tree:
 * <pre>
 * mvn -B -ntp -pl loadgen -am test -Dtest=ReplayGoldenTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * {@code -am} builds dataplane in the same reactor, so the test runs against this tree's {@code dataplane/target/classes}
 * (the summary line it prints names them). {@code mvn -pl loadgen surefire:test} alone would take dataplane's jar from
 * the local Maven repository ({@code ~/.m2}), which any other working tree's {@code mvn install} replaces, even while
 * the test runs.
 * <p>
 * <b>Re-record</b> (only for an intended change of behaviour; review {@code git diff} of the file afterwards):
 * <pre>
 * mvn -B -ntp -pl loadgen -am test -Dtest=ReplayGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Ddpbench.golden.record=true
 * </pre>
 * {@code -Ddpbench.golden.dump=DIR} also copies every case's input and output pcaps and counters into DIR, to compare
 * two versions frame by frame (e.g. with {@code tshark -r}).
 */
class ReplayGoldenTest
{
    static final String HEADER = """
        ReplayGoldenTest: dpbench replay outputs (io.dpbench.loadgen.ReplayGoldenTest's javadoc says what each case is).
        One case a line: NAME SHA256-OF-OUTPUT-PCAP exit=CODE STDOUT [stderr=STDERR] (line breaks as \\n).
        Re-record (intended changes only): mvn -B -ntp -pl loadgen -am test -Dtest=ReplayGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Ddpbench.golden.record=true""";

    /** The cluster of every case: 120 Services of the realistic mix, 4 endpoints each, seed 1. */
    static final String[] CLUSTER = {"--services", "120", "--endpoints", "4", "--mix", "realistic", "--seed", "1"};

    record Proxy(String name, String... args)
    {
    }

    static final Proxy IPTABLES = new Proxy("iptables", "--mode", "iptables");
    static final Proxy IPVS_RR = new Proxy("ipvs-rr", "--mode", "ipvs", "--scheduler", "rr");
    static final Proxy IPVS_MH = new Proxy("ipvs-mh", "--mode", "ipvs", "--scheduler", "mh");

    record Config(Proxy proxy, int workers, boolean overlay)
    {
        String name()
        {
            return proxy.name() + "/w" + workers + "/" + (overlay ? "overlay" : "flat");
        }
    }

    @TempDir
    Path dir;

    private final GoldenFile golden = new GoldenFile("replay.golden", HEADER);
    private final Path dump = System.getProperty("dpbench.golden.dump") != null
        ? Path.of(System.getProperty("dpbench.golden.dump")) : null;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void replayWritesTheRecordedFramesAndCounters() throws Exception
    {
        final long start = System.nanoTime();
        final GoldenInputs build = new GoldenInputs();
        final ClusterModel model = SyntheticCluster.generate(120, 4, 1, SyntheticCluster.Mix.REALISTIC);
        final Map<String, Path> inputs = new LinkedHashMap<>();
        inputs.put("mixed-imix", frames("mixed-imix", "--count", "3000", "--flows", "400", "--services", "120",
            "--seed", "11"));
        inputs.put("mixed-60b-novlan", frames("mixed-60b-novlan", "--count", "1500", "--flows", "300", "--services",
            "120", "--seed", "12", "--size", "60", "--vlan", "0", "--tcp", "40", "--udp", "40", "--rate", "1000"));
        inputs.put("mixed-1518b-vlan", frames("mixed-1518b-vlan", "--count", "600", "--flows", "120", "--services",
            "120", "--seed", "13", "--size", "1518", "--vlan", "100"));
        final Path vxlan = dir.resolve("vxlan-in.pcap");
        build.writeVxlanInput(model, vxlan);
        inputs.put("vxlan-in", vxlan);
        final Path edge = dir.resolve("edge.pcap");
        build.writeEdgeInput(model, edge);
        inputs.put("edge", edge);
        final List<GoldenInputs.Flow> flows = GoldenInputs.flows(model);
        final Path requests = dir.resolve("conversation-requests.pcap");
        build.writeRequests(flows, requests);
        inputs.put("conversation-requests", requests);
        for (final Map.Entry<String, Path> e : inputs.entrySet())
        {
            golden.put("input/" + e.getKey(), GoldenFile.sha256(e.getValue()), "bytes=" + Files.size(e.getValue()));
            keep(e.getValue(), "input_" + e.getKey() + ".pcap");
        }

        final List<Config> matrix = new ArrayList<>();
        for (final Proxy proxy : List.of(IPTABLES, IPVS_RR, IPVS_MH))
        {
            for (final int workers : new int[]{1, 2})
            {
                for (final boolean overlay : new boolean[]{false, true})
                {
                    matrix.add(new Config(proxy, workers, overlay));
                }
            }
        }
        for (final Config c : matrix)
        {
            for (final Map.Entry<String, Path> e : inputs.entrySet())
            {
                if (!e.getKey().equals("conversation-requests"))
                {
                    replay(e.getKey() + "/" + c.name(), c, e.getValue());
                }
            }
            conversation(c, flows, requests, build);
        }

        // beyond the matrix
        replay("mixed-imix/ipvs-mh/w2/overlay/text", new Config(IPVS_MH, 2, true), inputs.get("mixed-imix"), "--no-json");
        replay("mixed-imix/iptables/w1/flat/max-conntrack-64", new Config(IPTABLES, 1, false), inputs.get("mixed-imix"),
            "--max-conntrack", "64");
        replay("mixed-imix/ipvs-rr/w1/overlay/max-conntrack-64", new Config(IPVS_RR, 1, true), inputs.get("mixed-imix"),
            "--max-conntrack", "64");
        replay("vxlan-in/ipvs-mh/w1/overlay/stages-without-decap", new Config(IPVS_MH, 1, true), vxlan,
            "--stages", "conntrack,route,encap,tx");
        conversation(new Config(new Proxy("ipvs-sh", "--mode", "ipvs", "--scheduler", "sh"), 1, true), flows, requests, build);
        conversation(new Config(new Proxy("ipvs-wlc", "--mode", "ipvs", "--scheduler", "wlc"), 2, false), flows, requests, build);
        conversation(new Config(new Proxy("iptables-seed7", "--mode", "iptables", "--random-seed", "7"), 1, true), flows,
            requests, build);
        final Path damaged = dir.resolve("edge-damaged.pcap");
        final byte[] edgeBytes = Files.readAllBytes(edge);
        Files.write(damaged, Arrays.copyOf(edgeBytes, edgeBytes.length - 7));
        replay("edge-damaged/iptables/w1/flat", new Config(IPTABLES, 1, false), damaged);
        replay("edge-damaged/ipvs-mh/w2/overlay", new Config(IPVS_MH, 2, true), damaged);

        System.out.printf("ReplayGoldenTest: %d cases in %.1f s (dataplane classes from %s)%n", golden.actual().size(),
            (System.nanoTime() - start) / 1e9, Main.class.getProtectionDomain().getCodeSource().getLocation());
        golden.verify();
    }

    /** The learning pass over the flows' first packets, then the whole conversation built from what it delivered. */
    private void conversation(final Config c, final List<GoldenInputs.Flow> flows, final Path requests,
        final GoldenInputs build) throws Exception
    {
        final Path learned = replay("conversations-learn/" + c.name(), c, requests);
        final Path conversation = dir.resolve("conversation_" + c.name().replace('/', '_') + ".pcap");
        build.writeConversation(flows, learned, c.overlay(), conversation);
        keep(conversation, "input_conversations_" + c.name().replace('/', '_') + ".pcap");
        replay("conversations/" + c.name(), c, conversation);
    }

    /** Frames from the {@code frames} verb (the loadgen module's generator), in-process. */
    private Path frames(final String name, final String... args) throws IOException
    {
        final Path out = dir.resolve(name + ".pcap");
        final List<String> all = new ArrayList<>(List.of("frames", "--out", out.toString()));
        all.addAll(List.of(args));
        final StringWriter err = new StringWriter();
        assertThat(Main.run(all.toArray(new String[0]), new PrintWriter(new StringWriter()), new PrintWriter(err)))
            .as(err.toString()).isZero();
        return out;
    }

    /**
     * One replay, recorded as a case; returns its output pcap. {@code extra} options go last; {@code --max-conntrack}
     * among them replaces the default one, {@code --no-json} (not an option of replay) asks for the text counters.
     */
    private Path replay(final String name, final Config c, final Path in, final String... extra) throws IOException
    {
        final Path out = dir.resolve(name.replace('/', '_') + ".pcap");
        final List<String> args = new ArrayList<>(List.of("replay"));
        args.addAll(List.of(c.proxy().args()));
        args.addAll(List.of(CLUSTER));
        final List<String> more = new ArrayList<>(List.of(extra));
        if (!more.contains("--max-conntrack"))
        {
            args.addAll(List.of("--max-conntrack", "131072")); // the default depends on the number of cores
        }
        if (c.overlay())
        {
            args.addAll(List.of("--nodes", String.valueOf(GoldenInputs.NODES)));
        }
        args.addAll(List.of("--workers", String.valueOf(c.workers()), "--in", in.toString(), "--out", out.toString()));
        if (!more.remove("--no-json"))
        {
            args.add("--json");
        }
        args.addAll(more);
        final StringWriter stdout = new StringWriter();
        final StringWriter stderr = new StringWriter();
        final int code = Main.run(args.toArray(new String[0]), new PrintWriter(stdout), new PrintWriter(stderr));
        final Path partial = out.resolveSibling(out.getFileName() + ".partial");
        final Path written = Files.exists(out) ? out : Files.exists(partial) ? partial : null;
        final StringBuilder detail = new StringBuilder("exit=").append(code).append(' ')
            .append(oneLine(stdout.toString().strip()));
        if (!stderr.toString().isBlank())
        {
            detail.append(" stderr=").append(oneLine(stderr.toString().strip().replace(dir.toString(), "<tmp>")));
        }
        if (written != null && !written.equals(out))
        {
            detail.append(" output=partial");
        }
        golden.put(name, written != null ? GoldenFile.sha256(written) : "no-output", detail.toString());
        if (written != null)
        {
            keep(written, name.replace('/', '_') + ".pcap");
        }
        if (dump != null)
        {
            Files.writeString(dump.resolve(name.replace('/', '_') + ".txt"), detail + "\n");
        }
        return written;
    }

    private static String oneLine(final String text)
    {
        return text.replace("\\", "\\\\").replace("\r", "").replace("\n", "\\n");
    }

    private void keep(final Path file, final String as) throws IOException
    {
        if (dump != null)
        {
            Files.createDirectories(dump);
            Files.copy(file, dump.resolve(as), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
