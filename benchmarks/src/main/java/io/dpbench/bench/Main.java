package io.dpbench.bench;

import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of {@code benchmarks.jar}: JMH's own command line, plus the project's JVM flags (the repository's
 * {@code jvm.flags}, packaged into this jar) appended to every forked benchmark JVM, so a fork gets what Agrona and
 * Chronicle Map need however the jar was started. Everything else is JMH's: {@code -h} lists its options.
 * A {@code -jvmArgsAppend} given on the command line is kept, after them. Because these flags are given as options
 * they replace any {@code @Fork(jvmArgsAppend)} of a benchmark (JMH's precedence), so benchmarks must not rely on
 * that annotation.
 */
public final class Main
{
    /**
     * A benchmark fork's heap: fixed, pre-touched and on transparent huge pages. On the project's VMs the first touch
     * of a page costs ~10 us (the hypervisor backs guest memory lazily), so a fork whose heap grew during the
     * measurement paid for it in whatever benchmark allocated most: IptablesSyncBenchmark at 1,000 Services measured
     * 25 ms/op while eden reused touched pages and 250 ms/op after G1 grew the heap into new ones, in the same fork.
     * Pre-touching moves that cost to the fork's start (about 2 s), where nothing is timed. 4 GiB holds the largest
     * benchmark (the 50,000-Service sync: ~1.5 GiB live).
     */
    public static final List<String> FORK_HEAP_FLAGS =
        List.of("-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch", "-XX:+UseTransparentHugePages");

    private Main()
    {
    }

    public static void main(final String[] args) throws RunnerException, IOException
    {
        final CommandLineOptions commandLine;
        try
        {
            commandLine = new CommandLineOptions(args);
        }
        catch (final CommandLineOptionException ex)
        {
            System.err.println("benchmarks: " + ex.getMessage());
            System.exit(2);
            return;
        }
        if (commandLine.shouldHelp() || commandLine.shouldList() || commandLine.shouldListWithParams()
            || commandLine.shouldListProfilers() || commandLine.shouldListResultFormats())
        {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        final List<String> flags = jvmFlags();
        flags.addAll(FORK_HEAP_FLAGS);
        // the command line's own -jvmArgsAppend would be replaced by ours: keep it, after the project's flags
        if (commandLine.getJvmArgsAppend().hasValue())
        {
            flags.addAll(commandLine.getJvmArgsAppend().get());
        }
        final Options options = new OptionsBuilder().parent(commandLine)
            .jvmArgsAppend(flags.toArray(new String[0]))
            .build();
        new Runner(options).run();
    }

    /** The flags of {@code jvm.flags}: one per line, '#' comments and blank lines skipped. */
    public static List<String> jvmFlags() throws IOException
    {
        final List<String> flags = new ArrayList<>();
        try (InputStream in = Main.class.getResourceAsStream("jvm.flags"))
        {
            if (in == null)
            {
                throw new IOException("jvm.flags is missing from the benchmarks jar (rebuild it with mvn package)");
            }
            final BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine())
            {
                final String flag = line.strip();
                if (!flag.isEmpty() && !flag.startsWith("#"))
                {
                    flags.add(flag);
                }
            }
        }
        return flags;
    }
}
