package io.dpbench.ipvs.sched;

import io.dpbench.ipvs.RealServer;

import java.lang.reflect.Method;
import java.util.Arrays;

/** Shared helpers: server lists, schedule sequences, and an in-place re-weight as the service does it. */
final class SchedulerTestSupport
{
    static final int PORT = 8080;
    static final int VIP = 0x0A600001; // 10.96.0.1

    private SchedulerTestSupport()
    {
    }

    /** Servers 10.0.0.1, 10.0.0.2, ... with the given weights, in list order. */
    static RealServer[] servers(final int... weights)
    {
        final RealServer[] servers = new RealServer[weights.length];
        for (int i = 0; i < weights.length; i++)
        {
            servers[i] = new RealServer(0x0A000001 + i, PORT, weights[i]);
        }
        return servers;
    }

    static int[] sequence(final Scheduler scheduler, final RealServer[] servers, final int n)
    {
        final int[] picks = new int[n];
        for (int i = 0; i < n; i++)
        {
            picks[i] = scheduler.schedule(servers, servers.length, 0x0B000001 + i, 40000 + i, VIP, 80);
        }
        return picks;
    }

    static int[] repeat(final int times, final int... cycle)
    {
        final int[] out = new int[cycle.length * times];
        for (int i = 0; i < times; i++)
        {
            System.arraycopy(cycle, 0, out, i * cycle.length, cycle.length);
        }
        return out;
    }

    static int[] concat(final int[] a, final int[] b)
    {
        final int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** ipvsadm -e -w: RealServer.weight(int) is package-private to io.dpbench.ipvs (the service owns it). */
    static void reweight(final RealServer server, final int weight)
    {
        try
        {
            final Method method = RealServer.class.getDeclaredMethod("weight", int.class);
            method.setAccessible(true);
            method.invoke(server, weight);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new AssertionError(ex);
        }
    }
}
