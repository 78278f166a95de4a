package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;

import io.dpbench.conntrack.ConntrackRecord;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.TcpConntrack;
import io.dpbench.conntrack.proto.TcpTrack;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connections through the dataplane's table: TCP states and timeouts after each packet of a handshake, data and FIN
 * or RST teardown in both directions (against the kernel's table and the Kubernetes node's timeouts), the table-full
 * rule (exactly the excess new flows refused, established ones still pass), and masquerade port allocation that
 * avoids reply-tuple clashes.
 */
class DataplaneConntrackTest
{
    private static final ClusterModel CLUSTER = SyntheticCluster.generate(5, 1, 1, SyntheticCluster.Mix.CLUSTER_IP);
    private static final int VIP = Ipv4Address.parse("10.96.0.1");
    private static final int CLIENT = Ipv4Address.parse("10.244.3.200");

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
    private final FrameBuilder builder = new FrameBuilder();
    private final ParsedPacket parsed = new ParsedPacket();
    private long now = 1_000_000_000L;

    /** Send one TCP packet; returns the frame as it left (parsed), or null when dropped. */
    private ParsedPacket tcp(final ConntrackNatEngine d, final int src, final int sport, final int dst, final int dport,
        final int flags)
    {
        builder.addresses(src, dst).tcp(sport, dport, flags).payload(new byte[0], 0);
        final int length = builder.build(buffer, 0);
        now += 10_000_000L; // 10 ms apart
        if (!d.process(buffer, 0, length, now))
        {
            return null;
        }
        assertThat(new PacketParser(true).parse(buffer, 0, length, parsed)).isEqualTo(Verdict.OK);
        return parsed;
    }

    private ConntrackRecord entry(final ConntrackTable table, final int sport)
    {
        final ConntrackRecord r = new ConntrackRecord();
        assertThat(table.lookup(FlowKey.packAddresses(CLIENT, VIP), FlowKey.packPorts(6, sport, 80), r))
            .isEqualTo(ConntrackTable.ORIGINAL);
        return r;
    }

    private long secondsLeft(final ConntrackRecord r)
    {
        return (r.expiryMillis() - now / 1_000_000L) / 1000;
    }

    @Test
    void tcpStatesAndTimeoutsThroughTheTable() throws Exception
    {
        try (ConntrackTable table = ConntrackTable.inMemory(100))
        {
            final ConntrackNatEngine d = ReplayConversations.dataplane(CLUSTER, table);
            final ParsedPacket syn = tcp(d, CLIENT, 40000, VIP, 80, TcpFlyweight.SYN);
            final int backend = syn.destinationAddress;
            final int backendPort = syn.destinationPort;
            ConntrackRecord r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.SYN_SENT);
            assertThat(secondsLeft(r)).isEqualTo(120); // syn_sent 120 s
            assertThat(r.status() & ConntrackRecord.IPS_DST_NAT).isNotZero();

            final ParsedPacket synAck = tcp(d, backend, backendPort, CLIENT, 40000, TcpFlyweight.SYN | TcpFlyweight.ACK);
            assertThat(synAck.sourceAddress).isEqualTo(VIP);
            assertThat(synAck.sourcePort).isEqualTo(80);
            r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.SYN_RECV);
            assertThat(secondsLeft(r)).isEqualTo(60); // syn_recv 60 s
            assertThat(r.status() & ConntrackRecord.IPS_SEEN_REPLY).isNotZero();

            tcp(d, CLIENT, 40000, VIP, 80, TcpFlyweight.ACK);
            r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.ESTABLISHED);
            assertThat(secondsLeft(r)).isEqualTo(86400); // kube-proxy's established 86400 s
            assertThat(r.assured()).isTrue();

            // the server closes first: FIN from the backend (reply direction), then the client's FIN/ACK
            assertThat(tcp(d, backend, backendPort, CLIENT, 40000, TcpFlyweight.FIN | TcpFlyweight.ACK).sourceAddress).isEqualTo(VIP);
            r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.FIN_WAIT);
            assertThat(secondsLeft(r)).isEqualTo(120); // fin_wait 120 s
            tcp(d, CLIENT, 40000, VIP, 80, TcpFlyweight.FIN | TcpFlyweight.ACK);
            r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.LAST_ACK);
            assertThat(secondsLeft(r)).isEqualTo(30); // last_ack 30 s
            tcp(d, backend, backendPort, CLIENT, 40000, TcpFlyweight.ACK);
            r = entry(table, 40000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.TIME_WAIT);
            assertThat(secondsLeft(r)).isEqualTo(120); // time_wait 120 s

            // another connection reset by the backend: CLOSE with its 10 s timeout
            final ParsedPacket second = tcp(d, CLIENT, 40001, VIP, 80, TcpFlyweight.SYN);
            tcp(d, second.destinationAddress, second.destinationPort, CLIENT, 40001, TcpFlyweight.SYN | TcpFlyweight.ACK);
            tcp(d, CLIENT, 40001, VIP, 80, TcpFlyweight.ACK);
            tcp(d, backend, backendPort, CLIENT, 40001, TcpFlyweight.RST);
            r = entry(table, 40001);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.CLOSE);
            assertThat(secondsLeft(r)).isEqualTo(10); // close 10 s

            // a SYN/ACK cannot open a connection (tcp_new): INVALID, dropped and counted
            assertThat(tcp(d, CLIENT, 40002, VIP, 80, TcpFlyweight.SYN | TcpFlyweight.ACK)).isNull();
            assertThat(d.drops(io.dpbench.packet.DropReason.CONNTRACK_INVALID)).isEqualTo(1);
        }
    }

    @Test
    void retransmittedSynAndSimultaneousOpenThroughTheTable() throws Exception
    {
        try (ConntrackTable table = ConntrackTable.inMemory(100))
        {
            final ConntrackNatEngine d = ReplayConversations.dataplane(CLUSTER, table);
            final ParsedPacket syn = tcp(d, CLIENT, 41000, VIP, 80, TcpFlyweight.SYN);
            final int backend = syn.destinationAddress;
            final int backendPort = syn.destinationPort;
            final long firstExpiry = entry(table, 41000).expiryMillis();
            // a retransmitted SYN before any reply: still SYN_SENT, and the timer is not renewed (kernel since 5.14)
            final ParsedPacket again = tcp(d, CLIENT, 41000, VIP, 80, TcpFlyweight.SYN);
            assertThat(again.destinationAddress).isEqualTo(backend);
            ConntrackRecord r = entry(table, 41000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.SYN_SENT);
            assertThat(r.expiryMillis()).isEqualTo(firstExpiry);

            // simultaneous open: the backend sends a SYN of its own (reply direction) -> SYN_SENT2 (tcp_conntracks)
            assertThat(tcp(d, backend, backendPort, CLIENT, 41000, TcpFlyweight.SYN).sourceAddress).isEqualTo(VIP);
            r = entry(table, 41000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.SYN_SENT2);
            // nf_conntrack_tcp_packet: before SEEN_REPLY, a SYN in SYN_SENT does not renew the timer, whichever side
            // sends it; the state has already moved on
            assertThat(r.expiryMillis()).isEqualTo(firstExpiry);
            // the client answers with SYN/ACK -> SYN_RECV; the backend's ACK -> ESTABLISHED
            tcp(d, CLIENT, 41000, VIP, 80, TcpFlyweight.SYN | TcpFlyweight.ACK);
            assertThat(TcpTrack.state(entry(table, 41000).state())).isEqualTo(TcpConntrack.SYN_RECV);
            tcp(d, backend, backendPort, CLIENT, 41000, TcpFlyweight.ACK);
            r = entry(table, 41000);
            assertThat(TcpTrack.state(r.state())).isEqualTo(TcpConntrack.ESTABLISHED);
            assertThat(secondsLeft(r)).isEqualTo(86400);
        }
    }

    @Test
    void whenTheTableIsFullExactlyTheExcessNewFlowsAreDroppedAndEstablishedOnesPass() throws Exception
    {
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            final ConntrackNatEngine d = ReplayConversations.dataplane(CLUSTER, table);
            final int[] backend = new int[1000];
            final int[] backendPort = new int[1000];
            for (int i = 0; i < 1000; i++)
            {
                final int client = CLIENT + (i >>> 8 << 8);
                final int port = 20000 + (i & 0xFF);
                final ParsedPacket syn = tcp(d, client, port, VIP, 80, TcpFlyweight.SYN);
                backend[i] = syn.destinationAddress;
                backendPort[i] = syn.destinationPort;
                assertThat(tcp(d, backend[i], backendPort[i], client, port, TcpFlyweight.SYN | TcpFlyweight.ACK)).isNotNull();
                assertThat(tcp(d, client, port, VIP, 80, TcpFlyweight.ACK)).isNotNull(); // ESTABLISHED, ASSURED
            }
            assertThat(table.primaryCount()).isEqualTo(1000);
            int refused = 0;
            for (int i = 0; i < 5000; i++)
            {
                if (tcp(d, Ipv4Address.parse("10.244.9.200") + (i >>> 12), 30000 + (i & 0xFFF), VIP, 80, TcpFlyweight.SYN) == null)
                {
                    refused++;
                }
            }
            assertThat(refused).isEqualTo(5000);
            assertThat(d.drops(io.dpbench.packet.DropReason.CONNTRACK_FULL)).isEqualTo(5000);
            for (int i = 0; i < 1000; i++)
            {
                final int client = CLIENT + (i >>> 8 << 8);
                final ParsedPacket data = tcp(d, client, 20000 + (i & 0xFF), VIP, 80, TcpFlyweight.ACK | TcpFlyweight.PSH);
                assertThat(data).as("established flow %d", i).isNotNull();
                assertThat(data.destinationAddress).isEqualTo(backend[i]);
            }
        }
    }

    @Test
    void masqueradedFlowsThatWouldClashGetAnotherSourcePort() throws Exception
    {
        try (ConntrackTable table = ConntrackTable.inMemory(100))
        {
            final ConntrackNatEngine d = ReplayConversations.dataplane(CLUSTER, table);
            // two clients outside the cluster CIDR, same source port, same Service: masqueraded to the node IP
            final int a = Ipv4Address.parse("192.168.7.1");
            final int b = Ipv4Address.parse("192.168.7.2");
            final ParsedPacket first = tcp(d, a, 5555, VIP, 80, TcpFlyweight.SYN);
            final int node = first.sourceAddress;
            final int firstPort = first.sourcePort;
            final int backend = first.destinationAddress;
            final int backendPort = first.destinationPort;
            assertThat(Ipv4Address.toString(node)).isEqualTo("192.168.0.10");
            assertThat(firstPort).as("the client's port is kept when free").isEqualTo(5555);
            final ParsedPacket second = tcp(d, b, 5555, VIP, 80, TcpFlyweight.SYN);
            assertThat(second.sourceAddress).isEqualTo(node);
            assertThat(second.destinationAddress).isEqualTo(backend); // one endpoint: same backend, so it would clash
            assertThat(second.sourcePort).as("a clash-free port").isNotEqualTo(5555);
            final int secondPort = second.sourcePort;
            // the backend's replies reach the right client
            final ParsedPacket replyA = tcp(d, backend, backendPort, node, firstPort, TcpFlyweight.SYN | TcpFlyweight.ACK);
            assertThat(replyA.destinationAddress).isEqualTo(a);
            assertThat(replyA.destinationPort).isEqualTo(5555);
            assertThat(replyA.sourceAddress).isEqualTo(VIP);
            final ParsedPacket replyB = tcp(d, backend, backendPort, node, secondPort, TcpFlyweight.SYN | TcpFlyweight.ACK);
            assertThat(replyB.destinationAddress).isEqualTo(b);
            assertThat(replyB.destinationPort).isEqualTo(5555);
        }
    }
}
