package io.dpbench.loadgen.soak;

import java.nio.file.Path;
import java.util.List;

/**
 * A soak's settings. The node runs {@code mode} over the seeded cluster ({@code services}, {@code endpoints},
 * {@code seed}, {@code mix}, {@code nodes}) with {@code workers}; the load generator keeps {@code flows} flows, a
 * {@code newFlowShare} of exchanges opening new ones, at {@code rate} requests per second (open loop). With
 * {@code kill}, the node is killed with SIGKILL at {@code killAt} of the run, load keeps coming for
 * {@code downSeconds}, then a new node starts on the same conntrack table file. The first {@code warmupSeconds} of
 * each node's life are left out of the growth checks; {@code growthLimitPercent} is the most anonymous RSS and heap
 * after GC may grow between the first and the last minute after it.
 */
public record SoakOptions(double minutes, String mode, int services, int endpoints, long seed, String mix, int nodes,
    int workers, int flows, double newFlowShare, double tcpShare, long rate, int maxConntrack, int port,
    boolean kill, double killAt, double downSeconds, double warmupSeconds, double growthLimitPercent,
    Path out, Path jvmFlags, List<String> nodeJvmOptions)
{
    public SoakOptions
    {
        if (!(minutes > 0) || minutes > 24 * 60)
        {
            throw new IllegalArgumentException("MINUTES must be above 0 and at most a day, got " + minutes);
        }
        if (rate < 1)
        {
            throw new IllegalArgumentException("--rate must be at least 1 request per second (a soak is open loop), got " + rate);
        }
        if (!(killAt > 0 && killAt < 1))
        {
            throw new IllegalArgumentException("--kill-at must be a fraction of the run in (0, 1), got " + killAt);
        }
        if (!(downSeconds >= 0) || !(warmupSeconds >= 0) || !(growthLimitPercent >= 0))
        {
            throw new IllegalArgumentException("--down, --warmup and --growth-limit must be 0 or more");
        }
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException("--port must be in 1..65535 (0: a free one), got " + port);
        }
        nodeJvmOptions = List.copyOf(nodeJvmOptions);
    }

    double seconds()
    {
        return minutes * 60;
    }
}
