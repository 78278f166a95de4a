package io.dpbench.ipvs.sched;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * rr (net/netfilter/ipvs/ip_vs_rr.c). The kernel keeps one cursor, {@code svc->sched_data}, pointing at the last
 * chosen destination or at the list head; a schedule walks on from the entry after the cursor, wraps through the
 * head once and stops after re-checking the cursor's own entry, taking the first destination that is neither
 * overloaded nor of weight 0. Here the cursor is an index, {@link #HEAD} standing for the list head.
 * <p>
 * The kernel cursor is a pointer, so adding a destination (at the head) does not move it, and {@code del_dest}
 * moves it back to the previous entry only when the cursor's own destination is removed. To keep that across
 * {@link #update} calls, which only hand over the new list, the cursor is tracked by the {@link Destination}'s
 * identity (the service re-weights a server in place): found again, it keeps pointing at it; removed, it falls
 * back to the nearest earlier entry still present, or the head.
 */
public final class RoundRobinScheduler implements Scheduler
{
    /** The cursor value for the list head ({@code &svc->destinations}). */
    public static final int HEAD = -1;

    private Destination[] known = new Destination[0];
    private int cursor = HEAD;

    @Override
    public Lookup lookup()
    {
        return Lookup.ROUND_ROBIN;
    }

    /** The index of the last destination chosen, or {@link #HEAD}. */
    @Override
    public int cursor()
    {
        return cursor;
    }

    /** Restore the cursor (a copy kept elsewhere, e.g. in a virtual-service table's slot line, moved on). */
    @Override
    public void cursor(final int cursor)
    {
        this.cursor = cursor;
    }

    @Override
    public String name()
    {
        return "rr";
    }

    @Override
    public void update(final Destination[] destinations, final int count)
    {
        if (cursor != HEAD)
        {
            final IdentityHashMap<Destination, Integer> newIndex = new IdentityHashMap<>(count * 2);
            for (int i = 0; i < count; i++)
            {
                newIndex.put(destinations[i], i);
            }
            int moved = HEAD;
            for (int i = cursor; i >= 0; i--)
            {
                final Integer at = newIndex.get(known[i]);
                if (at != null)
                {
                    moved = at;
                    break;
                }
            }
            cursor = moved;
        }
        known = Arrays.copyOf(destinations, count);
    }

    @Override
    public int schedule(final Destination[] destinations, final int count, final int sourceAddress,
        final int sourcePort, final int destinationAddress, final int destinationPort)
    {
        final int last = cursor < count ? cursor : HEAD;
        // first pass: after the cursor up to the end of the list
        for (int i = last + 1; i < count; i++)
        {
            if (!destinations[i].unavailable())
            {
                cursor = i;
                return i;
            }
        }
        // second pass (only when the cursor was not the head): from the first entry up to and including the cursor
        for (int i = 0; i <= last; i++)
        {
            if (!destinations[i].unavailable())
            {
                cursor = i;
                return i;
            }
        }
        return -1;
    }
}
