package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import net.openhft.chronicle.algo.hashing.LongHashFunction;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.hash.serialization.impl.ByteArrayDataAccess;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ArrayData}: the same bytes and hash as Chronicle's own {@code ByteArrayDataAccess} over the same array, so a
 * table written through it is byte for byte the file the previous code (Chronicle's data access) wrote, and either
 * opens the other's.
 */
class ArrayDataTest
{
    @TempDir
    Path dir;

    @Test
    void sameBytesAndHashAsChronicleOwnDataAccess()
    {
        final SplittableRandom random = new SplittableRandom(3);
        for (final int length : new int[]{0, 1, 7, 8, 15, 16, 31, 32, 33, 96, 1000})
        {
            for (int n = 0; n < 50; n++)
            {
                final byte[] array = new byte[length];
                random.nextBytes(array);
                final Data<byte[]> chronicle = new ByteArrayDataAccess().getData(array);
                final ArrayData ours = new ArrayData(array);
                assertThat(ours.size()).isEqualTo(chronicle.size());
                assertThat(Data.bytesEquivalent(ours, chronicle)).isTrue();
                assertThat(ours.hash(LongHashFunction.xx_r39())).isEqualTo(chronicle.hash(LongHashFunction.xx_r39()));
                final long seed = random.nextLong();
                assertThat(ours.hash(LongHashFunction.xx_r39(seed)))
                    .isEqualTo(chronicle.hash(LongHashFunction.xx_r39(seed)));
                assertThat(ours.get()).isSameAs(array);
                assertThat(ours.getUsing(null)).isEqualTo(array).isNotSameAs(array);
                final byte[] using = new byte[length];
                assertThat(ours.getUsing(using)).isSameAs(using).isEqualTo(array);
                assertThat(ours).isEqualTo(chronicle);
                assertThat(ours.hashCode()).isEqualTo(chronicle.hashCode());
            }
        }
    }

    @Test
    void theContentIsReadLive()
    {
        final byte[] array = new byte[16];
        final ArrayData data = new ArrayData(array);
        final long before = data.hash(LongHashFunction.xx_r39());
        array[5] = 9;
        assertThat(data.bytes().readByte(data.offset() + 5)).isEqualTo((byte)9);
        assertThat(data.hash(LongHashFunction.xx_r39())).isNotEqualTo(before)
            .isEqualTo(new ByteArrayDataAccess().getData(array).hash(LongHashFunction.xx_r39()));
    }

    @Test
    void theCacheWrapsEachArrayOnceThenStagesCopies()
    {
        final ArrayData.Cache cache = new ArrayData.Cache(ConntrackRecord.LENGTH);
        final byte[][] arrays = new byte[ArrayData.Cache.SLOTS + 2][ConntrackRecord.LENGTH];
        final Data<?>[] first = new Data<?>[arrays.length];
        for (int i = 0; i < arrays.length; i++)
        {
            arrays[i][0] = (byte)i;
            first[i] = cache.of(arrays[i]);
            assertThat(first[i].get()).isEqualTo(arrays[i]);
        }
        for (int i = 0; i < ArrayData.Cache.SLOTS; i++)
        {
            assertThat(cache.of(arrays[i])).isSameAs(first[i]);
            assertThat(first[i].get()).isSameAs(arrays[i]);
        }
        // beyond the slots: one staging copy, holding whichever array was handed last
        final Data<byte[]> a = cache.of(arrays[ArrayData.Cache.SLOTS]);
        assertThat(a.get()).isNotSameAs(arrays[ArrayData.Cache.SLOTS]).isEqualTo(arrays[ArrayData.Cache.SLOTS]);
        final Data<byte[]> b = cache.of(arrays[ArrayData.Cache.SLOTS + 1]);
        assertThat(b).isSameAs(a);
        assertThat(b.get()).isEqualTo(arrays[ArrayData.Cache.SLOTS + 1]);
    }

    private static ConntrackRecord connection(final int i)
    {
        final int client = 0x0AF40000 + i;
        final int vip = 0x0A600001 + (i % 7);
        final int backend = 0x0AF40100 + (i % 5);
        return new ConntrackRecord()
            .original(FlowKey.packAddresses(client, vip), FlowKey.packPorts(6, 10_000 + i, 80))
            .reply(FlowKey.packAddresses(backend, client), FlowKey.packPorts(6, 8080, 10_000 + i))
            .status(ConntrackRecord.IPS_DST_NAT).state(1).expiryMillis(120_000 + i).createdMillis(i);
    }

    private static byte[] key(final long addresses, final long ports)
    {
        final byte[] key = new byte[16];
        new org.agrona.concurrent.UnsafeBuffer(key).putLong(0, addresses, java.nio.ByteOrder.LITTLE_ENDIAN);
        new org.agrona.concurrent.UnsafeBuffer(key).putLong(8, ports, java.nio.ByteOrder.LITTLE_ENDIAN);
        return key;
    }

    /** What ConntrackTable.tryInsert did before ArrayData: byte[] keys and values through Chronicle's data access. */
    /** One entry per connection, as the table keeps them, through Chronicle's own data access. */
    private static void insertThroughChronicle(final ChronicleMap<byte[], byte[]> map, final ConntrackRecord record)
    {
        record.kind(ConntrackRecord.KIND_ENTRY);
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(record.originalAddresses(), record.originalPorts())))
        {
            c.writeLock().lock();
            c.absentEntry().doInsert(c.wrapValueAsData(record.bytes()));
        }
    }

    /** The older layout: the connection under its original tuple and an index entry under its reply tuple. */
    private static void insertAsBefore(final ChronicleMap<byte[], byte[]> map, final ConntrackRecord record)
    {
        final ConntrackRecord index = new ConntrackRecord()
            .original(record.originalAddresses(), record.originalPorts()).kind(ConntrackRecord.KIND_REPLY_INDEX);
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(record.replyAddresses(), record.replyPorts())))
        {
            c.writeLock().lock();
            c.absentEntry().doInsert(c.wrapValueAsData(index.bytes()));
        }
        record.kind(ConntrackRecord.KIND_ENTRY);
        try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(record.originalAddresses(), record.originalPorts())))
        {
            c.writeLock().lock();
            c.absentEntry().doInsert(c.wrapValueAsData(record.bytes()));
        }
    }

    @Test
    void aTableFileIsByteForByteWhatChronicleOwnDataAccessWrites() throws Exception
    {
        final int connections = 2000;
        final Path before = dir.resolve("before.dat");
        final Path after = dir.resolve("after.dat");
        try (ChronicleMap<byte[], byte[]> map = ConntrackTable.builder(connections).createPersistedTo(before.toFile()))
        {
            for (int i = 0; i < connections; i++)
            {
                insertThroughChronicle(map, connection(i));
            }
            for (int i = 0; i < connections; i += 3)
            {
                final ConntrackRecord r = connection(i).state(3).count(1, 60);
                try (ExternalMapQueryContext<byte[], byte[], ?> c = map.queryContext(key(r.originalAddresses(), r.originalPorts())))
                {
                    c.writeLock().lock();
                    c.entry().doReplaceValue(c.wrapValueAsData(r.bytes()));
                }
            }
        }
        try (ConntrackTable table = ConntrackTable.persisted(after, connections))
        {
            for (int i = 0; i < connections; i++)
            {
                assertThat(table.insert(connection(i))).isTrue();
            }
            for (int i = 0; i < connections; i += 3)
            {
                table.update(connection(i).state(3).count(1, 60));
            }
        }
        assertThat(Files.size(after)).isEqualTo(Files.size(before));
        assertThat(Files.mismatch(before, after)).isEqualTo(-1L);
    }

    @Test
    void aFileWrittenThroughChronicleOwnDataAccessOpensAndReads() throws Exception
    {
        final int connections = 500;
        final Path file = dir.resolve("old.dat");
        try (ChronicleMap<byte[], byte[]> map = ConntrackTable.builder(connections).createPersistedTo(file.toFile()))
        {
            for (int i = 0; i < connections; i++)
            {
                insertAsBefore(map, connection(i));
            }
        }
        Files.writeString(TableFile.lockFileOf(file), TableFile.CLEAN); // closed cleanly: opened without recovery
        try (ConntrackTable table = ConntrackTable.persisted(file, connections))
        {
            assertThat(table.recovered()).isFalse();
            assertThat(table.primaryCount()).isEqualTo(connections);
            final ConntrackRecord found = new ConntrackRecord();
            for (int i = 0; i < connections; i++)
            {
                final ConntrackRecord r = connection(i);
                assertThat(table.lookup(r.originalAddresses(), r.originalPorts(), found)).isEqualTo(ConntrackTable.ORIGINAL);
                assertThat(found.bytes()).isEqualTo(r.kind(ConntrackRecord.KIND_ENTRY).bytes());
                assertThat(table.lookup(r.replyAddresses(), r.replyPorts(), found)).isEqualTo(ConntrackTable.REPLY);
                assertThat(found.originalPorts()).isEqualTo(r.originalPorts());
            }
            // and what it writes, Chronicle's own data access reads
            table.update(connection(7).state(5));
        }
        try (ChronicleMap<byte[], byte[]> map = ConntrackTable.builder(connections).createPersistedTo(file.toFile()))
        {
            final ConntrackRecord r = connection(7).state(5).kind(ConntrackRecord.KIND_ENTRY);
            assertThat(map.get(key(r.originalAddresses(), r.originalPorts()))).isEqualTo(r.bytes());
        }
    }
}
