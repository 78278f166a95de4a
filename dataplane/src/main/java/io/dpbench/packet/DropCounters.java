package io.dpbench.packet;

import java.util.Map;

/**
 * Frames dropped, per {@link DropReason}: one plain {@code long} per reason, written by one thread (a worker, an rx
 * thread), read by others only after that thread has published its work (or stopped). Reports add several together
 * ({@link #addTo}) and print them in catalogue order by label.
 */
public final class DropCounters
{
    private final long[] counts = new long[DropReason.count()];

    public void count(final DropReason reason)
    {
        counts[reason.ordinal()]++;
    }

    public void add(final DropReason reason, final long frames)
    {
        counts[reason.ordinal()] += frames;
    }

    public long get(final DropReason reason)
    {
        return counts[reason.ordinal()];
    }

    /** All reasons together. */
    public long total()
    {
        long sum = 0;
        for (final long c : counts)
        {
            sum += c;
        }
        return sum;
    }

    /** Add these counts into {@code into} (indexed by ordinal). */
    public void addTo(final long[] into)
    {
        for (int i = 0; i < counts.length; i++)
        {
            into[i] += counts[i];
        }
    }

    /** The non-zero counts of {@code counts} (indexed by ordinal) by label, in catalogue order, into {@code into}. */
    public static Map<String, Long> labelled(final long[] counts, final Map<String, Long> into)
    {
        for (int i = 0; i < counts.length; i++)
        {
            if (counts[i] > 0)
            {
                into.merge(DropReason.ofOrdinal(i).label(), counts[i], Long::sum);
            }
        }
        return into;
    }
}
