package io.dpbench.conntrack.proto;

import org.junit.jupiter.api.Test;

import static io.dpbench.conntrack.proto.TcpConntrack.CLOSE;
import static io.dpbench.conntrack.proto.TcpConntrack.CLOSE_WAIT;
import static io.dpbench.conntrack.proto.TcpConntrack.ESTABLISHED;
import static io.dpbench.conntrack.proto.TcpConntrack.FIN_WAIT;
import static io.dpbench.conntrack.proto.TcpConntrack.LAST_ACK;
import static io.dpbench.conntrack.proto.TcpConntrack.ORIGINAL;
import static io.dpbench.conntrack.proto.TcpConntrack.REPLY;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_RECV;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_SENT2;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_SENT;
import static io.dpbench.conntrack.proto.TcpConntrack.TIME_WAIT;
import static io.dpbench.conntrack.proto.TcpTrack.ACCEPT;
import static io.dpbench.conntrack.proto.TcpTrack.DESTROY;
import static io.dpbench.conntrack.proto.TcpTrack.IGNORE;
import static io.dpbench.conntrack.proto.TcpTrack.INVALID;
import static io.dpbench.conntrack.proto.TcpTrack.NO_REFRESH;
import static io.dpbench.conntrack.proto.TcpTrack.REOPEN;
import static io.dpbench.packet.TcpFlyweight.ACK;
import static io.dpbench.packet.TcpFlyweight.FIN;
import static io.dpbench.packet.TcpFlyweight.PSH;
import static io.dpbench.packet.TcpFlyweight.RST;
import static io.dpbench.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/** Scenarios through nf_conntrack_tcp_packet's history-dependent rules, with the timeout each packet leaves. */
class TcpTrackTest
{
    private static final ConntrackTimeouts KERNEL = ConntrackTimeouts.kernelDefaults();
    private static final ConntrackTimeouts KUBE = ConntrackTimeouts.kubernetesNode();

    /** Test harness: one entry's word and the timeout its last packet set, as the owning table would keep them. */
    private static final class Conn
    {
        private final ConntrackTimeouts timeouts;
        private int word;
        private int timeout;

        private Conn(final ConntrackTimeouts timeouts, final int firstFlags)
        {
            this.timeouts = timeouts;
            word = TcpTrack.open(firstFlags);
            timeout = TcpTrack.timeoutSeconds(TcpTrack.FRESH, word, firstFlags, timeouts);
        }

        private int send(final int direction, final int flags)
        {
            final int before = word;
            word = TcpTrack.packet(word, direction, flags);
            final int t = TcpTrack.timeoutSeconds(before, word, flags, timeouts);
            if (t != NO_REFRESH)
            {
                timeout = t;
            }
            return TcpTrack.verdict(word);
        }

        private int state()
        {
            return TcpTrack.state(word);
        }

        private boolean assured()
        {
            return TcpTrack.assured(word);
        }
    }

    private static Conn established(final ConntrackTimeouts timeouts)
    {
        final Conn c = new Conn(timeouts, SYN);
        c.send(REPLY, SYN | ACK);
        c.send(ORIGINAL, ACK);
        return c;
    }

    @Test
    void handshakeStatesTimeoutsAndAssured()
    {
        // tcp_new + [ORIGINAL][syn][sNO] = sSS; timeout tcp_timeouts[SYN_SENT] = 2 MINS.
        final Conn c = new Conn(KERNEL, SYN);
        assertThat(TcpTrack.verdict(c.word)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(SYN_SENT);
        assertThat(c.timeout).isEqualTo(120);
        assertThat(TcpTrack.seenReply(c.word)).isFalse();

        // [REPLY][synack][sSS] = sSR; tcp_timeouts[SYN_RECV] = 60 SECS; the core sets IPS_SEEN_REPLY afterwards.
        assertThat(c.send(REPLY, SYN | ACK)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(SYN_RECV);
        assertThat(c.timeout).isEqualTo(60);
        assertThat(TcpTrack.seenReply(c.word)).isTrue();
        assertThat(c.assured()).isFalse();

        // [ORIGINAL][ack][sSR] = sES; tcp_timeouts[ESTABLISHED] = 5 DAYS; SEEN_REPLY && SYN_RECV -> ES sets ASSURED.
        assertThat(c.send(ORIGINAL, ACK)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(ESTABLISHED);
        assertThat(c.timeout).isEqualTo(432_000);
        assertThat(c.assured()).isTrue();
    }

    @Test
    void dataKeepsEstablishedWithTheConfiguredTimeout()
    {
        // [ORIGINAL][ack][sES] = sES and [REPLY][ack][sES] = sES; ACK+PSH is the ack index.
        final Conn kernel = established(KERNEL);
        assertThat(kernel.send(ORIGINAL, ACK | PSH)).isEqualTo(ACCEPT);
        assertThat(kernel.send(REPLY, ACK | PSH)).isEqualTo(ACCEPT);
        assertThat(kernel.state()).isEqualTo(ESTABLISHED);
        assertThat(kernel.timeout).isEqualTo(432_000);
        // kube-proxy conntrack.tcpEstablishedTimeout = 24h.
        final Conn kube = established(KUBE);
        kube.send(REPLY, ACK | PSH);
        assertThat(kube.timeout).isEqualTo(86_400);
    }

    @Test
    void clientClosesFirst()
    {
        final Conn c = established(KUBE);
        // [ORIGINAL][fin][sES] = sFW; tcp_timeouts[FIN_WAIT] = 2 MINS; CLOSE_INIT set for the original side.
        assertThat(c.send(ORIGINAL, FIN | ACK)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(FIN_WAIT);
        assertThat(c.timeout).isEqualTo(120);
        assertThat(TcpTrack.closeInitiatedBy(c.word, ORIGINAL)).isTrue();
        assertThat(TcpTrack.closeInitiatedBy(c.word, REPLY)).isFalse();
        // [REPLY][ack][sFW] = sCW; CLOSE_WAIT: kube-proxy's 1h (kernel 60 SECS).
        c.send(REPLY, ACK);
        assertThat(c.state()).isEqualTo(CLOSE_WAIT);
        assertThat(c.timeout).isEqualTo(3_600);
        // [REPLY][fin][sCW] = sLA; tcp_timeouts[LAST_ACK] = 30 SECS.
        c.send(REPLY, FIN | ACK);
        assertThat(c.state()).isEqualTo(LAST_ACK);
        assertThat(c.timeout).isEqualTo(30);
        // [ORIGINAL][ack][sLA] = sTW; tcp_timeouts[TIME_WAIT] = 2 MINS.
        c.send(ORIGINAL, ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
        assertThat(c.timeout).isEqualTo(120);
        // [REPLY][ack][sTW] = sTW: retransmitted last ACK.
        c.send(REPLY, ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
    }

    @Test
    void serverClosesFirstAndFinsCross()
    {
        final Conn c = established(KERNEL);
        // [REPLY][fin][sES] = sFW; CLOSE_INIT for the reply side.
        c.send(REPLY, FIN | ACK);
        assertThat(c.state()).isEqualTo(FIN_WAIT);
        assertThat(TcpTrack.closeInitiatedBy(c.word, REPLY)).isTrue();
        // [ORIGINAL][fin][sFW] = sLA: FIN seen in both directions (FIN+ACK is the fin index).
        c.send(ORIGINAL, FIN | ACK);
        assertThat(c.state()).isEqualTo(LAST_ACK);
        // [ORIGINAL][fin][sLA] = sLA: retransmitted FIN.
        c.send(ORIGINAL, FIN | ACK);
        assertThat(c.state()).isEqualTo(LAST_ACK);
        // [REPLY][ack][sLA] = sTW.
        c.send(REPLY, ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
        assertThat(c.timeout).isEqualTo(120);
        // [ORIGINAL][fin][sTW] = sTW.
        c.send(ORIGINAL, FIN | ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
    }

    @Test
    void rstInEveryReplyStateClosesWithTheCloseTimeout()
    {
        // rst rows: every state but sNO -> sCL; timeout tcp_timeouts[CLOSE] = 10 SECS ("index == TCP_RST_SET").
        final int[][] paths = {
            {},                                          // SYN_RECV after the handshake prefix below
            {ORIGINAL, ACK},                             // ESTABLISHED
            {ORIGINAL, ACK, ORIGINAL, FIN | ACK},        // FIN_WAIT
            {ORIGINAL, ACK, ORIGINAL, FIN | ACK, REPLY, ACK},                    // CLOSE_WAIT
            {ORIGINAL, ACK, ORIGINAL, FIN | ACK, REPLY, FIN | ACK},              // LAST_ACK
            {ORIGINAL, ACK, ORIGINAL, FIN | ACK, REPLY, FIN | ACK, ORIGINAL, ACK}, // TIME_WAIT
        };
        final int[] expectedBefore = {SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT};
        for (int p = 0; p < paths.length; p++)
        {
            for (int rstDir = 0; rstDir < 2; rstDir++)
            {
                final Conn c = new Conn(KERNEL, SYN);
                c.send(REPLY, SYN | ACK);
                for (int i = 0; i < paths[p].length; i += 2)
                {
                    c.send(paths[p][i], paths[p][i + 1]);
                }
                assertThat(c.state()).isEqualTo(expectedBefore[p]);
                assertThat(c.send(rstDir, RST | ACK)).isEqualTo(ACCEPT);
                assertThat(c.state()).as("RST from %d in %s", rstDir, TcpConntrack.name(expectedBefore[p]))
                    .isEqualTo(CLOSE);
                assertThat(c.timeout).isEqualTo(10);
                // [*][rst][sCL] = sCL: a second RST keeps CLOSE.
                c.send(1 - rstDir, RST);
                assertThat(c.state()).isEqualTo(CLOSE);
            }
        }
    }

    @Test
    void rstBeforeAnyReplyDeletesTheEntry()
    {
        // [REPLY][rst][sSS] = sCL, but !IPS_SEEN_REPLY && th->rst: nf_ct_kill_acct ("only reply is a RST").
        final Conn refused = new Conn(KERNEL, SYN);
        assertThat(refused.send(REPLY, RST | ACK)).isEqualTo(DESTROY);
        assertThat(refused.state()).isEqualTo(CLOSE);
        // Same rule for the client aborting its own SYN ([ORIGINAL][rst][sSS] = sCL).
        final Conn aborted = new Conn(KERNEL, SYN);
        assertThat(aborted.send(ORIGINAL, RST)).isEqualTo(DESTROY);
        // And for a picked-up connection that never saw a reply.
        final Conn pickup = new Conn(KERNEL, ACK);
        assertThat(pickup.send(ORIGINAL, RST)).isEqualTo(DESTROY);
    }

    @Test
    void retransmittedSynKeepsSynSentWithoutRefreshingTheTimer()
    {
        final Conn c = new Conn(KERNEL, SYN);
        c.timeout = -42; // sentinel: a refresh would overwrite it
        // [ORIGINAL][syn][sSS] = sSS: retransmitted SYN.
        assertThat(c.send(ORIGINAL, SYN)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(SYN_SENT);
        // !SEEN_REPLY && index == TCP_SYN_SET && old_state == SYN_SENT: "do not renew timeout on SYN retransmit".
        assertThat(c.timeout).isEqualTo(-42);
    }

    @Test
    void simultaneousOpen()
    {
        final Conn c = new Conn(KERNEL, SYN);
        // [REPLY][syn][sSS] = sS2: simultaneous open; the SYN_SENT2 case sets IP_CT_TCP_SIMULTANEOUS_OPEN.
        assertThat(c.send(REPLY, SYN)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(SYN_SENT2);
        assertThat(TcpConntrack.name(c.state())).isEqualTo("SYN_SENT2");
        assertThat(TcpTrack.simultaneousOpen(c.word)).isTrue();
        assertThat(c.timeout).isEqualTo(120); // tcp_timeouts[SYN_SENT2] = 2 MINS
        // [ORIGINAL][syn][sS2] = sS2: late retransmitted SYN; [REPLY][syn][sS2] = sS2.
        c.send(ORIGINAL, SYN);
        c.send(REPLY, SYN);
        assertThat(c.state()).isEqualTo(SYN_SENT2);
        // [ORIGINAL][synack][sS2] = sSR: SYN/ACK sent to SYN2.
        c.send(ORIGINAL, SYN | ACK);
        assertThat(c.state()).isEqualTo(SYN_RECV);
        // [REPLY][synack][sSR] = sIG: the peer's own SYN/ACK is ignored.
        assertThat(c.send(REPLY, SYN | ACK)).isEqualTo(IGNORE);
        assertThat(c.state()).isEqualTo(SYN_RECV);
        // [REPLY][ack][sSR] = sSR, overridden: SYN_RECV case with SIMULTANEOUS_OPEN and a reply ACK -> ESTABLISHED.
        c.send(REPLY, ACK);
        assertThat(c.state()).isEqualTo(ESTABLISHED);
        assertThat(c.assured()).isTrue();
    }

    @Test
    void withoutSimultaneousOpenAReplyAckStaysInSynRecv()
    {
        final Conn c = new Conn(KERNEL, SYN);
        c.send(REPLY, SYN | ACK);
        // [REPLY][ack][sSR] = sSR: "might answer late resent SYN".
        assertThat(c.send(REPLY, ACK)).isEqualTo(ACCEPT);
        assertThat(c.state()).isEqualTo(SYN_RECV);
        assertThat(c.assured()).isFalse();
    }

    @Test
    void timeWaitReopenedBySyn()
    {
        final Conn c = established(KERNEL);
        c.send(ORIGINAL, FIN | ACK);
        c.send(REPLY, FIN | ACK);
        c.send(ORIGINAL, ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
        // [ORIGINAL][syn][sTW] = sSS; old_state >= TIME_WAIT and CLOSE_INIT set: kill the entry, NF_REPEAT.
        assertThat(c.send(ORIGINAL, SYN)).isEqualTo(REOPEN);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
        // The repeated lookup misses and tcp_new creates a fresh SYN_SENT entry from the same SYN.
        final Conn reopened = new Conn(KERNEL, SYN);
        assertThat(reopened.state()).isEqualTo(SYN_SENT);
        assertThat(reopened.assured()).isFalse();
    }

    @Test
    void timeWaitReopenedBySynFromTheServerSide()
    {
        final Conn c = established(KERNEL);
        c.send(REPLY, FIN | ACK);
        c.send(ORIGINAL, FIN | ACK);
        c.send(REPLY, ACK);
        // [REPLY][syn][sTW] = sSS: "reopened connection, but server may have switched role"; CLOSE_INIT is set.
        assertThat(c.send(REPLY, SYN)).isEqualTo(REOPEN);
    }

    @Test
    void synAfterOwnRstReopensButAfterPeerRstIsIgnoredUntilTheSynAck()
    {
        // last_dir == dir && last_index == TCP_RST_SET: the side that reset may reopen at once.
        final Conn own = established(KERNEL);
        own.send(ORIGINAL, RST);
        assertThat(own.state()).isEqualTo(CLOSE);
        assertThat(own.send(ORIGINAL, SYN)).isEqualTo(REOPEN);

        // RST came from the server: [ORIGINAL][syn][sCL] = sSS falls through to the ignore case.
        final Conn peer = established(KERNEL);
        peer.send(REPLY, RST);
        peer.timeout = -42;
        assertThat(peer.send(ORIGINAL, SYN)).isEqualTo(IGNORE);
        assertThat(peer.state()).isEqualTo(CLOSE);
        assertThat(peer.timeout).isEqualTo(-42); // ignored packets do not refresh
        assertThat(TcpTrack.lastIndex(peer.word)).isEqualTo(TcpConntrack.INDEX_SYN);
        // Ignore case b): a SYN/ACK answering the SYN we ignored re-syncs to SYN_RECV ([REPLY][synack][sCL] = sIG).
        assertThat(peer.send(REPLY, SYN | ACK)).isEqualTo(ACCEPT);
        assertThat(peer.state()).isEqualTo(SYN_RECV);
        assertThat(peer.timeout).isEqualTo(60);
        peer.send(ORIGINAL, ACK);
        assertThat(peer.state()).isEqualTo(ESTABLISHED);
    }

    @Test
    void synInEstablishedIsIgnoredAndRemembered()
    {
        final Conn c = established(KERNEL);
        // [ORIGINAL][syn][sES] = sIG.
        assertThat(c.send(ORIGINAL, SYN)).isEqualTo(IGNORE);
        assertThat(c.state()).isEqualTo(ESTABLISHED);
        assertThat(TcpTrack.lastIndex(c.word)).isEqualTo(TcpConntrack.INDEX_SYN);
        assertThat(TcpTrack.lastDirection(c.word)).isEqualTo(ORIGINAL);
    }

    @Test
    void challengeAckInLastAckIsIgnored()
    {
        final Conn c = established(KERNEL);
        c.send(ORIGINAL, FIN | ACK);
        c.send(REPLY, FIN | ACK);
        assertThat(c.state()).isEqualTo(LAST_ACK);
        // [ORIGINAL][syn][sLA] = sIG; the SYN marks IP_CT_EXP_CHALLENGE_ACK because old_state is LAST_ACK.
        assertThat(c.send(ORIGINAL, SYN)).isEqualTo(IGNORE);
        // [REPLY][ack][sLA] = sTW, but the TIME_WAIT case detects the RFC 5961 challenge ACK: no state change.
        assertThat(c.send(REPLY, ACK)).isEqualTo(IGNORE);
        assertThat(c.state()).isEqualTo(LAST_ACK);
        // The mark is consumed: the next ACK is the real last ACK.
        c.send(ORIGINAL, ACK);
        assertThat(c.state()).isEqualTo(TIME_WAIT);
    }

    @Test
    void invalidPacketsLeaveTheEntryAlone()
    {
        final Conn c = new Conn(KERNEL, SYN);
        final int before = c.word;
        // [ORIGINAL][ack][sSS] = sIV.
        assertThat(c.send(ORIGINAL, ACK)).isEqualTo(INVALID);
        // [ORIGINAL][synack][sSS] = sIV.
        assertThat(c.send(ORIGINAL, SYN | ACK)).isEqualTo(INVALID);
        // [REPLY][fin][sSS] = sIV.
        assertThat(c.send(REPLY, FIN | ACK)).isEqualTo(INVALID);
        // tcp_error: bare FIN, SYN+FIN, no flags.
        assertThat(c.send(ORIGINAL, FIN)).isEqualTo(INVALID);
        assertThat(c.send(ORIGINAL, SYN | FIN)).isEqualTo(INVALID);
        assertThat(c.send(REPLY, 0)).isEqualTo(INVALID);
        assertThat(TcpTrack.withVerdict(c.word, ACCEPT)).isEqualTo(TcpTrack.withVerdict(before, ACCEPT));
        assertThat(TcpTrack.seenReply(c.word)).isFalse(); // -NF_ACCEPT: the core does not set SEEN_REPLY
    }

    @Test
    void halfOpenReplyAckIsIgnoredButCountsAsAReply()
    {
        final Conn c = new Conn(KERNEL, SYN);
        // [REPLY][ack][sSS] = sIG: "might be a half-open connection"; NF_ACCEPT so the core sets SEEN_REPLY.
        assertThat(c.send(REPLY, ACK)).isEqualTo(IGNORE);
        assertThat(c.state()).isEqualTo(SYN_SENT);
        assertThat(TcpTrack.seenReply(c.word)).isTrue();
    }

    @Test
    void midStreamPickup()
    {
        // nf_conntrack_tcp_loose=1: tcp_new accepts an ACK, [ORIGINAL][ack][sNO] = sES.
        final Conn c = new Conn(KERNEL, ACK | PSH);
        assertThat(c.state()).isEqualTo(ESTABLISHED);
        // "ESTABLISHED without SEEN_REPLY ... avoid large ESTABLISHED timeout": capped to tcp_timeouts[UNACK] = 5 MINS.
        assertThat(c.timeout).isEqualTo(300);
        assertThat(c.assured()).isFalse();
        // First reply: still !SEEN_REPLY while it is processed, so still capped and not assured.
        c.send(REPLY, ACK);
        assertThat(c.timeout).isEqualTo(300);
        assertThat(c.assured()).isFalse();
        // Next packet: SEEN_REPLY and ES -> ES: ASSURED ("a valid answer for a picked up connection"), full timeout.
        c.send(ORIGINAL, ACK);
        assertThat(c.assured()).isTrue();
        assertThat(c.timeout).isEqualTo(432_000);
        // With nf_conntrack_tcp_loose=0 tcp_new refuses it.
        assertThat(TcpTrack.verdict(TcpTrack.open(ACK, false))).isEqualTo(INVALID);
    }

    @Test
    void firstPacketsThatCannotCreateAnEntry()
    {
        // tcp_new: "invalid new" for [ORIGINAL][synack|fin|rst][sNO] = sIV.
        assertThat(TcpTrack.verdict(TcpTrack.open(SYN | ACK))).isEqualTo(INVALID);
        assertThat(TcpTrack.verdict(TcpTrack.open(FIN | ACK))).isEqualTo(INVALID);
        assertThat(TcpTrack.verdict(TcpTrack.open(RST))).isEqualTo(INVALID);
        // tcp_error before it.
        assertThat(TcpTrack.verdict(TcpTrack.open(FIN))).isEqualTo(INVALID);
    }
}
