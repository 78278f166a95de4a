package io.dpbench.ipvs.sched;

/**
 * Scheduler flags as ipvsadm's {@code -b} sets them: sh-fallback / sh-port (IP_VS_SVC_F_SCHED1 / SCHED2 for sh),
 * mh-fallback / mh-port (the same bits for mh).
 */
public record SchedulerFlags(boolean fallback, boolean port)
{
    public static final SchedulerFlags NONE = new SchedulerFlags(false, false);
}
