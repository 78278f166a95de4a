package io.dpbench.gate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Compares two JMH runs benchmark by benchmark and decides, with a bootstrap confidence interval, whether the current
 * run is slower than the baseline beyond a tolerance.
 * <p>
 * For each benchmark and parameter set present in both runs, the slowdown is current / baseline for time-per-op
 * modes (baseline / current for throughput), on the samples {@link JmhRun.Result#samples()} gives (fork means when
 * there are several forks, else iterations). Optionally every score is first divided by the mean of a calibration
 * benchmark of the same run, so that a uniformly slower machine is not a regression. The interval is the 2.5th to
 * 97.5th percentile of the slowdown over {@value #RESAMPLES} bootstrap resamples of both sample sets (seeded, so a
 * verdict is reproducible). REGRESSION when the whole interval lies above 1 + tolerance; IMPROVED when it lies below
 * 1 - tolerance; otherwise PASS.
 */
public final class RegressionGate
{
    public static final int RESAMPLES = 4000;

    public enum Verdict
    {
        PASS, REGRESSION, IMPROVED
    }

    public record Row(String key, String unit, double baseline, double current, double slowdown, double low, double high,
        Verdict verdict)
    {
    }

    private RegressionGate()
    {
    }

    /**
     * @param tolerance fraction, e.g. 0.10 for 10%
     * @param normalize a benchmark name (full or its suffix, e.g. "CalibrationBenchmark.spin") present in both runs,
     *                  or null
     */
    public static List<Row> compare(final JmhRun baseline, final JmhRun current, final double tolerance,
        final String normalize) throws GateInputException
    {
        final double baseScale = normalize == null ? 1.0 : calibration(baseline, normalize);
        final double currentScale = normalize == null ? 1.0 : calibration(current, normalize);
        final List<Row> rows = new ArrayList<>();
        for (final JmhRun.Result b : baseline.results().values())
        {
            final JmhRun.Result c = current.results().get(b.key());
            if (c == null || (normalize != null && matches(b.benchmark(), normalize)))
            {
                continue;
            }
            final double[] bs = scale(b.samples(), baseScale);
            final double[] cs = scale(c.samples(), currentScale);
            final boolean lower = b.lowerIsBetter();
            final double slowdown = slowdown(mean(bs), mean(cs), lower);
            final double[] interval = bootstrap(bs, cs, lower, b.key().hashCode());
            final Verdict verdict = interval[0] > 1 + tolerance ? Verdict.REGRESSION
                : interval[1] < 1 - tolerance ? Verdict.IMPROVED : Verdict.PASS;
            rows.add(new Row(b.key(), b.unit(), mean(bs), mean(cs), slowdown, interval[0], interval[1], verdict));
        }
        if (rows.isEmpty())
        {
            throw new GateInputException("no benchmark and parameter set is present in both " + baseline.file() + " and "
                + current.file());
        }
        return rows;
    }

    /**
     * Benchmark and parameter sets present in one run but not the other, each marked "baseline only:" or
     * "current only:": what the gate did not compare (a benchmark that failed, or a suite that changed).
     */
    public static List<String> onlyInOne(final JmhRun baseline, final JmhRun current)
    {
        final List<String> out = new ArrayList<>();
        for (final String key : baseline.results().keySet())
        {
            if (!current.results().containsKey(key))
            {
                out.add("baseline only: " + key);
            }
        }
        for (final String key : current.results().keySet())
        {
            if (!baseline.results().containsKey(key))
            {
                out.add("current only: " + key);
            }
        }
        return out;
    }

    private static boolean matches(final String benchmark, final String name)
    {
        return benchmark.equals(name) || benchmark.endsWith("." + name) || benchmark.endsWith(name);
    }

    private static double calibration(final JmhRun run, final String name) throws GateInputException
    {
        for (final JmhRun.Result r : run.results().values())
        {
            if (matches(r.benchmark(), name))
            {
                return r.mean();
            }
        }
        throw new GateInputException(run.file() + ": calibration benchmark '" + name + "' (--normalize) not found");
    }

    private static double[] scale(final double[] values, final double by)
    {
        final double[] out = values.clone();
        for (int i = 0; i < out.length; i++)
        {
            out[i] /= by;
        }
        return out;
    }

    static double mean(final double[] values)
    {
        double sum = 0;
        for (final double v : values)
        {
            sum += v;
        }
        return sum / values.length;
    }

    private static double slowdown(final double baseline, final double current, final boolean lowerIsBetter)
    {
        return lowerIsBetter ? current / baseline : baseline / current;
    }

    /** The 95% percentile interval of the slowdown over bootstrap resamples of both sample sets. */
    static double[] bootstrap(final double[] baseline, final double[] current, final boolean lowerIsBetter, final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final double[] slowdowns = new double[RESAMPLES];
        for (int r = 0; r < RESAMPLES; r++)
        {
            slowdowns[r] = slowdown(resampledMean(baseline, random), resampledMean(current, random), lowerIsBetter);
        }
        Arrays.sort(slowdowns);
        return new double[]{slowdowns[(int)(0.025 * RESAMPLES)], slowdowns[(int)(0.975 * RESAMPLES) - 1]};
    }

    private static double resampledMean(final double[] values, final SplittableRandom random)
    {
        double sum = 0;
        for (int i = 0; i < values.length; i++)
        {
            sum += values[random.nextInt(values.length)];
        }
        return sum / values.length;
    }
}
