package io.dpbench.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A seeded mutational input source (deterministic for a seed): each input is a corpus seed with one to eight
 * mutations stacked: bit flips, random and "interesting" bytes, inserted, deleted and duplicated ranges, splices with
 * another seed, and tokens from a dictionary learned from the seeds (their words and numbers, so text formats get
 * whole keywords). Not coverage-guided: Jazzer is, in {@code scripts/fuzz}; this is the engine that needs no native
 * code, for the short runs in every build.
 */
public final class Mutator
{
    private static final byte[] INTERESTING = {0, 1, 0x7F, (byte)0x80, (byte)0xFF, 0x0A, 0x20, 0x22, 0x2D, 0x3A};

    private final Random random;
    private final List<byte[]> seeds;
    private final List<byte[]> tokens;
    private final int maxLength;

    public Mutator(final long seed, final List<byte[]> seeds, final int maxLength)
    {
        if (seeds.isEmpty())
        {
            throw new IllegalArgumentException("no seeds to mutate");
        }
        this.random = new Random(seed);
        this.seeds = seeds;
        this.maxLength = maxLength;
        this.tokens = dictionary(seeds);
    }

    public byte[] next()
    {
        byte[] b = seeds.get(random.nextInt(seeds.size()));
        final int count = 1 + random.nextInt(8);
        for (int i = 0; i < count; i++)
        {
            b = mutate(b);
        }
        return b.length > maxLength ? Arrays.copyOf(b, maxLength) : b;
    }

    private byte[] mutate(final byte[] in)
    {
        final int n = in.length;
        switch (random.nextInt(n == 0 ? 2 : 10))
        {
            case 0:
                return insert(in, random.nextInt(n + 1), randomBytes(1 + random.nextInt(4)));
            case 1:
                return insert(in, random.nextInt(n + 1), tokens.isEmpty() ? randomBytes(1) : tokens.get(random.nextInt(tokens.size())));
            case 2:
            {
                final byte[] out = in.clone();
                final int at = random.nextInt(n);
                out[at] ^= (byte)(1 << random.nextInt(8));
                return out;
            }
            case 3:
            {
                final byte[] out = in.clone();
                out[random.nextInt(n)] = (byte)random.nextInt(256);
                return out;
            }
            case 4:
            {
                final byte[] out = in.clone();
                out[random.nextInt(n)] = INTERESTING[random.nextInt(INTERESTING.length)];
                return out;
            }
            case 5:
            {
                final int at = random.nextInt(n);
                final int len = 1 + random.nextInt(Math.min(n - at, 64));
                final byte[] out = new byte[n - len];
                System.arraycopy(in, 0, out, 0, at);
                System.arraycopy(in, at + len, out, at, n - at - len);
                return out;
            }
            case 6:
            {
                final int at = random.nextInt(n);
                final int len = 1 + random.nextInt(Math.min(n - at, 64));
                return insert(in, random.nextInt(n + 1), Arrays.copyOfRange(in, at, at + len));
            }
            case 7:
            {
                final byte[] other = seeds.get(random.nextInt(seeds.size()));
                final int cut = random.nextInt(n + 1);
                final int from = other.length == 0 ? 0 : random.nextInt(other.length);
                final byte[] out = Arrays.copyOf(in, cut + other.length - from);
                System.arraycopy(other, from, out, cut, other.length - from);
                return out;
            }
            case 8:
            {
                final byte[] out = in.clone();
                final int at = random.nextInt(n);
                final int word = Math.min(n - at, 1 + random.nextInt(4));
                for (int i = 0; i < word; i++)
                {
                    out[at + i] = (byte)(random.nextBoolean() ? 0xFF : 0);
                }
                return out;
            }
            default:
            {
                final byte[] out = in.clone();
                final int at = random.nextInt(n);
                out[at] = (byte)(out[at] + random.nextInt(35) - 17);
                return out;
            }
        }
    }

    private byte[] randomBytes(final int length)
    {
        final byte[] b = new byte[length];
        random.nextBytes(b);
        return b;
    }

    private static byte[] insert(final byte[] in, final int at, final byte[] what)
    {
        final byte[] out = new byte[in.length + what.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(in, at, out, at + what.length, in.length - at);
        return out;
    }

    /** Printable runs of 2 to 32 bytes found in the seeds (at most 2,000): keywords, options, numbers. */
    private static List<byte[]> dictionary(final List<byte[]> seeds)
    {
        final Set<String> words = new LinkedHashSet<>();
        for (final byte[] seed : seeds)
        {
            int start = -1;
            for (int i = 0; i <= seed.length && words.size() < 2_000; i++)
            {
                final boolean word = i < seed.length && seed[i] > 0x20 && seed[i] < 0x7F;
                if (word && start < 0)
                {
                    start = i;
                }
                else if (!word && start >= 0)
                {
                    if (i - start >= 2 && i - start <= 32)
                    {
                        words.add(new String(seed, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                    }
                    start = -1;
                }
            }
        }
        final List<byte[]> out = new ArrayList<>();
        for (final String w : words)
        {
            out.add(w.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        return out;
    }
}
