package io.dpbench.ipvs;

import io.dpbench.packet.FlowKey;

import java.util.ArrayList;
import java.util.List;

/**
 * The virtual services of a node in an open-addressing hash table keyed by (protocol, address, port) packed into a
 * long ({@link VirtualService#key}): one probe per new flow, whatever the number of Services (IPVS's
 * ip_vs_service_find). Linear probing over parallel {@code long[]} keys and {@code VirtualService[]} values at a load
 * factor of at most 1/2, backward-shift deletion (no tombstones), no boxing.
 * <p>
 * {@link #findBatch} looks up a batch in two passes, first touching every flow's key slot, then resolving them, so
 * that the cache misses of many flows overlap instead of following one another (DPDK's bulk lookups, VPP's
 * prefetching pipeline). Owned by one thread; changes are incremental.
 */
public final class VirtualServiceTable
{
    private static final int INITIAL_CAPACITY = 16;

    /**
     * Test hook, never for use: with {@code -Ddpbench.test.linearIpvsLookup=true} every lookup scans the whole table
     * instead of hashing, an O(N) slip planted so that the regression gate can be shown to catch one. Read once; a
     * constant false costs nothing after JIT compilation.
     */
    static final boolean LINEAR_SCAN_HOOK = Boolean.getBoolean("dpbench.test.linearIpvsLookup");

    private long[] keys = new long[INITIAL_CAPACITY];
    private VirtualService[] values = new VirtualService[INITIAL_CAPACITY];
    private int mask = INITIAL_CAPACITY - 1;
    private int size;

    private static int slot(final long key, final int mask)
    {
        return (int)FlowKey.mix64(key) & mask;
    }

    /** Adds or replaces the service with the same key; returns the one replaced, or null. */
    public VirtualService put(final VirtualService service)
    {
        final long key = service.key();
        int i = slot(key, mask);
        while (keys[i] != 0)
        {
            if (keys[i] == key)
            {
                final VirtualService old = values[i];
                values[i] = service;
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = service;
        if (++size * 2 > keys.length)
        {
            resize(keys.length * 2);
        }
        return null;
    }

    public VirtualService remove(final int protocol, final int address, final int port)
    {
        final long key = VirtualService.key(protocol, address, port);
        int i = slot(key, mask);
        while (keys[i] != 0)
        {
            if (keys[i] == key)
            {
                final VirtualService old = values[i];
                deleteAt(i);
                size--;
                return old;
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** Backward-shift deletion: move later members of the probe run back so lookups never stop early. */
    private void deleteAt(final int hole)
    {
        int gap = hole;
        int i = (hole + 1) & mask;
        while (keys[i] != 0)
        {
            final int home = slot(keys[i], mask);
            // move entry i into the gap when its home is not cyclically within (gap, i]
            if (((i - home) & mask) >= ((i - gap) & mask))
            {
                keys[gap] = keys[i];
                values[gap] = values[i];
                gap = i;
            }
            i = (i + 1) & mask;
        }
        keys[gap] = 0;
        values[gap] = null;
    }

    public VirtualService find(final int protocol, final int address, final int port)
    {
        final long key = VirtualService.key(protocol, address, port);
        if (LINEAR_SCAN_HOOK)
        {
            return findByScan(key);
        }
        int i = slot(key, mask);
        long k;
        while ((k = keys[i]) != 0)
        {
            if (k == key)
            {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** The {@link #LINEAR_SCAN_HOOK} lookup: every slot in order, O(capacity). */
    VirtualService findByScan(final long key)
    {
        final long[] k = keys;
        VirtualService found = null;
        for (int i = 0; i < k.length; i++)
        {
            if (k[i] == key)
            {
                found = values[i];
            }
        }
        return found;
    }

    /** Slots a lookup of this key reads (1 = found or absent at its home slot); for tests and reports. */
    public int probes(final int protocol, final int address, final int port)
    {
        final long key = VirtualService.key(protocol, address, port);
        int i = slot(key, mask);
        int probes = 1;
        while (keys[i] != 0 && keys[i] != key)
        {
            i = (i + 1) & mask;
            probes++;
        }
        return probes;
    }

    /**
     * Look up {@code n} packed keys into {@code out}. {@code slots} is caller-provided scratch of at least n ints.
     * Returns a value that depends on every slot read, so that the first pass is not optimised away.
     */
    public long findBatch(final long[] packedKeys, final int n, final int[] slots, final VirtualService[] out)
    {
        final long[] k = keys;
        final int m = mask;
        long touched = 0;
        for (int j = 0; j < n; j++)
        {
            final int s = slot(packedKeys[j], m);
            slots[j] = s;
            touched += k[s]; // independent loads: their misses overlap
        }
        final VirtualService[] v = values;
        for (int j = 0; j < n; j++)
        {
            final long key = packedKeys[j];
            if (LINEAR_SCAN_HOOK)
            {
                out[j] = findByScan(key);
                continue;
            }
            int i = slots[j];
            long at;
            VirtualService found = null;
            while ((at = k[i]) != 0)
            {
                if (at == key)
                {
                    found = v[i];
                    break;
                }
                i = (i + 1) & m;
            }
            out[j] = found;
        }
        return touched;
    }

    private void resize(final int capacity)
    {
        final long[] oldKeys = keys;
        final VirtualService[] oldValues = values;
        keys = new long[capacity];
        values = new VirtualService[capacity];
        mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++)
        {
            if (oldKeys[j] != 0)
            {
                int i = slot(oldKeys[j], mask);
                while (keys[i] != 0)
                {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    public int size()
    {
        return size;
    }

    /** Snapshot of all services (control plane: rendering, reports). */
    public List<VirtualService> all()
    {
        final List<VirtualService> out = new ArrayList<>(size);
        for (final VirtualService v : values)
        {
            if (v != null)
            {
                out.add(v);
            }
        }
        return out;
    }
}
