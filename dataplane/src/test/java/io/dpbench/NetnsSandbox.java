package io.dpbench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Network namespaces a test creates (and deletes in {@link #close()}), and commands run in them: the real kernel
 * and its tools (iptables, ipset) as the oracle. {@link #requireOrSkip} skips without root or the tools, unless
 * DPBENCH_REQUIRE_IPTABLES=1 (set by scripts/test, which installs them) makes that a failure.
 */
public final class NetnsSandbox implements AutoCloseable
{
    private static int counter;
    private final List<String> namespaces = new ArrayList<>();

    public record Result(int exit, String out, String err)
    {
    }

    public static void requireOrSkip(final String... tools) throws Exception
    {
        final boolean required = "1".equals(System.getenv("DPBENCH_REQUIRE_IPTABLES"));
        boolean usable = "root".equals(System.getProperty("user.name"));
        String why = usable ? "" : "not root";
        for (final String tool : tools)
        {
            try
            {
                if (run(null, tool, "--version").exit != 0)
                {
                    usable = false;
                    why = tool + " --version failed";
                }
            }
            catch (final IOException ex)
            {
                usable = false;
                why = tool + " missing";
            }
        }
        if (required)
        {
            assertThat(usable).as("required (DPBENCH_REQUIRE_IPTABLES=1): " + why).isTrue();
        }
        assumeTrue(usable, "skipped: " + why + " (scripts/test installs the tools)");
    }

    public String create() throws Exception
    {
        final String ns = "dpbench-t" + ProcessHandle.current().pid() + "-" + next();
        final Result r = run(null, "ip", "netns", "add", ns);
        assertThat(r.exit()).as("ip netns add: %s", r.err()).isZero();
        namespaces.add(ns);
        return ns;
    }

    private static synchronized int next()
    {
        return counter++;
    }

    /** Run a command inside the namespace, with optional standard input. */
    public Result exec(final String ns, final String stdin, final String... command) throws Exception
    {
        final String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(command, 0, full, 4, command.length);
        return run(stdin, full);
    }

    @Override
    public void close() throws Exception
    {
        for (final String ns : namespaces)
        {
            run(null, "ip", "netns", "del", ns);
        }
        namespaces.clear();
    }

    public static Result run(final String stdin, final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).start();
        final Thread feeder = new Thread(() ->
        {
            try (OutputStream in = p.getOutputStream())
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
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
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
