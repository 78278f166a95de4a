package io.dpbench.loadgen.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The node under soak: {@code dpbench run --json-lines} as a child process (its own JVM, started with the project's
 * {@code jvm.flags}). A reader thread keeps the last counters line it printed (one JSON object a second) and notices
 * when it listens. Stopped with SIGKILL ({@link #kill9()}) or SIGTERM ({@link #terminate()}: its final counters).
 */
final class NodeProcess implements AutoCloseable
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Thread reader;
    private final CountDownLatch listening = new CountDownLatch(1);
    private volatile JsonNode last;
    private volatile String lastLine = "";
    private volatile long lines;

    /** Starts {@code java @jvmFlags [jvmOptions] -cp classpath io.dpbench.cli.Main run ARGS}; stderr goes to {@code stderr}. */
    NodeProcess(final String java, final Path jvmFlags, final List<String> jvmOptions, final String classpath,
        final List<String> runArgs, final Path stderr) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(java);
        command.add("@" + jvmFlags);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        command.add("io.dpbench.cli.Main");
        command.add("run");
        command.addAll(runArgs);
        process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        reader = new Thread(this::read, "dpbench-soak-node-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    private void read()
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                lastLine = line;
                if (line.startsWith("{"))
                {
                    try
                    {
                        last = JSON.readTree(line);
                        lines++;
                    }
                    catch (final IOException ex)
                    {
                        // a line cut by a kill: the previous one stays
                    }
                }
                else if (line.startsWith("run: node 0 listening"))
                {
                    listening.countDown();
                }
            }
        }
        catch (final IOException ex)
        {
            // the process is gone
        }
    }

    long pid()
    {
        return process.pid();
    }

    boolean alive()
    {
        return process.isAlive();
    }

    /** Waits until the node listens (its sockets are bound); false when it exited or the time ran out. */
    boolean awaitListening(final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline)
        {
            if (listening.await(50, TimeUnit.MILLISECONDS))
            {
                return true;
            }
            if (!process.isAlive())
            {
                return false;
            }
        }
        return false;
    }

    /** The last counters the node printed (null before the first). */
    JsonNode last()
    {
        return last;
    }

    /** Counters lines read so far. */
    long lines()
    {
        return lines;
    }

    /** SIGKILL, and wait until the process is gone (its sockets closed). */
    void kill9() throws InterruptedException
    {
        process.destroyForcibly(); // SIGKILL on Linux
        process.waitFor(30, TimeUnit.SECONDS);
        reader.join(5_000);
    }

    /** SIGTERM, wait for the clean stop; returns its final counters (its last JSON line), null if none came. */
    JsonNode terminate(final long timeoutMillis) throws InterruptedException
    {
        final long before = lines;
        process.destroy(); // SIGTERM
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(5_000);
        return lines > before ? last : null;
    }

    /** The last line the node printed (for an error message). */
    String lastLine()
    {
        return lastLine;
    }

    int exitCode()
    {
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** The sum of the node's counted drops in a counters line. */
    static long drops(final JsonNode counters)
    {
        long total = 0;
        final JsonNode dropped = counters == null ? null : counters.get("dropped");
        if (dropped != null)
        {
            for (final JsonNode n : dropped)
            {
                total += n.asLong();
            }
        }
        return total;
    }

    @Override
    public void close()
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
            try
            {
                process.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
