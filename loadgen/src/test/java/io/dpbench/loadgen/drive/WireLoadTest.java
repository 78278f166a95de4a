package io.dpbench.loadgen.drive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.cli.Main;
import io.dpbench.loadgen.workload.WorkloadSpec;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The end-to-end test: `dpbench run` on loopback, driven over UDP by the load generator for a bounded time
 * with TCP and UDP flows to many Services: every flow kept one backend, every reply came back from its VIP:port, and
 * what the generator sent = what it received + the node's counted drops + kernel socket drops.
 */
class WireLoadTest
{
    @Test
    void theLoadGeneratorDrivesDpbenchRunOverUdp() throws Exception
    {
        final int port = 30_000 + (int)(ProcessHandle.current().pid() % 20_000);
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CompletableFuture<Integer> node = CompletableFuture.supplyAsync(() -> Main.run(new String[]{"run", "--mode",
            "ipvs", "--mix", "realistic", "--services", "200", "--nodes", "4", "--port", String.valueOf(port),
            "--duration", "12", "--interval", "0", "--json"}, new PrintWriter(out), new PrintWriter(err)));
        awaitListening(port, node);
        final LoadGenerator.Options options = new LoadGenerator.Options("ipvs", "rr", 1, 3_000_000_000L, 0, 0,
            new WorkloadSpec(200, 4, 1, 4, 300, 0.2, 0.8, WorkloadSpec.IMIX, 0.7), 0, 131072,
            new InetSocketAddress("127.0.1.0", port), false);
        final LoadResult r = new LoadGenerator(options, line -> { }, null).run();
        assertThat(node.get(30, TimeUnit.SECONDS)).as(err.toString()).isZero();

        assertThat(r.backendChanged()).as("flows that changed backend").isZero();
        assertThat(r.untranslated()).as("replies not from the VIP:port").isZero();
        assertThat(r.unexpected()).isZero();
        assertThat(r.flowsCompleted()).as("TCP and UDP flows opened and closed").isGreaterThan(200);
        assertThat(r.latency().getTotalCount()).isGreaterThan(1000);
        final String json = out.toString().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow();
        final JsonNode counters = new ObjectMapper().readTree(json);
        long nodeDrops = 0;
        for (final Iterator<JsonNode> it = counters.get("dropped").elements(); it.hasNext(); )
        {
            nodeDrops += it.next().asLong();
        }
        assertThat(r.sent()).as("sent = received + node drops + kernel socket drops (%s, node %s)", r.drops(), json)
            .isEqualTo(r.received() + nodeDrops + r.countedDrops());
        assertThat(r.unaccounted()).as("the generator's unaccounted frames are the node's drops").isEqualTo(nodeDrops);
        // no copies: every frame was processed in its receive buffer and sent from it (the workload makes no ICMP
        // errors or fragments, the only frames made elsewhere), and every buffer was given back
        assertThat(counters.get("rx-copied").asLong()).isZero();
        assertThat(counters.get("rx-zero-copy").asLong()).isEqualTo(counters.get("received").asLong());
        assertThat(counters.get("tx-copied").asLong()).isZero();
        assertThat(counters.get("tx-zero-copy").asLong()).isEqualTo(counters.get("sent").asLong());
        assertThat(counters.get("held").asLong()).isZero();
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
            .filter(t -> t.getName().startsWith("dpbench-worker"))).isEmpty();
    }

    /** Until `dpbench run` holds 127.0.1.0:port (a bind there fails), or it ended, or 20 s passed. */
    static void awaitListening(final int port, final CompletableFuture<Integer> run) throws Exception
    {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline && !run.isDone())
        {
            try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET))
            {
                probe.bind(new InetSocketAddress("127.0.1.0", port));
            }
            catch (final java.net.BindException ex)
            {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("dpbench run did not start listening: " + (run.isDone() ? run.get() : "timeout"));
    }
}
