package io.dpbench.ipvs.sched;

/**
 * The weight arithmetic wrr and mh share: the gcd of the positive weights ({@code ip_vs_wrr_gcd_weight},
 * {@code ip_vs_mh_gcd_weight}, with lib/math/gcd.c's {@code gcd()}) and the largest weight
 * ({@code ip_vs_wrr_max_weight}; mh's {@code ip_vs_mh_shift_weight} takes the same maximum).
 */
final class Weights
{
    private Weights()
    {
    }

    /** The gcd of the positive values among {@code weights[0..count)}, or 0 when there are none. */
    static int positiveGcd(final int[] weights, final int count)
    {
        int gcd = 0;
        for (int i = 0; i < count; i++)
        {
            final int weight = weights[i];
            if (weight > 0)
            {
                gcd = gcd > 0 ? gcd(weight, gcd) : weight;
            }
        }
        return gcd;
    }

    /** The largest of {@code weights[0..count)}, or 0 when none is above 0. */
    static int max(final int[] weights, final int count)
    {
        int max = 0;
        for (int i = 0; i < count; i++)
        {
            max = Math.max(max, weights[i]);
        }
        return max;
    }

    /** The current weights of {@code destinations[0..count)}. */
    static int[] of(final Destination[] destinations, final int count)
    {
        final int[] weights = new int[count];
        for (int i = 0; i < count; i++)
        {
            weights[i] = destinations[i].weight();
        }
        return weights;
    }

    private static int gcd(final int a, final int b)
    {
        int x = a;
        int y = b;
        while (y != 0)
        {
            final int t = x % y;
            x = y;
            y = t;
        }
        return x;
    }
}
