package io.dpbench.cli;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The heap in use right after this JVM's last garbage collection: the sum of the heap pools' usage after the GC that
 * ended last (any collector, young or full: a young GC's figure includes the old generation as it stood). What a soak
 * watches for a leak, as the live set is what survives collections; -1 before the first GC or where the JVM does not
 * report it (the {@code com.sun.management} extension).
 */
final class HeapAfterGc
{
    private HeapAfterGc()
    {
    }

    static long bytes()
    {
        final Set<String> heapPools = new HashSet<>();
        for (final MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans())
        {
            if (pool.getType() == MemoryType.HEAP)
            {
                heapPools.add(pool.getName());
            }
        }
        com.sun.management.GcInfo last = null;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
        {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean sun)
            {
                final com.sun.management.GcInfo info = sun.getLastGcInfo();
                if (info != null && (last == null || info.getEndTime() > last.getEndTime()))
                {
                    last = info;
                }
            }
        }
        if (last == null)
        {
            return -1;
        }
        long used = 0;
        for (final Map.Entry<String, MemoryUsage> e : last.getMemoryUsageAfterGc().entrySet())
        {
            if (heapPools.contains(e.getKey()))
            {
                used += e.getValue().getUsed();
            }
        }
        return used;
    }
}
