package io.dpbench.nftables;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The elements of one nftables set or map: an off-heap open-addressing hash table from a packed key (the
 * concatenated key's parts, e.g. address 32 bits, protocol 8, port 16) to a long value (a map's verdict, a dynamic
 * set's expiry), as the kernel's nft_set_hash looks an element up with one hash, whatever the number of elements.
 * Linear probing at a load of at most 1/2, backward-shift deletion (no tombstones); slot = key, value (16 bytes).
 * Keys are stored with their top bit set, so that 0 marks an empty slot. Lookups allocate nothing. One writer; a
 * table that readers on other threads use is not changed after it is published (a worker's dynamic sets are its own).
 */
public final class NftElementTable
{
    private static final int SLOT = 16;
    private static final long PRESENT = 1L << 63;

    private UnsafeBuffer slots;
    private int mask;
    private int size;

    public NftElementTable(final int expected)
    {
        int capacity = 16;
        while (capacity < expected * 2)
        {
            capacity <<= 1;
        }
        allocate(capacity);
    }

    private void allocate(final int capacity)
    {
        slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * SLOT, 64));
        mask = capacity - 1;
        size = 0;
    }

    public int size()
    {
        return size;
    }

    private static int hash(final long key)
    {
        final long h = key * 0x9E3779B97F4A7C15L;
        return (int)(h ^ h >>> 32);
    }

    /** The value under {@code key}, or {@code missing}. */
    public long get(final long key, final long missing)
    {
        final long stored = key | PRESENT;
        int i = hash(key) & mask;
        while (true)
        {
            final long k = slots.getLong(i * SLOT);
            if (k == stored)
            {
                return slots.getLong(i * SLOT + 8);
            }
            if (k == 0)
            {
                return missing;
            }
            i = (i + 1) & mask;
        }
    }

    public boolean contains(final long key)
    {
        final long stored = key | PRESENT;
        int i = hash(key) & mask;
        while (true)
        {
            final long k = slots.getLong(i * SLOT);
            if (k == stored)
            {
                return true;
            }
            if (k == 0)
            {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /** Insert or replace. Keys must fit in 63 bits. */
    public void put(final long key, final long value)
    {
        if (key < 0)
        {
            throw new IllegalArgumentException("key " + Long.toHexString(key) + " uses the top bit");
        }
        if ((size + 1) * 2 > mask + 1)
        {
            grow();
        }
        final long stored = key | PRESENT;
        int i = hash(key) & mask;
        while (true)
        {
            final long k = slots.getLong(i * SLOT);
            if (k == stored)
            {
                slots.putLong(i * SLOT + 8, value);
                return;
            }
            if (k == 0)
            {
                slots.putLong(i * SLOT + 8, value);
                slots.putLong(i * SLOT, stored);
                size++;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** Remove {@code key}; false when absent. Later entries of its probe run move back (no tombstones). */
    public boolean remove(final long key)
    {
        final long stored = key | PRESENT;
        int i = hash(key) & mask;
        while (true)
        {
            final long k = slots.getLong(i * SLOT);
            if (k == 0)
            {
                return false;
            }
            if (k == stored)
            {
                break;
            }
            i = (i + 1) & mask;
        }
        int hole = i;
        int j = (i + 1) & mask;
        while (true)
        {
            final long k = slots.getLong(j * SLOT);
            if (k == 0)
            {
                break;
            }
            final int home = hash(k & ~PRESENT) & mask;
            // move j back into the hole when its home does not lie cyclically in (hole, j]
            final boolean stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays)
            {
                slots.putLong(hole * SLOT, k);
                slots.putLong(hole * SLOT + 8, slots.getLong(j * SLOT + 8));
                hole = j;
            }
            j = (j + 1) & mask;
        }
        slots.putLong(hole * SLOT, 0);
        slots.putLong(hole * SLOT + 8, 0);
        size--;
        return true;
    }

    private void grow()
    {
        final UnsafeBuffer old = slots;
        final int oldCapacity = mask + 1;
        allocate(oldCapacity * 2);
        for (int i = 0; i < oldCapacity; i++)
        {
            final long k = old.getLong(i * SLOT);
            if (k != 0)
            {
                put(k & ~PRESENT, old.getLong(i * SLOT + 8));
            }
        }
    }

    /** Every value (control plane: a loop check). */
    public void forEachValue(final java.util.function.LongConsumer action)
    {
        for (int i = 0; i <= mask; i++)
        {
            if (slots.getLong(i * SLOT) != 0)
            {
                action.accept(slots.getLong(i * SLOT + 8));
            }
        }
    }

    /** A copy (a worker's own dynamic set, starting from the loaded elements). */
    public NftElementTable copy()
    {
        final NftElementTable c = new NftElementTable(1);
        c.slots = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slots.capacity(), 64));
        c.slots.putBytes(0, slots, 0, slots.capacity());
        c.mask = mask;
        c.size = size;
        return c;
    }
}
