package io.dpbench.ipvs.sched;

/**
 * Creates schedulers by their kernel module name, as {@code ipvsadm -s NAME -b FLAGS} (and kube-proxy's
 * {@code --ipvs-scheduler}) select them. Each call returns a fresh instance: scheduler state is per virtual service.
 */
public final class Schedulers
{
    /** The names {@link #create} accepts. */
    public static final String NAMES = "rr, wrr, lc, wlc, sed, nq, sh, dh, mh";

    private Schedulers()
    {
    }

    /**
     * A new scheduler. {@code flags} matter only to sh and mh (fallback = IP_VS_SVC_F_SCHED1, port =
     * IP_VS_SVC_F_SCHED2); mh gets the default table of {@link MaglevScheduler#DEFAULT_TABLE_SIZE} slots.
     *
     * @throws IllegalArgumentException for a name that is not one of {@link #NAMES}.
     */
    public static Scheduler create(final String name, final SchedulerFlags flags)
    {
        final SchedulerFlags f = flags == null ? SchedulerFlags.NONE : flags;
        return switch (name)
        {
            case "rr" -> new RoundRobinScheduler();
            case "wrr" -> new WeightedRoundRobinScheduler();
            case "lc" -> new LeastConnectionScheduler();
            case "wlc" -> new WeightedLeastConnectionScheduler();
            case "sed" -> new ShortestExpectedDelayScheduler();
            case "nq" -> new NeverQueueScheduler();
            case "sh" -> new SourceHashingScheduler(f);
            case "dh" -> new DestinationHashingScheduler();
            case "mh" -> new MaglevScheduler(f);
            default -> throw new IllegalArgumentException(
                "unknown IPVS scheduler '" + name + "' (valid: " + NAMES + ")");
        };
    }

    /**
     * The mh table size the kernel builds for {@code CONFIG_IP_VS_MH_TAB_INDEX} (8 to 17, default 12):
     * {@code primes[index - 8]} of ip_vs_mh.c.
     */
    /** As {@link #create(String, SchedulerFlags)}, with mh's table size (a kernel prime or 65537). */
    public static Scheduler create(final String name, final SchedulerFlags flags, final int mhTableSize)
    {
        return "mh".equals(name) ? new MaglevScheduler(flags == null ? SchedulerFlags.NONE : flags, mhTableSize)
            : create(name, flags);
    }

    public static int mhTableSize(final int configTabIndex)
    {
        if (configTabIndex < 8 || configTabIndex > 17)
        {
            throw new IllegalArgumentException("CONFIG_IP_VS_MH_TAB_INDEX " + configTabIndex + " outside 8..17");
        }
        return MaglevScheduler.PRIMES[configTabIndex - 8];
    }
}
