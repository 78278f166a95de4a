package io.dpbench.loadgen.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a run was measured on, as {@code scripts/bench} writes it for the benchmarks ({@code environment.json}): the
 * commit and whether the tree was dirty, the time, the CPU, cores, memory, OS and kernel, the JVM and its flags, and
 * the command line. Whatever cannot be read is "unknown" rather than missing.
 */
public final class RunEnvironment
{
    private RunEnvironment()
    {
    }

    /** The environment of this JVM, for a run started with {@code command}. */
    public static Map<String, Object> collect(final List<String> command)
    {
        final Map<String, Object> e = new LinkedHashMap<>();
        final String commit = git("rev-parse", "--short=12", "HEAD");
        e.put("commit", commit);
        final String status = "unknown".equals(commit) ? "" : git("status", "--porcelain");
        e.put("dirty", !"unknown".equals(commit) && !status.isEmpty() && !"unknown".equals(status));
        e.put("utc", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        e.put("cpu", firstValue(Path.of("/proc/cpuinfo"), "model name"));
        e.put("cores", Runtime.getRuntime().availableProcessors());
        final String mem = firstValue(Path.of("/proc/meminfo"), "MemTotal");
        e.put("memory_kib", mem.endsWith(" kB") ? Long.parseLong(mem.substring(0, mem.length() - 3).trim()) : -1L);
        e.put("os", osName() + " " + System.getProperty("os.version"));
        e.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        e.put("jvm_flags", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        e.put("command", String.join(" ", command));
        return e;
    }

    private static String osName()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/etc/os-release"), StandardCharsets.UTF_8))
            {
                if (line.startsWith("PRETTY_NAME="))
                {
                    return line.substring("PRETTY_NAME=".length()).replace("\"", "");
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // not Linux, or not readable: the JVM's name for it
        }
        return System.getProperty("os.name");
    }

    /** The value of the first "key : value" line of a /proc file; "unknown" when absent. */
    private static String firstValue(final Path file, final String key)
    {
        try
        {
            for (final String line : Files.readAllLines(file, StandardCharsets.UTF_8))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key))
                {
                    return line.substring(colon + 1).trim();
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // not Linux: unknown
        }
        return "unknown";
    }

    /** The checkout this code was built in (a parent of its jar or classes holding .git), else the working directory. */
    private static Path checkout()
    {
        try
        {
            Path p = Path.of(RunEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            while (p != null)
            {
                if (Files.exists(p.resolve(".git")))
                {
                    return p;
                }
                p = p.getParent();
            }
        }
        catch (final java.net.URISyntaxException | RuntimeException ex)
        {
            // no code source (or not a file): the working directory
        }
        return Path.of("").toAbsolutePath();
    }

    /** A git command's trimmed output in the checkout; "unknown" when git or a repository is missing. */
    private static String git(final String... args)
    {
        try
        {
            final String[] cmd = new String[args.length + 3];
            cmd[0] = "git";
            cmd[1] = "-C";
            cmd[2] = checkout().toString();
            System.arraycopy(args, 0, cmd, 3, args.length);
            final Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            p.getOutputStream().close();
            final byte[] out = p.getInputStream().readAllBytes();
            p.getErrorStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                return "unknown";
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).trim() : "unknown";
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
