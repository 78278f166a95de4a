package io.dpbench.bench.calibration;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The regression gate's yardstick ({@code dpbench gate --normalize CalibrationBenchmark.chaseAndMix}): fixed work
 * that does not depend on dpbench's code and costs what a packet's work costs, so that dividing by it cancels a
 * slower or busier machine but not a slower dataplane. Each step is a dependent load through a random cycle over
 * 512 KiB (Sattolo's algorithm: one cycle through every slot; larger than L1, within L2 and L3, like the hash tables
 * a new flow touches) and a 64-bit mix (hash arithmetic, like flow hashing). Nothing here may change once a
 * baseline has been recorded with it: a change would move every normalized score.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CalibrationBenchmark
{
    static final int SLOTS = 1 << 17;
    static final int STEPS = 256;

    private final int[] next = new int[SLOTS];
    private int at;

    @Setup(Level.Trial)
    public void setUp()
    {
        for (int i = 0; i < SLOTS; i++)
        {
            next[i] = i;
        }
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = SLOTS - 1; i > 0; i--)
        {
            final int j = random.nextInt(i); // Sattolo: j < i, so the permutation is a single cycle
            final int t = next[i];
            next[i] = next[j];
            next[j] = t;
        }
    }

    /** One step: a dependent load and a mix; reported per step. */
    @Benchmark
    @OperationsPerInvocation(STEPS)
    public long chaseAndMix()
    {
        final int[] n = next;
        int i = at;
        long h = 0x9E3779B97F4A7C15L;
        for (int s = 0; s < STEPS; s++)
        {
            i = n[i];
            h = mix(h ^ i);
        }
        at = i;
        return h;
    }

    /** A 64-bit finaliser (splitmix64's). */
    static long mix(final long x)
    {
        long z = x;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
