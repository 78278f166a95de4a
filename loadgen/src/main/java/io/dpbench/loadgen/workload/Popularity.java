package io.dpbench.loadgen.workload;

import java.util.SplittableRandom;

/**
 * Which of n items (Services, by rank) a new flow goes to: uniform, or Zipf with exponent s (item k drawn with
 * probability proportional to 1 / (k + 1)^s), by binary search over the precomputed cumulative distribution.
 * Allocation-free per draw.
 */
public final class Popularity
{
    private final double[] cumulative;

    private Popularity(final double[] cumulative)
    {
        this.cumulative = cumulative;
    }

    public static Popularity uniform(final int n)
    {
        return zipf(n, 0);
    }

    /** Zipf over n items with exponent s (0: uniform). */
    public static Popularity zipf(final int n, final double s)
    {
        if (n < 1)
        {
            throw new IllegalArgumentException("popularity over " + n + " items: need at least 1");
        }
        if (!(s >= 0) || Double.isInfinite(s))
        {
            throw new IllegalArgumentException("Zipf exponent " + s + ": expected 0 or more");
        }
        final double[] c = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += 1 / Math.pow(k + 1, s);
            c[k] = sum;
        }
        for (int k = 0; k < n; k++)
        {
            c[k] /= sum;
        }
        c[n - 1] = 1.0;
        return new Popularity(c);
    }

    public int size()
    {
        return cumulative.length;
    }

    /** The probability of item k. */
    public double probability(final int k)
    {
        return cumulative[k] - (k == 0 ? 0 : cumulative[k - 1]);
    }

    public int next(final SplittableRandom random)
    {
        final double u = random.nextDouble();
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
