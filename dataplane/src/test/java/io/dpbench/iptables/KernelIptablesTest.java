package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real kernel as the oracle: rendered rules are loaded with iptables-restore into a network namespace this test
 * creates (and deletes), read back with iptables-save, and compared with dpbench's own iptables-save rendering; the
 * packet stories then run on the kernel's text. Needs root, iproute2 and iptables; {@code scripts/test} installs
 * iptables and sets DPBENCH_REQUIRE_IPTABLES=1 so that this cannot silently skip there.
 */
class KernelIptablesTest
{
    private static int counter;
    private final List<String> namespaces = new ArrayList<>();

    @AfterEach
    void deleteNamespaces() throws Exception
    {
        for (final String ns : namespaces)
        {
            run(null, "ip", "netns", "del", ns);
        }
    }

    @Test
    void kernelSavesRenderedRulesExactlyAsDpbenchPrintsThemAndStoriesHoldOnItsText() throws Exception
    {
        requireOrSkip();
        final String ours = PacketFlowTest.renderSaved(KubeProxyGoldenTest.overallCluster());
        final String kernels = loadAndSave(ours);
        assertThat(kernels).isEqualTo(ours);
        PacketFlowStories.assertAll(PacketFlowTest.compileSaved(kernels));
    }

    @Test
    void realisticMixRoundTripsThroughTheKernel() throws Exception
    {
        requireOrSkip();
        final ClusterModel cluster = SyntheticCluster.generate(400, 3, 11, SyntheticCluster.Mix.REALISTIC);
        final String ours = PacketFlowTest.renderSaved(cluster);
        final String kernels = loadAndSave(ours);
        assertThat(kernels).isEqualTo(ours);
        // the engine classifies identically from either text
        final CompiledRules a = PacketFlowTest.compileSaved(ours);
        final CompiledRules b = PacketFlowTest.compileSaved(kernels);
        for (int i = 0; i < 400; i += 7)
        {
            final int vip = Ipv4Address.parse("10.96.0.1") + i;
            final Tracer.Result ra = Tracer.trace(a, Ipv4Address.parse("192.168.0.2"), 6, Ipv4Address.parse("10.244.3.3"), 40000, vip, 80, 0);
            final Tracer.Result rb = Tracer.trace(b, Ipv4Address.parse("192.168.0.2"), 6, Ipv4Address.parse("10.244.3.3"), 40000, vip, 80, 0);
            assertThat(rb.verdict()).isEqualTo(ra.verdict());
            assertThat(rb.destinations()).isEqualTo(ra.destinations());
            assertThat(rb.masquerade()).isEqualTo(ra.masquerade());
        }
    }

    @Test
    void tenThousandServicesLoad() throws Exception
    {
        requireOrSkip();
        final ClusterModel cluster = SyntheticCluster.generate(10_000, 4, 1, SyntheticCluster.Mix.CLUSTER_IP);
        final String ours = PacketFlowTest.renderSaved(cluster);
        final String ns = newNamespace();
        final Result test = run(ours, "ip", "netns", "exec", ns, "iptables-restore", "--test");
        assertThat(test.exit).as("iptables-restore --test: %s", test.err).isZero();
        final Result load = run(ours, "ip", "netns", "exec", ns, "iptables-restore");
        assertThat(load.exit).as("iptables-restore: %s", load.err).isZero();
        final Result save = run(null, "ip", "netns", "exec", ns, "iptables-save");
        final long kernelRules = save.out.lines().filter(l -> l.startsWith("-A ")).count();
        assertThat(kernelRules).isEqualTo(IptablesSaveParser.parse(ours, "ours").ruleCount()).isGreaterThan(140_000);
    }

    private String loadAndSave(final String rules) throws Exception
    {
        final String ns = newNamespace();
        final Result load = run(rules, "ip", "netns", "exec", ns, "iptables-restore");
        assertThat(load.exit).as("iptables-restore failed: %s", load.err).isZero();
        final Result save = run(null, "ip", "netns", "exec", ns, "iptables-save");
        assertThat(save.exit).as("iptables-save failed: %s", save.err).isZero();
        return save.out.lines().filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n", "", "\n"));
    }

    private String newNamespace() throws Exception
    {
        final String ns = "dpbench-t" + ProcessHandle.current().pid() + "-" + (counter++);
        final Result r = run(null, "ip", "netns", "add", ns);
        assertThat(r.exit).as("ip netns add: %s", r.err).isZero();
        namespaces.add(ns);
        return ns;
    }

    private static void requireOrSkip() throws Exception
    {
        final boolean required = "1".equals(System.getenv("DPBENCH_REQUIRE_IPTABLES"));
        boolean usable;
        String why = "";
        try
        {
            usable = run(null, "iptables-restore", "--version").exit == 0 && "root".equals(System.getProperty("user.name"));
            why = "iptables-restore missing or not root";
        }
        catch (final IOException ex)
        {
            usable = false;
            why = ex.getMessage();
        }
        if (required)
        {
            assertThat(usable).as("iptables and root are required (DPBENCH_REQUIRE_IPTABLES=1): " + why).isTrue();
        }
        assumeTrue(usable, "skipped: " + why + " (scripts/test installs iptables)");
    }

    record Result(int exit, String out, String err)
    {
    }

    private static Result run(final String stdin, final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).start();
        final Thread feeder = new Thread(() ->
        {
            try (var in = p.getOutputStream())
            {
                if (stdin != null)
                {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            catch (final IOException ignored)
            {
                // the process exited early; its exit status says why
            }
        });
        feeder.start();
        final var err = new java.io.ByteArrayOutputStream();
        final Thread errReader = new Thread(() ->
        {
            try
            {
                p.getErrorStream().transferTo(err);
            }
            catch (final IOException ignored)
            {
                // stream closed
            }
        });
        errReader.start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", command));
        }
        feeder.join();
        errReader.join();
        return new Result(p.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    }
}
