package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConntrackTableTest
{
    @TempDir
    Path dir;

    private static final int CLIENT = Ipv4Address.parse("10.244.0.5");
    private static final int VIP = Ipv4Address.parse("10.96.0.10");
    private static final int BACKEND = Ipv4Address.parse("10.244.1.7");

    /** A DNATed TCP connection: client:sport -> VIP:80, answered by backend:8080 -> client:sport. */
    static ConntrackRecord connection(final ConntrackRecord r, final int client, final int sport)
    {
        return r.clear()
            .original(FlowKey.packAddresses(client, VIP), FlowKey.packPorts(6, sport, 80))
            .reply(FlowKey.packAddresses(BACKEND, client), FlowKey.packPorts(6, 8080, sport))
            .status(ConntrackRecord.IPS_DST_NAT).state(1).expiryMillis(120_000).createdMillis(0);
    }

    @Test
    void connectionsAreFoundFromEitherDirectionAndUpdatesWriteThrough()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            final ConntrackRecord r = connection(new ConntrackRecord(), CLIENT, 40000);
            assertThat(table.insert(r)).isTrue();
            assertThat(table.primaryCount()).isEqualTo(1);

            final ConntrackRecord found = new ConntrackRecord();
            assertThat(table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, 40000, 80), found))
                .isEqualTo(ConntrackTable.ORIGINAL);
            assertThat(found.replyAddresses()).isEqualTo(FlowKey.packAddresses(BACKEND, CLIENT));
            assertThat(table.lookup(FlowKey.packAddresses(BACKEND, CLIENT), FlowKey.packPorts(6, 8080, 40000), found))
                .isEqualTo(ConntrackTable.REPLY);
            assertThat(found.originalAddresses()).isEqualTo(FlowKey.packAddresses(CLIENT, VIP));
            assertThat(table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, 40001, 80), found))
                .isEqualTo(ConntrackTable.NOT_FOUND);

            found.status(found.status() | ConntrackRecord.IPS_SEEN_REPLY).state(3).count(1, 60);
            table.update(found);
            final ConntrackRecord again = new ConntrackRecord();
            table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, 40000, 80), again);
            assertThat(again.state()).isEqualTo(3);
            assertThat(again.status() & ConntrackRecord.IPS_SEEN_REPLY).isNotZero();
            assertThat(again.replyPackets()).isEqualTo(1);
            assertThat(again.replyBytes()).isEqualTo(60);

            assertThat(table.remove(again)).isTrue();
            assertThat(table.primaryCount()).isZero();
            assertThat(table.lookup(FlowKey.packAddresses(BACKEND, CLIENT), FlowKey.packPorts(6, 8080, 40000), found))
                .isEqualTo(ConntrackTable.NOT_FOUND);
        }
    }

    @Test
    void aTakenReplyTupleIsAClash()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(100))
        {
            final ConntrackRecord r = connection(new ConntrackRecord(), CLIENT, 40000);
            assertThat(table.insert(r)).isTrue();
            // another client whose reply tuple would be the same (same backend, same client port, same client)
            final ConntrackRecord clash = connection(new ConntrackRecord(), CLIENT, 40000)
                .original(FlowKey.packAddresses(CLIENT, Ipv4Address.parse("10.96.0.11")), FlowKey.packPorts(6, 40000, 80));
            assertThat(table.insert(clash)).isFalse();
        }
    }

    @Test
    void whenFullOfAssuredConnectionsExactlyTheExcessIsRefused()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            final ConntrackRecord r = new ConntrackRecord();
            int accepted = 0;
            int refused = 0;
            for (int i = 0; i < 6000; i++)
            {
                connection(r, CLIENT + (i >>> 14), 1024 + (i & 0x3FFF));
                r.status(r.status() | ConntrackRecord.IPS_ASSURED);
                if (table.insert(r))
                {
                    accepted++;
                }
                else
                {
                    refused++;
                }
            }
            assertThat(accepted).isEqualTo(1000);
            assertThat(refused).isEqualTo(5000);
            assertThat(table.primaryCount()).isEqualTo(1000);
            // the established ones are all still there
            final ConntrackRecord found = new ConntrackRecord();
            for (int i = 0; i < 1000; i++)
            {
                assertThat(table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, 1024 + i, 80), found))
                    .isEqualTo(ConntrackTable.ORIGINAL);
            }
        }
    }

    @Test
    void whenFullAnUnassuredConnectionIsEvictedForTheNewOne()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(10))
        {
            final ConntrackRecord r = new ConntrackRecord();
            for (int i = 0; i < 10; i++)
            {
                assertThat(table.insert(connection(r, CLIENT, 2000 + i))).isTrue(); // unassured
            }
            assertThat(table.insert(connection(r, CLIENT, 3000))).isTrue();
            assertThat(table.earlyDrops()).isEqualTo(1);
            assertThat(table.primaryCount()).isEqualTo(10);
            assertThat(table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, 2000, 80), r))
                .as("the oldest unassured connection made room").isEqualTo(ConntrackTable.NOT_FOUND);
        }
    }

    @Test
    void aPersistedTableKeepsItsConnectionsAcrossReopen() throws Exception
    {
        final Path file = dir.resolve("conntrack.dat");
        try (ConntrackTable table = ConntrackTable.persisted(file, 1000))
        {
            final ConntrackRecord r = new ConntrackRecord();
            for (int i = 0; i < 500; i++)
            {
                assertThat(table.insert(connection(r, CLIENT, 5000 + i))).isTrue();
            }
        }
        try (ConntrackTable table = ConntrackTable.persisted(file, 1000))
        {
            assertThat(table.primaryCount()).isEqualTo(500);
            final ConntrackRecord found = new ConntrackRecord();
            assertThat(table.lookup(FlowKey.packAddresses(BACKEND, CLIENT), FlowKey.packPorts(6, 8080, 5123), found))
                .isEqualTo(ConntrackTable.REPLY);
            assertThat(found.originalPorts()).isEqualTo(FlowKey.packPorts(6, 5123, 80));
        }
    }

    @Test
    void expiredConnectionsAreReapedInBoundedSteps()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            final ConntrackRecord r = new ConntrackRecord();
            for (int i = 0; i < 2000; i++)
            {
                connection(r, CLIENT, 10_000 + i).expiryMillis(i < 1500 ? 1_000 : 1_000_000);
                assertThat(table.insert(r)).isTrue();
            }
            table.clock(2_000);
            int removed = 0;
            int calls = 0;
            while (removed < 1500 && calls < 10_000)
            {
                removed += table.reap(2_000, 1); // one segment per call
                calls++;
            }
            assertThat(removed).isEqualTo(1500);
            assertThat(calls).as("a full pass is spread over many calls").isGreaterThan(1);
            assertThat(table.primaryCount()).isEqualTo(500);
            assertThat(table.clock()).isEqualTo(2_000);
            assertThat(table.reap(2_000, 1_000)).isZero();
        }
    }
}
