package io.dpbench.ipvs.sched;

/**
 * What lc, wlc, sed and nq have in common: no state of their own. Each choice reads the destinations' weights,
 * overload flags and connection counters as they are at that moment, so a changed list needs no rebuild.
 */
abstract class StatelessScheduler implements Scheduler
{
    private final String name;

    StatelessScheduler(final String name)
    {
        this.name = name;
    }

    @Override
    public final String name()
    {
        return name;
    }

    /** Nothing to rebuild. */
    @Override
    public final void update(final Destination[] destinations, final int count)
    {
    }
}
