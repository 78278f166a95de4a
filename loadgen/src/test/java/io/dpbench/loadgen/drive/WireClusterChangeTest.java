package io.dpbench.loadgen.drive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.cli.Main;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.loadgen.workload.WorkloadSpec;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.KubectlJsonWriter;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16's acceptance: `dpbench run --cluster FILE --watch` on loopback, driven over UDP by the load generator,
 * while the test changes the file's endpoints every 2.5 seconds (endpoints of the most used UDP Services and of two
 * TCP ones removed, some added back later). Each change is announced to the generator
 * ({@link LoadGenerator#expectClusterChange}: while the node changes over, a new flow may meet the old cluster or the
 * new), written atomically, and once the node printed its sync the generator's checks follow the new cluster alone
 * ({@link LoadGenerator#expectCluster}). Then: no frame lost that was not counted (sent = received + the node's
 * counted drops + kernel socket drops), new flows reached only current endpoints, every sync was counted and timed,
 * stale UDP flows were removed, and the conntrack table the node leaves behind holds no UDP flow to an endpoint that
 * is gone.
 */
class WireClusterChangeTest
{
    /** The realistic mix (15% UDP Services), 40% of flows UDP; the same seeded cluster the node is given as a file. */
    private static final WorkloadSpec SPEC = new WorkloadSpec(200, 4, 1, 4, 300, 0.2, 0.8, WorkloadSpec.IMIX, 0.6);
    private static final int MAX_CONNTRACK = 131072;
    /** A change every 2.5 s of the generator's 12: the last one's sync and UDP cleanup still have seconds of traffic. */
    private static final long CHANGE_EVERY_NANOS = 2_500_000_000L;
    private static final long LOAD_NANOS = 12_000_000_000L;
    private static final int CHANGES = 3;
    /** Most used UDP Services (the generator's first UDP frontends: Zipf rank 0 up) and TCP ones that change. */
    private static final int UDP_SERVICES = 5;
    private static final int TCP_SERVICES = 2;

    @Test
    void endpointsChangeUnderLoadInIpvsMode(@TempDir final Path dir) throws Exception
    {
        run("ipvs", 0, dir);
    }

    @Test
    void endpointsChangeUnderLoadInIptablesMode(@TempDir final Path dir) throws Exception
    {
        run("iptables", 1, dir);
    }

    private static void run(final String mode, final int portOffset, final Path dir) throws Exception
    {
        final int port = 40_000 + (int)(ProcessHandle.current().pid() % 5_000) * 2 + portOffset;
        final Path clusterFile = dir.resolve("cluster.json");
        final Path table = dir.resolve("conntrack.cmap");
        final ClusterModel initial = SyntheticCluster.generate(SPEC.services(), SPEC.endpoints(), SPEC.seed(),
            SPEC.mix(), SPEC.nodes());
        final List<ClusterModel> clusters = changes(initial);
        KubectlJsonWriter.write(initial, clusterFile);

        final List<String> progress = java.util.Collections.synchronizedList(new ArrayList<>());
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CompletableFuture<Integer> node = CompletableFuture.supplyAsync(() -> Main.run(new String[]{"run",
            "--mode", mode, "--cluster", clusterFile.toString(), "--watch", "--nodes", String.valueOf(SPEC.nodes()),
            "--port", String.valueOf(port), "--conntrack", table.toString(), "--max-conntrack",
            String.valueOf(MAX_CONNTRACK), "--duration", "14", "--interval", "0", "--json"}, new PrintWriter(out),
            new PrintWriter(err)), thread("test-node-" + mode));
        WireLoadTest.awaitListening(port, node);
        final LoadGenerator generator = new LoadGenerator(new LoadGenerator.Options(mode, "rr", 1, LOAD_NANOS, 0, 0,
            SPEC, 0, 131072, new InetSocketAddress("127.0.1.0", port), false), progress::add, null);
        final CompletableFuture<LoadResult> load = CompletableFuture.supplyAsync(generator::run, thread("test-loadgen-" + mode));
        final long start = System.nanoTime();

        final List<Double> syncSeenMillis = new ArrayList<>();
        for (int k = 1; k <= CHANGES; k++)
        {
            sleepUntil(start + k * CHANGE_EVERY_NANOS);
            final ClusterModel next = clusters.get(k);
            // the generator first: from its next turn a new flow may meet either cluster, and it must have taken
            // that up before the node can change over (else a flow sent before could reach an added endpoint)
            generator.expectClusterChange(next);
            assertThat(generator.awaitExpected(5_000_000_000L)).as("the generator took change %d up", k).isTrue();
            final long written = System.nanoTime();
            KubectlJsonWriter.write(next, clusterFile);
            awaitLine(out, "run: sync v" + k + " ", node, err);
            syncSeenMillis.add((System.nanoTime() - written) / 1e6);
            // the node has published version k to its workers: every new flow it sees from now on is decided on
            // the new cluster, so the checks follow it alone
            generator.expectCluster(next);
            assertThat(generator.awaitExpected(5_000_000_000L)).isTrue();
        }
        final double lastSyncSeconds = (System.nanoTime() - start) / 1e9;
        final LoadResult r = load.get(60, TimeUnit.SECONDS);
        assertThat(node.get(30, TimeUnit.SECONDS)).as(err.toString()).isZero();

        final String output = out.toString();
        final String json = output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow();
        final JsonNode counters = new ObjectMapper().readTree(json);
        long nodeDrops = 0;
        for (final Iterator<JsonNode> it = counters.get("dropped").elements(); it.hasNext(); )
        {
            nodeDrops += it.next().asLong();
        }
        final Conntrack udp = udpEntries(table, initial, clusters);
        final List<String> syncLines = output.lines().filter(l -> l.startsWith("run: sync v")).toList();
        final Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("mode", mode);
        figures.put("syncs", counters.path("syncs").asLong());
        figures.put("sync-last-ms", counters.path("sync-last-ms").asDouble());
        figures.put("sync-max-ms", counters.path("sync-max-ms").asDouble());
        figures.put("file-written-to-sync-seen-ms", syncSeenMillis.stream()
            .map(ms -> String.format(Locale.ROOT, "%.1f", ms)).toList());
        figures.put("last-sync-seen-at-s", Math.round(lastSyncSeconds * 10) / 10.0);
        figures.put("stale-udp-removed", counters.path("stale-udp-removed").asLong());
        figures.put("sent", r.sent());
        figures.put("received", r.received());
        figures.put("node-dropped", counters.get("dropped"));
        figures.put("generator-counted-drops", r.drops());
        figures.put("new-flows-checked", generator.newFlowsChecked());
        figures.put("stale-backends", generator.staleBackends());
        figures.put("udp-rebalanced", generator.udpRebalanced());
        figures.put("stale-replies", generator.staleReplies());
        figures.put("flows-completed", r.flowsCompleted());
        figures.put("timed-out", r.timedOut());
        figures.put("late", r.late());
        figures.put("table-segments", udp.segments);
        figures.put("table-udp-entries", udp.entries);
        figures.put("table-udp-entries-of-changed-services", udp.ofChangedServices);
        System.out.println("WireClusterChangeTest " + figures);
        syncLines.forEach(l -> System.out.println("WireClusterChangeTest " + mode + " " + l));
        progress.forEach(l -> System.out.println("WireClusterChangeTest " + mode + " " + l));

        // every sync counted and timed
        assertThat(syncLines).as(output).hasSize(CHANGES);
        assertThat(output).doesNotContain("not applied");
        assertThat(counters.get("syncs").asLong()).isEqualTo(CHANGES);
        assertThat(counters.get("sync-last-ms").asDouble()).isPositive();
        assertThat(counters.get("sync-max-ms").asDouble()).isGreaterThanOrEqualTo(counters.get("sync-last-ms").asDouble());
        // no frame lost that was not counted
        assertThat(r.sent()).as("sent = received + node drops + kernel socket drops (%s, node %s)", r.drops(), json)
            .isEqualTo(r.received() + nodeDrops + r.countedDrops());
        assertThat(r.unaccounted()).as("the generator's unaccounted frames are the node's drops").isEqualTo(nodeDrops);
        // new flows reached only current endpoints; established flows kept theirs (a UDP flow whose endpoint left
        // may move: counted apart), replies came from the VIP:port (but a removed UDP endpoint's, once its entry is
        // gone, as on a real node)
        assertThat(generator.clusterChanges()).as("two check changes per cluster change").isEqualTo(2L * CHANGES);
        assertThat(generator.newFlowsChecked()).as("new flows checked").isGreaterThan(1000);
        assertThat(generator.staleBackends()).as("new flows to an endpoint not in the cluster").isZero();
        assertThat(r.backendChanged()).as("flows that changed backend").isZero();
        assertThat(r.untranslated()).as("replies not from the VIP:port").isZero();
        assertThat(r.unexpected()).isZero();
        assertThat(r.flowsCompleted()).isGreaterThan(1000);
        // the removed UDP endpoints had flows: the node deleted them, and none is left in its table. The workers
        // remove stale UDP flows 8 table segments every 100 ms of traffic (the table has 32: a pass takes 0.4 s); a
        // node that synced too late would leave the last pass unfinished when the load ends: say so rather than
        // fail the table check for it
        assertThat(lastSyncSeconds).as("the last sync came %.1f s into %d s of load: too late to check its cleanup",
            lastSyncSeconds, LOAD_NANOS / 1_000_000_000L).isLessThan(LOAD_NANOS / 1e9 - 1.5);
        assertThat(counters.get("stale-udp-removed").asLong()).as("stale UDP flows removed").isPositive();
        assertThat(udp.toGoneEndpoints).as("UDP entries to an endpoint no longer in the cluster: %s", udp.examples)
            .isZero();
        assertThat(udp.ofChangedServices).as("UDP entries of the changed Services (the check is not vacuous)")
            .isPositive();
    }

    /**
     * The clusters: [0] the initial one, [k] after change k. Change 1 removes one ready endpoint from each of the
     * {@value #UDP_SERVICES} most used UDP Services and the {@value #TCP_SERVICES} most used TCP ones, change 2 one
     * more from each UDP one, change 3 adds change 1's back to every other UDP Service and the first TCP one and
     * removes one more from the rest; a Service always keeps a ready endpoint.
     */
    private static List<ClusterModel> changes(final ClusterModel initial)
    {
        final List<Integer> udp = new ArrayList<>();
        final List<Integer> tcp = new ArrayList<>();
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(initial, NodeConfig.defaults());
        for (int i = 0; i < initial.services().size(); i++)
        {
            final Service s = initial.services().get(i);
            final EndpointSlice slice = initial.endpointSlices().get(i);
            assertThat(slice.serviceName()).isEqualTo(s.name());
            final long ready = slice.endpoints().stream().filter(Endpoint::ready).count();
            final boolean isUdp = s.ports().get(0).protocol() == Protocol.UDP;
            // the generator's frontends in its order, Zipf's most popular first (a cluster IP, endpoints), of one
            // port, with the ready endpoints the changes take away (three from some UDP Services, one from TCP ones)
            if (!s.hasClusterIP() || s.ports().size() != 1 || endpoints.all(s, s.ports().get(0)).isEmpty()
                || ready < (isUdp ? 4 : 2) || s.internalPolicyLocal())
            {
                continue;
            }
            final List<Integer> list = isUdp ? udp : tcp;
            if (list.size() < (list == udp ? UDP_SERVICES : TCP_SERVICES))
            {
                list.add(i);
            }
        }
        assertThat(udp).hasSize(UDP_SERVICES);
        assertThat(tcp).hasSize(TCP_SERVICES);
        final List<ClusterModel> clusters = new ArrayList<>();
        clusters.add(initial);
        final List<EndpointSlice> slices = new ArrayList<>(initial.endpointSlices());
        final Map<Integer, Endpoint> removedFirst = new HashMap<>();
        for (int k = 1; k <= CHANGES; k++)
        {
            for (int n = 0; n < udp.size() + tcp.size(); n++)
            {
                final boolean isUdp = n < udp.size();
                final int i = isUdp ? udp.get(n) : tcp.get(n - udp.size());
                final int rank = isUdp ? n : n - udp.size();
                final EndpointSlice s = slices.get(i);
                final List<Endpoint> list = new ArrayList<>(s.endpoints());
                if (k == 1 || k == 2 && isUdp || k == 3 && isUdp && rank % 2 == 1)
                {
                    final Endpoint gone = list.stream().filter(Endpoint::ready).findFirst().orElseThrow();
                    list.remove(gone);
                    removedFirst.putIfAbsent(i, gone);
                    assertThat(list.stream().filter(Endpoint::ready).count()).isPositive();
                }
                else if (k == 3 && rank % 2 == 0)
                {
                    list.add(removedFirst.get(i)); // back
                }
                else
                {
                    continue;
                }
                slices.set(i, new EndpointSlice(s.namespace(), s.name(), s.serviceName(), list, s.ports()));
            }
            clusters.add(new ClusterModel(initial.services(), slices));
        }
        return clusters;
    }

    /** What the node's conntrack table holds of UDP flows to the Services' cluster IPs, after it stopped. */
    private record Conntrack(int segments, long entries, long toGoneEndpoints, long ofChangedServices,
        List<String> examples)
    {
    }

    private static Conntrack udpEntries(final Path file, final ClusterModel initial, final List<ClusterModel> clusters)
        throws Exception
    {
        final ClusterModel last = clusters.get(clusters.size() - 1);
        // per UDP frontend (cluster IP << 16 | port): the serving endpoints' address << 16 | port in the last cluster
        final Map<Long, Set<Long>> serving = new HashMap<>();
        final Set<Long> changed = new HashSet<>();
        final ServicePortEndpoints lastEndpoints = ServicePortEndpoints.of(last, NodeConfig.defaults());
        final ServicePortEndpoints firstEndpoints = ServicePortEndpoints.of(initial, NodeConfig.defaults());
        for (final Service s : last.services())
        {
            for (final ServicePort p : s.ports())
            {
                if (p.protocol() != Protocol.UDP || !s.hasClusterIP())
                {
                    continue;
                }
                final long frontend = key(Ipv4Address.parse(s.clusterIP()), p.port());
                final Set<Long> backends = new HashSet<>();
                lastEndpoints.all(s, p).stream().filter(ServicePortEndpoints.Info::serving)
                    .forEach(e -> backends.add(key(Ipv4Address.parse(e.ip()), e.port())));
                serving.put(frontend, backends);
                if (!lastEndpoints.all(s, p).equals(firstEndpoints.all(s, p)))
                {
                    changed.add(frontend);
                }
            }
        }
        assertThat(changed).hasSize(UDP_SERVICES);
        final long[] counts = new long[3];
        final List<String> examples = new ArrayList<>();
        final int segments;
        try (ConntrackTable t = ConntrackTable.attach(file, MAX_CONNTRACK))
        {
            segments = t.segments();
            t.forEachConnection(c ->
            {
                if ((c.originalPorts() & 0xFF) != Protocol.UDP.number())
                {
                    return;
                }
                final long frontend = key((int)c.originalAddresses(), (int)(c.originalPorts() >>> 8) & 0xFFFF);
                final Set<Long> backends = serving.get(frontend);
                if (backends == null)
                {
                    return; // not to a Service (e.g. a stale reply that left untranslated and was tracked as such)
                }
                counts[0]++;
                final long replySource = key((int)(c.replyAddresses() >>> 32), (int)(c.replyPorts() >>> 24) & 0xFFFF);
                if (!backends.contains(replySource))
                {
                    counts[1]++;
                    if (examples.size() < 5)
                    {
                        examples.add(Ipv4Address.toString((int)c.originalAddresses()) + " -> "
                            + Ipv4Address.toString((int)(c.replyAddresses() >>> 32)) + ":" + ((c.replyPorts() >>> 24) & 0xFFFF));
                    }
                }
                else if (changed.contains(frontend))
                {
                    counts[2]++;
                }
            });
        }
        return new Conntrack(segments, counts[0], counts[1], counts[2], examples);
    }

    /** Each task on a thread of its own (the common pool may have one thread, or none to spare). */
    private static java.util.concurrent.Executor thread(final String name)
    {
        return task -> new Thread(task, name).start();
    }

    private static long key(final int address, final int port)
    {
        return ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    private static void sleepUntil(final long nanos) throws InterruptedException
    {
        final long left = nanos - System.nanoTime();
        if (left > 0)
        {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Wait until the node printed a line starting with {@code prefix} (its sync of the file just written). */
    private static void awaitLine(final StringWriter out, final String prefix, final CompletableFuture<Integer> node,
        final StringWriter err) throws Exception
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            if (out.toString().lines().anyMatch(l -> l.startsWith(prefix)))
            {
                return;
            }
            if (node.isDone())
            {
                break;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("the node did not print '" + prefix + "...': " + out + err);
    }
}
