package io.dpbench.loadgen.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.dpbench.loadgen.drive.LoadGenerator;
import io.dpbench.loadgen.drive.LoadResult;
import io.dpbench.loadgen.workload.WorkloadSpec;
import io.dpbench.model.SyntheticCluster;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The soak: {@code dpbench run} (a child process, conntrack persisted to a file) under open-loop load with churning
 * flows from the load generator over loopback UDP ({@link LoadGenerator} in wire mode, on its own thread), sampled
 * each second (the node's RSS split anonymous / file / shmem and its descriptors from /proc, its counters, conntrack
 * entries and heap after GC from its JSON lines, the generator's counters), with a SIGKILL and restart midway.
 * <p>
 * The timeline, and the accounting it makes exact: <b>segment 1</b> (node 1 up, load on) ends with a quiesce: the
 * generator holds sending (frames still come in), the node's counters stop moving, and the generator's counters are
 * taken: sent = received + drops counted by the generator + the drops node 1 counted. Then the generator marks every
 * established flow's backend and node 1 is killed with SIGKILL. <b>Down</b>: load resumes for {@code downSeconds}
 * against no node: every frame sent then is counted as sent while down (and nothing can come back); the generator
 * then holds again while node 2 starts on the same table file, and resumes once it listens. <b>Segment 2</b> runs to
 * the end; the generator drains what is in flight, node 2 stops on SIGTERM and prints its final counters:
 * sent = received + drops on both sides. Timed-out exchanges are retransmitted on their flow (as TCP does), so
 * flows established before the kill continue after the restart: each one's next request must reach the backend it
 * had (the DNAT binding kept in the conntrack file).
 */
public final class SoakDriver
{
    /** The generator's own bound, this long after the soak's end: it is stopped by the driver before. */
    private static final double END_MARGIN_SECONDS = 120;
    /** The phases of the timeline, as the samples name them. */
    enum Phase
    {
        STARTING, SEGMENT_1, QUIESCE, DOWN, RESTART, SEGMENT_2, DRAIN, DONE
    }

    private final SoakOptions options;
    private final Consumer<String> progress;
    private final Path run;
    private final List<Sample> samples = new ArrayList<>();

    private volatile Phase phase = Phase.STARTING;
    private volatile NodeProcess node;
    private volatile long startNanos;
    private volatile LoadGenerator generator;
    private volatile double killedAt = -1;
    private volatile double resumedAt = -1;

    /** One second's sample. Node fields are -1 while no node runs. */
    record Sample(double t, Phase phase, int segment, long pid, long genSent, long genReceived, long genDrops,
        long nodeReceived, long nodeSent, long nodeDropped, long conntrack, long heapAfterGc, ProcessSample process)
    {
        static final String HEADER = "t_s,phase,segment,node_pid,gen_sent,gen_received,gen_drops,node_received,node_sent,"
            + "node_dropped,conntrack,heap_after_gc_bytes,rss_anon_kib,rss_file_kib,rss_shmem_kib,fds";

        String csv()
        {
            return String.format(Locale.ROOT, "%.1f,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", t,
                phase.name().toLowerCase(Locale.ROOT), segment, pid, genSent, genReceived, genDrops, nodeReceived,
                nodeSent, nodeDropped, conntrack, heapAfterGc, process.rssAnonKib(), process.rssFileKib(),
                process.rssShmemKib(), process.fds());
        }
    }

    public SoakDriver(final SoakOptions options, final Path run, final Consumer<String> progress)
    {
        this.options = options;
        this.run = run;
        this.progress = progress;
    }

    /** Runs the soak; returns the summary (also written as summary.json by the caller). */
    public SoakResult run() throws IOException, InterruptedException
    {
        Files.createDirectories(run);
        final int port = options.port() != 0 ? options.port() : freePort(options.nodes());
        final Path tableDir = Files.createTempDirectory("dpbench-soak-");
        final Path table = tableDir.resolve("conntrack.dat");
        final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dpbench-soak-sampler");
            t.setDaemon(true);
            return t;
        });
        final Thread killOnExit = new Thread(() ->
        {
            final NodeProcess n = node;
            if (n != null)
            {
                n.close();
            }
        }, "dpbench-soak-cleanup");
        Runtime.getRuntime().addShutdownHook(killOnExit);
        final Map<String, Object> accounting = new LinkedHashMap<>();
        final Map<String, Object> restart = new LinkedHashMap<>();
        JsonNode node1Last = null;
        JsonNode node2Final = null;
        LoadResult result = null;
        final long[] b1;
        long[] b2Hold = null;
        long[] b2Resume = null;
        final Map<String, Long> drops1 = new TreeMap<>();
        final Map<String, Long> drops2 = new TreeMap<>();
        long restartMillis = -1;
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(run.resolve("samples.csv"), StandardCharsets.UTF_8)))
        {
            csv.println(Sample.HEADER);
            final double total = options.seconds();
            node = startNode(table, port, "node-1.stderr", total);
            if (!node.awaitListening(120_000))
            {
                throw new IllegalStateException("node 1 did not start (exit " + node.exitCode() + "): see "
                    + run.resolve("node-1.stderr"));
            }
            final LoadGenerator.Options lo = new LoadGenerator.Options(options.mode(), "rr", options.workers(),
                (long)((total + END_MARGIN_SECONDS) * 1e9), 0, options.rate(), new WorkloadSpec(options.services(), options.endpoints(),
                    options.seed(), options.nodes(), options.flows(), options.newFlowShare(), 0, WorkloadSpec.IMIX,
                    options.tcpShare(), SyntheticCluster.Mix.parse(options.mix())), 0, options.maxConntrack(),
                new InetSocketAddress("127.0.1.0", port), false);
            generator = new LoadGenerator(lo, line -> { }, null).retransmitOnTimeout();
            startNanos = System.nanoTime();
            phase = Phase.SEGMENT_1;
            final CompletableFuture<LoadResult> load = CompletableFuture.supplyAsync(generator::run,
                r -> daemon(r, "dpbench-soak-load").start());
            sampler.scheduleAtFixedRate(() -> sample(csv), 1000, 1000, TimeUnit.MILLISECONDS);

            if (options.kill())
            {
                sleepUntil(total * options.killAt(), load);
                // quiesce: hold sending, wait until node 1's counters stop moving, then take the generator's
                phase = Phase.QUIESCE;
                command(g -> g.hold(true));
                final JsonNode settled = awaitSettled(node, 10_000);
                Thread.sleep(300); // what node 1 sent last reaches the generator's sockets
                b1 = onGenerator(g ->
                {
                    final long[] c = g.counters();
                    final long d = g.drops(drops1);
                    g.markBindings();
                    return new long[]{c[0], c[1], d, g.bindingsMarked()};
                });
                node1Last = settled != null ? settled : node.last();
                final long node1Pid = node.pid();
                node.kill9();
                killedAt = elapsed();
                phase = Phase.DOWN;
                restart.put("node_1_pid", node1Pid);
                restart.put("node_1_counters_settled_before_kill", settled != null);
                command(g -> g.hold(false));
                Thread.sleep((long)(options.downSeconds() * 1000));
                b2Hold = onGenerator(g ->
                {
                    g.hold(true);
                    final long[] c = g.counters();
                    return new long[]{c[0], c[1], g.drops(new TreeMap<>())};
                });
                phase = Phase.RESTART;
                final long restartStart = System.nanoTime();
                node = startNode(table, port, "node-2.stderr", total - elapsed());
                if (!node.awaitListening(120_000))
                {
                    throw new IllegalStateException("node 2 did not start on the table of node 1 (exit " + node.exitCode()
                        + "): see " + run.resolve("node-2.stderr"));
                }
                restartMillis = (System.nanoTime() - restartStart) / 1_000_000;
                b2Resume = onGenerator(g ->
                {
                    final long[] c = g.counters();
                    g.hold(false);
                    return new long[]{c[0], c[1], g.drops(drops2)};
                });
                resumedAt = elapsed();
                phase = Phase.SEGMENT_2;
                restart.put("node_2_pid", node.pid());
            }
            else
            {
                b1 = null;
            }
            // the last segment ends as the first: sending held, the node's counters settled, what it sent last
            // received; only then does the generator stop (its own bound is END_MARGIN_SECONDS later, a safety net).
            // Ending on the generator's bound instead left its 200 ms drain to catch the node's last replies, which a
            // node slowed by a loaded machine missed (node received = sent, generator received 0)
            sleepUntil(total, load);
            phase = Phase.DRAIN;
            command(g -> g.hold(true));
            awaitSettled(node, 10_000);
            Thread.sleep(300);
            command(LoadGenerator::stop);
            try
            {
                result = load.get((long)(total + 120), TimeUnit.SECONDS);
            }
            catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex)
            {
                throw new IllegalStateException("the load generator failed: " + ex, ex);
            }
            // the generator has drained (200 ms without a frame); the node's counters stop moving: the last
            // segment's end, taken as segment 1's (the final line `run --json` prints on SIGTERM is not relied on:
            // on a persisted table, Chronicle's own shutdown hook may close the map under the stopping node)
            node2Final = awaitSettled(node, 10_000);
            final JsonNode onSigterm = node.terminate(30_000);
            restart.put("last_node_exit_code", node.exitCode());
            restart.put("last_node_final_counters_on_sigterm", onSigterm != null);
            phase = Phase.DONE;
            sampler.shutdown();
            sampler.awaitTermination(5, TimeUnit.SECONDS);
            synchronized (samples)
            {
                csv.flush();
            }
            final Map<String, Long> dropsEnd = new TreeMap<>(result.drops());
            final long nodeDropsLast = NodeProcess.drops(node2Final);
            if (b1 != null)
            {
                final long nodeDrops1 = NodeProcess.drops(node1Last);
                accounting.put("segment_1", segment(b1[0], b1[1], b1[2], nodeDrops1, drops1, node1Last));
                final Map<String, Object> down = new LinkedHashMap<>();
                down.put("seconds_with_load", round(options.downSeconds()));
                down.put("sent_while_down", b2Hold[0] - b1[0]);
                down.put("received_while_down", b2Resume[1] - b1[1]);
                down.put("generator_drops_while_down", b2Resume[2] - b1[2]);
                down.put("holds", b2Resume[1] - b1[1] == 0 && b2Resume[0] == b2Hold[0]);
                accounting.put("down", down);
                final Map<String, Long> d2 = new TreeMap<>(dropsEnd);
                drops2.forEach((reason, before) -> d2.merge(reason, -before, Long::sum));
                d2.values().removeIf(v -> v == 0);
                accounting.put("segment_2", segment(result.sent() - b2Resume[0], result.received() - b2Resume[1],
                    result.countedDrops() - b2Resume[2], nodeDropsLast, d2, node2Final));
                final long everything = result.received() + result.countedDrops() + nodeDrops1 + nodeDropsLast
                    + (b2Hold[0] - b1[0]);
                final Map<String, Object> whole = new LinkedHashMap<>();
                whole.put("sent", result.sent());
                whole.put("received_plus_drops_plus_sent_while_down", everything);
                whole.put("holds", result.sent() == everything);
                accounting.put("whole_run", whole);
                restart.put("restart_ms", restartMillis);
                restart.put("killed_at_s", round(killedAt));
                restart.put("resumed_at_s", round(resumedAt));
                restart.put("bindings_established_at_kill", b1[3]);
                restart.put("bindings_continued_after_restart", generator.bindingsChecked());
                restart.put("bindings_changed", generator.bindingsChanged());
                restart.put("holds", generator.bindingsChanged() == 0 && generator.bindingsChecked() > 0);
            }
            else
            {
                accounting.put("segment_1", segment(result.sent(), result.received(), result.countedDrops(), nodeDropsLast,
                    dropsEnd, node2Final));
            }
        }
        finally
        {
            sampler.shutdownNow();
            final NodeProcess n = node;
            if (n != null)
            {
                n.close();
            }
            try
            {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            }
            catch (final IllegalStateException ex)
            {
                // shutting down: the hook runs
            }
            deleteTree(tableDir);
            for (final String err : new String[]{"node-1.stderr", "node-2.stderr"})
            {
                final Path p = run.resolve(err);
                if (Files.exists(p) && Files.size(p) == 0)
                {
                    Files.delete(p);
                }
            }
        }
        final List<Sample> all;
        synchronized (samples)
        {
            all = List.copyOf(samples);
        }
        return SoakResult.of(options, port, all, accounting, restart, result, generator.retransmissions(), killedAt,
            resumedAt);
    }

    private static Map<String, Object> segment(final long sent, final long received, final long generatorDrops,
        final long nodeDrops, final Map<String, Long> generatorReasons, final JsonNode nodeCounters)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("sent", sent);
        m.put("received", received);
        m.put("generator_drops", generatorDrops);
        m.put("generator_drops_by_reason", generatorReasons);
        m.put("node_drops", nodeDrops);
        m.put("node_drops_by_reason", nodeCounters != null && nodeCounters.get("dropped") != null
            ? nodeCounters.get("dropped") : Map.of());
        m.put("node_received", nodeCounters != null && nodeCounters.get("received") != null ? nodeCounters.get("received").asLong() : -1);
        m.put("unaccounted", sent - received - generatorDrops - nodeDrops);
        m.put("holds", nodeCounters != null && sent == received + generatorDrops + nodeDrops);
        return m;
    }

    private NodeProcess startNode(final Path table, final int port, final String stderr, final double seconds)
        throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("--mode", options.mode(), "--services",
            String.valueOf(options.services()), "--endpoints", String.valueOf(options.endpoints()), "--seed",
            String.valueOf(options.seed()), "--mix", options.mix(), "--nodes", String.valueOf(options.nodes()),
            "--workers", String.valueOf(options.workers()), "--port", String.valueOf(port), "--table", table.toString(),
            "--max-conntrack", String.valueOf(options.maxConntrack()), "--interval", "1", "--json", "--json-lines",
            // bounded even if this driver dies: the node stops by itself a while after the soak's end
            "--duration", String.valueOf((long)seconds + 300)));
        final String java = ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return new NodeProcess(java, options.jvmFlags(), options.nodeJvmOptions(), System.getProperty("java.class.path"),
            args, run.resolve(stderr));
    }

    /** Every second: the generator's counters (taken on its thread), the node's last counters line, /proc. */
    private void sample(final PrintWriter csv)
    {
        try
        {
            final Phase p = phase;
            final double t = elapsed();
            long[] g = null;
            try
            {
                g = onGenerator(LoadGenerator::counters, 500);
            }
            catch (final RuntimeException ex)
            {
                // draining or finished: no generator sample this second
            }
            final NodeProcess n = node;
            final boolean up = n != null && n.alive() && p != Phase.DOWN;
            final JsonNode c = up ? n.last() : null;
            final ProcessSample proc = up ? ProcessSample.of(n.pid()) : ProcessSample.NONE;
            final int segment = p == Phase.SEGMENT_1 || p == Phase.QUIESCE || p == Phase.STARTING ? 1
                : p == Phase.DOWN ? 0 : 2;
            final Sample s = new Sample(t, p, options.kill() ? segment : 1, up ? n.pid() : -1, g != null ? g[0] : -1,
                g != null ? g[1] : -1, g != null ? g[2] : -1, value(c, "received"), value(c, "sent"),
                c != null ? NodeProcess.drops(c) : -1, value(c, "conntrack"), value(c, "heap-after-gc"), proc);
            synchronized (samples)
            {
                samples.add(s);
                csv.println(s.csv());
                csv.flush();
            }
            if (samples.size() % 5 == 0)
            {
                progress.accept(String.format(Locale.ROOT,
                    "soak: t=%4.0fs %-9s sent %,d received %,d node drops %,d conntrack %,d rss anon %,d KiB file %,d KiB heap after GC %,d KiB fds %d",
                    t, p.name().toLowerCase(Locale.ROOT), s.genSent(), s.genReceived(), s.nodeDropped(), s.conntrack(),
                    proc.rssAnonKib(), proc.rssFileKib(), s.heapAfterGc() / 1024, proc.fds()));
            }
        }
        catch (final RuntimeException ex)
        {
            progress.accept("soak: sample failed: " + ex);
        }
    }

    private static long value(final JsonNode c, final String field)
    {
        return c != null && c.get(field) != null ? c.get(field).asLong() : -1;
    }

    /** Waits until two consecutive counters lines of the node have the same received and sent; the second, or null. */
    private static JsonNode awaitSettled(final NodeProcess n, final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        long seen = n.lines();
        JsonNode previous = null;
        while (System.nanoTime() < deadline)
        {
            Thread.sleep(50);
            if (n.lines() == seen)
            {
                continue;
            }
            seen = n.lines();
            final JsonNode now = n.last();
            if (previous != null && value(previous, "received") == value(now, "received")
                && value(previous, "sent") == value(now, "sent"))
            {
                return now;
            }
            previous = now;
        }
        return null;
    }

    private <T> T onGenerator(final java.util.function.Function<LoadGenerator, T> f)
    {
        return onGenerator(f, 5_000);
    }

    private <T> T onGenerator(final java.util.function.Function<LoadGenerator, T> f, final long timeoutMillis)
    {
        final CompletableFuture<T> done = new CompletableFuture<>();
        final LoadGenerator g = generator;
        if (!g.execute(() ->
        {
            try
            {
                done.complete(f.apply(g));
            }
            catch (final RuntimeException ex)
            {
                done.completeExceptionally(ex);
            }
        }))
        {
            throw new IllegalStateException("the generator's command queue is full");
        }
        try
        {
            return done.get(timeoutMillis, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex)
        {
            throw new IllegalStateException("the generator did not answer: " + ex, ex);
        }
    }

    private void command(final Consumer<LoadGenerator> f)
    {
        onGenerator(g ->
        {
            f.accept(g);
            return Boolean.TRUE;
        });
    }

    private double elapsed()
    {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private void sleepUntil(final double seconds, final CompletableFuture<?> load) throws InterruptedException
    {
        while (elapsed() < seconds && !load.isDone())
        {
            Thread.sleep(Math.max(1, Math.min(200, (long)((seconds - elapsed()) * 1000))));
        }
        if (load.isDone())
        {
            throw new IllegalStateException("the load generator stopped early (at " + round(elapsed()) + " s): " + load);
        }
    }

    private static Thread daemon(final Runnable r, final String name)
    {
        final Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static double round(final double v)
    {
        return Math.round(v * 10) / 10.0;
    }

    /** A port in 20000..29999 free on every address the soak binds (node 0's VTEP, the other VTEPs, the pods). */
    static int freePort(final int nodes)
    {
        final java.util.SplittableRandom random = new java.util.SplittableRandom();
        for (int attempt = 0; attempt < 50; attempt++)
        {
            final int port = 20_000 + random.nextInt(10_000);
            final List<DatagramChannel> probes = new ArrayList<>();
            try
            {
                for (int k = 0; k <= nodes; k++)
                {
                    final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                    probes.add(c);
                    c.bind(new InetSocketAddress(k == nodes ? "127.0.2.0" : "127.0.1." + k, port));
                }
                return port;
            }
            catch (final IOException ex)
            {
                // taken: another
            }
            finally
            {
                for (final DatagramChannel c : probes)
                {
                    try
                    {
                        c.close();
                    }
                    catch (final IOException ex)
                    {
                        // closing a probe
                    }
                }
            }
        }
        throw new IllegalStateException("no free UDP port in 20000..29999 after 50 tries");
    }

    private static void deleteTree(final Path dir)
    {
        try (Stream<Path> s = Files.walk(dir))
        {
            s.sorted(Comparator.reverseOrder()).forEach(p ->
            {
                try
                {
                    Files.deleteIfExists(p);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            });
        }
        catch (final IOException | UncheckedIOException ex)
        {
            // best effort: a temporary folder
        }
    }
}
