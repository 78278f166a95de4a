package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** kube-proxy's UDP conntrack cleanup against a real (in-memory) table, its views and a worker's flow cache. */
class StaleUdpCleanupTest
{
    private static final int UDP = 17;
    private static final int TCP = 6;
    private static final int VIP = Ipv4Address.parse("10.96.0.10");
    private static final int LB = Ipv4Address.parse("2.2.2.2");
    private static final int NODE = Ipv4Address.parse("192.168.0.10");
    private static final int OTHER_NODE_ADDRESS = Ipv4Address.parse("192.168.0.11");
    private static final int KEPT = Ipv4Address.parse("10.244.1.1");
    private static final int GONE = Ipv4Address.parse("10.244.1.2");
    private static final int ELSEWHERE = Ipv4Address.parse("8.8.8.8");
    private static final int NODE_PORT = 30053;

    /** The targets of one UDP service port: VIP:53 and LB:53 and node port 30053, served by KEPT only. */
    private static StaleUdpFlows stale()
    {
        final int[] serving = {KEPT};
        return StaleUdpFlows.builder().frontend(VIP, 53, serving).frontend(LB, 53, serving)
            .nodePort(NODE_PORT, serving).build();
    }

    /** A connection as the dataplane stores it: client:sport -> dst:dport, answered by backend:bport. */
    private static ConntrackRecord connection(final int protocol, final int client, final int sport, final int dst,
        final int dport, final int backend, final int bport)
    {
        return new ConntrackRecord().clear()
            .original(FlowKey.packAddresses(client, dst), FlowKey.packPorts(protocol, sport, dport))
            .reply(FlowKey.packAddresses(backend, client), FlowKey.packPorts(protocol, bport, sport))
            .status(ConntrackRecord.IPS_DST_NAT).expiryMillis(120_000);
    }

    private static int client(final int i)
    {
        return Ipv4Address.parse("10.244.0.0") + 2 + i;
    }

    private static boolean present(final ConntrackTable table, final ConntrackRecord r)
    {
        return table.lookup(r.originalAddresses(), r.originalPorts(), new ConntrackRecord()) == ConntrackTable.ORIGINAL;
    }

    @Test
    void matchesWhatCleanupGoDeletesAndNothingElse()
    {
        final StaleUdpFlows s = stale();
        assertThat(s.matches(connection(UDP, client(0), 40000, VIP, 53, GONE, 5353))).as("to a removed endpoint").isTrue();
        assertThat(s.matches(connection(UDP, client(0), 40000, LB, 53, GONE, 5353))).as("via the LB IP").isTrue();
        assertThat(s.matches(connection(UDP, client(0), 40000, VIP, 53, VIP, 53)))
            .as("never translated (reply from the VIP itself: the Service had no endpoint)").isTrue();
        assertThat(s.matches(connection(UDP, client(0), 40000, NODE, NODE_PORT, GONE, 5353))).as("node port").isTrue();
        assertThat(s.matches(connection(UDP, client(0), 40000, OTHER_NODE_ADDRESS, NODE_PORT, ELSEWHERE, NODE_PORT)))
            .as("cleanup.go's node-port filter names no address: any destination on that port").isTrue();
        assertThat(s.matches(connection(UDP, client(0), 40000, VIP, 53, KEPT, 5353))).as("a serving endpoint").isFalse();
        assertThat(s.matches(connection(UDP, client(0), 40000, VIP, 53, KEPT, 9999)))
            .as("ports are not compared: an endpoint that moved port keeps its flows").isFalse();
        assertThat(s.matches(connection(TCP, client(0), 40000, VIP, 53, GONE, 5353))).as("TCP expires").isFalse();
        assertThat(s.matches(connection(UDP, client(0), 40000, VIP, 54, GONE, 5353))).as("another port").isFalse();
        assertThat(s.frontendCount()).isEqualTo(2);
        assertThat(s.nodePortCount()).isEqualTo(1);
        assertThatThrownBy(() -> StaleUdpFlows.builder().frontend(VIP, 53, new int[0]))
            .hasMessageContaining("at least one serving endpoint");
    }

    @Test
    void tableRemovesExactlyTheStaleConnectionsAndBoundedPassesAddUp()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            final List<ConntrackRecord> staleOnes = new ArrayList<>();
            final List<ConntrackRecord> keptOnes = new ArrayList<>();
            for (int i = 0; i < 200; i++)
            {
                staleOnes.add(connection(UDP, client(i), 40000 + i, VIP, 53, GONE, 5353));
                staleOnes.add(connection(UDP, client(i), 41000 + i, NODE, NODE_PORT, GONE, 5353));
                keptOnes.add(connection(UDP, client(i), 42000 + i, VIP, 53, KEPT, 5353));
                keptOnes.add(connection(TCP, client(i), 43000 + i, VIP, 53, GONE, 5353));
                keptOnes.add(connection(UDP, client(i), 44000 + i, ELSEWHERE, 53, ELSEWHERE, 53));
            }
            for (final ConntrackRecord r : staleOnes)
            {
                assertThat(table.insert(r)).isTrue();
            }
            for (final ConntrackRecord r : keptOnes)
            {
                assertThat(table.insert(r)).isTrue();
            }
            // three segments at a time, as a worker would between batches
            int removed = 0;
            for (int first = 0; first < table.segments(); first += 3)
            {
                removed += table.removeStale(stale(), first, 3);
            }
            assertThat(removed).isEqualTo(400);
            assertThat(table.primaryCount()).isEqualTo(600);
            assertThat(staleOnes).noneMatch(r -> present(table, r));
            assertThat(keptOnes).allMatch(r -> present(table, r));
            // their reply-direction index went with them
            final ConntrackRecord r0 = staleOnes.get(0);
            assertThat(table.lookup(r0.replyAddresses(), r0.replyPorts(), new ConntrackRecord()))
                .isEqualTo(ConntrackTable.NOT_FOUND);
            assertThat(table.removeStale(stale())).as("a second pass finds nothing").isZero();
        }
    }

    @Test
    void eachViewRemovesOnlyItsOwnConnections()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            // two workers: clients with an even last octet belong to worker 0
            final ConntrackTable even = table.view((addresses, ports) -> ((addresses >>> 32) & 1) == 0);
            final ConntrackTable odd = table.view((addresses, ports) -> ((addresses >>> 32) & 1) == 1);
            final List<ConntrackRecord> all = new ArrayList<>();
            for (int i = 0; i < 100; i++)
            {
                final ConntrackRecord r = connection(UDP, client(i), 40000 + i, VIP, 53, GONE, 5353);
                assertThat((i % 2 == 0 ? even : odd).insert(r)).isTrue();
                all.add(r);
            }
            assertThat(even.removeStale(stale())).isEqualTo(50);
            assertThat(all).allMatch(r -> present(table, r) == (((r.originalAddresses() >>> 32) & 1) == 1));
            assertThat(odd.removeStale(stale())).isEqualTo(50);
            assertThat(table.primaryCount()).isZero();
        }
    }

    @Test
    void flowCacheForgetsTheSameConnectionsAndOnlyThose()
    {
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            final FlowCache cache = new FlowCache(table, 1024);
            final ConntrackRecord gone = connection(UDP, client(1), 40001, VIP, 53, GONE, 5353);
            final ConntrackRecord kept = connection(UDP, client(2), 40002, VIP, 53, KEPT, 5353);
            final ConntrackRecord tcp = connection(TCP, client(3), 40003, VIP, 53, GONE, 5353);
            for (final ConntrackRecord r : List.of(gone, kept, tcp))
            {
                assertThat(table.insert(r)).isTrue();
                cache.admit(r, 0);
            }
            final int slot = cache.lookup(gone.originalAddresses(), gone.originalPorts());
            assertThat(slot).isNotNegative();
            cache.dirty(slot); // unwritten counters of a connection being deleted are dropped, not flushed

            assertThat(cache.invalidate(stale())).isEqualTo(1);
            assertThat(cache.lookup(gone.originalAddresses(), gone.originalPorts())).isNegative();
            assertThat(cache.lookup(gone.replyAddresses(), gone.replyPorts())).as("by its reply tuple too").isNegative();
            assertThat(cache.lookup(kept.originalAddresses(), kept.originalPorts())).isNotNegative();
            assertThat(cache.lookup(tcp.replyAddresses(), tcp.replyPorts())).isNotNegative();

            assertThat(table.removeStale(stale())).isEqualTo(1);
            cache.flushAll(1);
            assertThat(present(table, gone)).as("no flush wrote it back").isFalse();
            assertThat(cache.flushes()).isZero();
        }
    }
}
