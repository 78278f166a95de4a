package io.dpbench.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs a target over inputs on a worker thread while the calling thread watches the time each input takes: an input
 * over the bound is a hang (the run stops there; the stuck daemon thread is abandoned). An escaped exception is a
 * finding; the run goes on. Each finding's input is written to the findings folder as {@code crash-<sha1>} or
 * {@code timeout-<sha1>} (libFuzzer's names), ready to be moved into the corpus as a regression input.
 *
 * <p>Also the mutational engine's command line (what {@code scripts/fuzz --engine mutational} runs):
 * {@code FuzzRunner TARGET RUNS SEED TIMEOUT_MS FINDINGS_DIR}.
 */
public final class FuzzRunner
{
    /** What a run found. {@code escapes} maps "exception class at top frame" to the first one (message, first frames). */
    public record Result(String target, long inputs, double seconds, Map<String, String> escapes, int escapedInputs,
        int hangs, List<Path> reproducers)
    {
        public boolean clean()
        {
            return escapedInputs == 0 && hangs == 0;
        }

        public String summary()
        {
            return String.format(Locale.ROOT, "%s: %,d inputs in %.1f s, %d escaped exceptions (%d distinct), %d hangs%s",
                target, inputs, seconds, escapedInputs, escapes.size(), hangs,
                reproducers.isEmpty() ? "" : ", reproducers: " + reproducers);
        }
    }

    private static final class Worker implements Runnable
    {
        private final FuzzTarget target;
        private final Supplier<byte[]> inputs;
        private final long count;
        volatile byte[] current;
        volatile long startedNanos;
        volatile long done;
        volatile boolean finished;
        /** The first input and exception of each distinct escape ("class at top frame"). */
        final Map<String, Object[]> escapes = new LinkedHashMap<>();
        volatile int escaped;

        Worker(final FuzzTarget target, final Supplier<byte[]> inputs, final long count)
        {
            this.target = target;
            this.inputs = inputs;
            this.count = count;
        }

        @Override
        public void run()
        {
            try
            {
                for (long i = 0; i < count; i++)
                {
                    final byte[] input = inputs.get();
                    if (input == null)
                    {
                        break;
                    }
                    current = input;
                    startedNanos = System.nanoTime();
                    try
                    {
                        target.test(input);
                    }
                    catch (final Throwable t)
                    {
                        final StackTraceElement[] trace = t.getStackTrace();
                        final String key = t.getClass().getName() + (trace.length > 0 ? " at " + trace[0] : "");
                        synchronized (escapes)
                        {
                            escapes.putIfAbsent(key, new Object[]{input, t});
                        }
                        escaped++;
                    }
                    startedNanos = 0;
                    done = i + 1;
                }
            }
            finally
            {
                finished = true;
            }
        }
    }

    private FuzzRunner()
    {
    }

    /** Run {@code count} inputs (fewer if {@code inputs} returns null) with a per-input bound. */
    public static Result run(final FuzzTarget target, final Supplier<byte[]> inputs, final long count,
        final long timeoutMillis, final Path findings)
    {
        final Worker worker = new Worker(target, inputs, count);
        final Thread thread = new Thread(worker, "fuzz-" + target.name());
        thread.setDaemon(true);
        final long start = System.nanoTime();
        thread.start();
        final long bound = timeoutMillis * 1_000_000L;
        byte[] hung = null;
        while (!worker.finished)
        {
            try
            {
                thread.join(Math.min(50, timeoutMillis));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
            final long started = worker.startedNanos;
            final byte[] current = worker.current;
            if (!worker.finished && started != 0 && System.nanoTime() - started > bound && started == worker.startedNanos)
            {
                hung = current;
                thread.interrupt();
                break;
            }
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        final Map<String, String> distinct = new LinkedHashMap<>();
        final List<Path> reproducers = new ArrayList<>();
        synchronized (worker.escapes)
        {
            for (final Map.Entry<String, Object[]> escape : worker.escapes.entrySet())
            {
                distinct.put(escape.getKey(), describe((Throwable)escape.getValue()[1]));
                reproducers.add(save(findings, "crash-", (byte[])escape.getValue()[0]));
            }
        }
        if (hung != null)
        {
            reproducers.add(save(findings, "timeout-", hung));
        }
        return new Result(target.name(), worker.done + (hung != null ? 1 : 0), seconds, distinct, worker.escaped,
            hung != null ? 1 : 0, reproducers);
    }

    /** The corpus' files in order, then {@code count - files} mutations of them from {@code seed}. */
    public static Supplier<byte[]> corpusThenMutations(final FuzzTarget target, final long seed, final int maxLength)
    {
        final List<byte[]> files = new ArrayList<>();
        for (final Path p : FuzzTargets.corpusFiles(target))
        {
            try
            {
                files.add(Files.readAllBytes(p));
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
        final Mutator mutator = new Mutator(seed, files, maxLength);
        final int[] replayed = {0};
        return () -> replayed[0] < files.size() ? files.get(replayed[0]++) : mutator.next();
    }

    /** The exception's message and its first frames (enough to find the fault, short enough for a report). */
    static String describe(final Throwable t)
    {
        final StringBuilder out = new StringBuilder(t.toString());
        final StackTraceElement[] trace = t.getStackTrace();
        for (int i = 0; i < Math.min(trace.length, 8); i++)
        {
            out.append("\n    at ").append(trace[i]);
        }
        return out.toString();
    }

    static Path save(final Path dir, final String prefix, final byte[] input)
    {
        try
        {
            Files.createDirectories(dir);
            final String sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(input));
            final Path file = dir.resolve(prefix + sha1);
            Files.write(file, input);
            return file;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    public static void main(final String[] args)
    {
        if (args.length != 5)
        {
            System.err.println("usage: FuzzRunner TARGET RUNS SEED TIMEOUT_MS FINDINGS_DIR");
            System.exit(2);
        }
        final FuzzTarget target = FuzzTargets.named(args[0]);
        final long runs = Long.parseLong(args[1]);
        final Result result = run(target, corpusThenMutations(target, Long.parseLong(args[2]), 16_384), runs,
            Long.parseLong(args[3]), Path.of(args[4]));
        result.escapes().forEach((where, message) -> System.out.println("escaped: " + message));
        System.out.println(result.summary());
        System.exit(result.clean() ? 0 : 1);
    }
}
