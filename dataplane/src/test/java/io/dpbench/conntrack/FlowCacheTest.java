package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FlowCacheTest
{
    private static final int CLIENT = Ipv4Address.parse("10.244.0.5");

    @Test
    void hitsFromEitherDirectionAndTrailingChangesReachTheTableWithinASecond()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            final FlowCache cache = new FlowCache(table, 64);
            final ConntrackRecord r = ConntrackTableTest.connection(new ConntrackRecord(), CLIENT, 40000);
            assertThat(table.insert(r)).isTrue();
            final int slot = cache.admit(r, 0);
            assertThat(cache.lookup(r.originalAddresses(), r.originalPorts())).isEqualTo(slot);
            assertThat(cache.direction).isEqualTo(ConntrackTable.ORIGINAL);
            assertThat(cache.lookup(r.replyAddresses(), r.replyPorts())).isEqualTo(slot);
            assertThat(cache.direction).isEqualTo(ConntrackTable.REPLY);
            assertThat(cache.lookup(FlowKey.packAddresses(CLIENT, 1), 7)).isEqualTo(-1);

            // a counter-only change trails; flushIfDue writes it once a second has passed
            cache.record(slot).count(0, 100).expiryMillis(500_000);
            cache.dirty(slot);
            cache.flushIfDue(slot, 999);
            final ConntrackRecord inTable = new ConntrackRecord();
            table.lookup(r.originalAddresses(), r.originalPorts(), inTable);
            assertThat(inTable.originalPackets()).isZero();
            cache.flushIfDue(slot, 1000);
            table.lookup(r.originalAddresses(), r.originalPorts(), inTable);
            assertThat(inTable.originalPackets()).isEqualTo(1);
            assertThat(inTable.expiryMillis()).isEqualTo(500_000);

            // the reaper keeps a connection whose cached expiry is still ahead of the table's
            cache.record(slot).expiryMillis(9_000_000);
            cache.dirty(slot);
            int reaped = 0;
            for (int i = 0; i < 10_000; i++)
            {
                reaped += table.reap(600_000, 1, cache);
            }
            assertThat(reaped).isZero();
            assertThat(table.primaryCount()).isEqualTo(1);
            cache.flushAll(600_000);
            table.lookup(r.originalAddresses(), r.originalPorts(), inTable);
            assertThat(inTable.expiryMillis()).isEqualTo(9_000_000);
        }
    }

    @Test
    void aNewcomerEvictsTheOccupantAfterFlushingIt()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            final FlowCache cache = new FlowCache(table, 16);
            final ConntrackRecord[] connections = new ConntrackRecord[200];
            for (int i = 0; i < connections.length; i++)
            {
                connections[i] = ConntrackTableTest.connection(new ConntrackRecord(), CLIENT, 20000 + i);
                assertThat(table.insert(connections[i])).isTrue();
                final int slot = cache.admit(connections[i], 0);
                cache.record(slot).count(1, 42);
                cache.dirty(slot);
            }
            // 200 connections through 16 slots: the evicted ones were flushed, the rest are flushed by flushAll
            cache.flushAll(0);
            final ConntrackRecord found = new ConntrackRecord();
            for (final ConntrackRecord c : connections)
            {
                table.lookup(c.originalAddresses(), c.originalPorts(), found);
                assertThat(found.replyBytes()).isEqualTo(42);
            }
            assertThat(cache.flushes()).isEqualTo(200);
        }
    }
}
