package io.dpbench.conntrack;

import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.hash.AbstractData;
import net.openhft.chronicle.hash.Data;

/**
 * One fixed {@code byte[]} as Chronicle Map {@link Data}, wrapped once: what {@link ConntrackTable} hands to
 * {@code queryContext(Data)}, {@code doInsert(Data)} and {@code doReplaceValue(Data)} instead of the array itself.
 * <p>
 * Chronicle Map 3.25ea6's {@code ByteArrayDataAccess.getData} (behind {@code queryContext(byte[])} and
 * {@code wrapValueAsData(byte[])}) wraps the array in a new {@code HeapBytesStore} at every call: a reference-counted
 * object with its listener manager, list and tracer, ~200 bytes a wrap (measured: 192-208), five for a new connection
 * (its lookup's key; each insert's key and value). This wraps it once; the array's content is read live, so the
 * caller fills the same array before each query. The bytes Chronicle sees (offset, size, content) are exactly those
 * of its own data access over the same array, hence the same hash and the same stored entry: the file format does not
 * change, and nothing of this is written into the map's header (the map's configured data accesses, which a persisted
 * file names in its header, stay Chronicle's own).
 * <p>
 * Not thread-safe: one per table handle, as the table's key array is.
 */
final class ArrayData extends AbstractData<byte[]>
{
    private final byte[] array;
    private final BytesStore<?, byte[]> store;

    ArrayData(final byte[] array)
    {
        this.array = array;
        this.store = BytesStore.wrap(array);
    }

    @Override
    public RandomDataInput bytes()
    {
        return store;
    }

    @Override
    public long offset()
    {
        return store.start();
    }

    @Override
    public long size()
    {
        return array.length;
    }

    @Override
    public byte[] get()
    {
        return array;
    }

    @Override
    public byte[] getUsing(final byte[] using)
    {
        final byte[] to = using != null && using.length == array.length ? using : new byte[array.length];
        System.arraycopy(array, 0, to, 0, array.length);
        return to;
    }

    /**
     * {@link Data} for the arrays a table is handed to store (records' bytes): one {@link ArrayData} for each of the
     * first {@value #SLOTS} distinct arrays (a table sees a handful: its own scratch record's, its caller's records'),
     * found again by identity; an array beyond those is copied into a staging array of its own length, wrapped once,
     * so that no call allocates after the first few, whatever the caller passes.
     */
    static final class Cache
    {
        static final int SLOTS = 8;

        private final byte[][] arrays = new byte[SLOTS][];
        private final ArrayData[] data = new ArrayData[SLOTS];
        private final ArrayData staging;

        Cache(final int stagingLength)
        {
            staging = new ArrayData(new byte[stagingLength]);
        }

        Data<byte[]> of(final byte[] array)
        {
            java.util.Objects.requireNonNull(array, "value");
            for (int i = 0; i < SLOTS; i++)
            {
                final byte[] cached = arrays[i];
                if (cached == array)
                {
                    return data[i];
                }
                if (cached == null)
                {
                    arrays[i] = array;
                    return data[i] = new ArrayData(array);
                }
            }
            if (array.length != staging.array.length)
            {
                return new ArrayData(array); // not a record's size: Chronicle refuses it as it did before
            }
            System.arraycopy(array, 0, staging.array, 0, array.length);
            return staging;
        }
    }
}
