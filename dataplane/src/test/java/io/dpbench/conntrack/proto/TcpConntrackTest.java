package io.dpbench.conntrack.proto;

import org.junit.jupiter.api.Test;

import static io.dpbench.conntrack.proto.TcpConntrack.CLOSE;
import static io.dpbench.conntrack.proto.TcpConntrack.CLOSE_WAIT;
import static io.dpbench.conntrack.proto.TcpConntrack.ESTABLISHED;
import static io.dpbench.conntrack.proto.TcpConntrack.FIN_WAIT;
import static io.dpbench.conntrack.proto.TcpConntrack.IGNORE;
import static io.dpbench.conntrack.proto.TcpConntrack.INVALID;
import static io.dpbench.conntrack.proto.TcpConntrack.LAST_ACK;
import static io.dpbench.conntrack.proto.TcpConntrack.NONE;
import static io.dpbench.conntrack.proto.TcpConntrack.ORIGINAL;
import static io.dpbench.conntrack.proto.TcpConntrack.REPLY;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_RECV;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_SENT2;
import static io.dpbench.conntrack.proto.TcpConntrack.SYN_SENT;
import static io.dpbench.conntrack.proto.TcpConntrack.TIME_WAIT;
import static io.dpbench.packet.TcpFlyweight.ACK;
import static io.dpbench.packet.TcpFlyweight.CWR;
import static io.dpbench.packet.TcpFlyweight.ECE;
import static io.dpbench.packet.TcpFlyweight.FIN;
import static io.dpbench.packet.TcpFlyweight.PSH;
import static io.dpbench.packet.TcpFlyweight.RST;
import static io.dpbench.packet.TcpFlyweight.SYN;
import static io.dpbench.packet.TcpFlyweight.URG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The stateless half: packet index, tcp_error flag check, the transition table cell by cell, tcp_new, ASSURED. */
class TcpConntrackTest
{
    private static final String COLUMNS = "NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE SYN_SENT2";

    /** The kernel table rows, written with conntrack names, independently of the production transcription. */
    private static final String[][] KERNEL_ROWS = {
        {
            // tcp_conntracks[ORIGINAL]
            "SYN_SENT SYN_SENT IGNORE IGNORE IGNORE IGNORE IGNORE SYN_SENT SYN_SENT SYN_SENT2",   // syn
            "INVALID INVALID SYN_RECV INVALID INVALID INVALID INVALID INVALID INVALID SYN_RECV",  // synack
            "INVALID INVALID FIN_WAIT FIN_WAIT LAST_ACK LAST_ACK LAST_ACK TIME_WAIT CLOSE INVALID", // fin
            "ESTABLISHED INVALID ESTABLISHED ESTABLISHED CLOSE_WAIT CLOSE_WAIT TIME_WAIT TIME_WAIT CLOSE INVALID", // ack
            "INVALID CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE",                      // rst
            "INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID",     // none
        },
        {
            // tcp_conntracks[REPLY]
            "INVALID SYN_SENT2 INVALID INVALID INVALID INVALID INVALID SYN_SENT INVALID SYN_SENT2", // syn
            "INVALID SYN_RECV IGNORE IGNORE IGNORE IGNORE IGNORE IGNORE IGNORE SYN_RECV",       // synack
            "INVALID INVALID FIN_WAIT FIN_WAIT LAST_ACK LAST_ACK LAST_ACK TIME_WAIT CLOSE INVALID", // fin
            "INVALID IGNORE SYN_RECV ESTABLISHED CLOSE_WAIT CLOSE_WAIT TIME_WAIT TIME_WAIT CLOSE IGNORE", // ack
            "INVALID CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE",                    // rst
            "INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID INVALID",   // none
        },
    };

    @Test
    void everyTableCellMatchesTheKernel()
    {
        // tcp_conntracks[2][6][TCP_CONNTRACK_MAX]: all 120 cells.
        final String[] columns = COLUMNS.split(" ");
        for (int dir = 0; dir < 2; dir++)
        {
            for (int index = 0; index < TcpConntrack.INDEX_COUNT; index++)
            {
                final String[] cells = KERNEL_ROWS[dir][index].split(" ");
                assertThat(cells).hasSize(TcpConntrack.STATE_COUNT);
                for (int state = 0; state < TcpConntrack.STATE_COUNT; state++)
                {
                    assertThat(TcpConntrack.name(state)).isEqualTo(columns[state]);
                    assertThat(TcpConntrack.name(TcpConntrack.transition(dir, index, state)))
                        .as("tcp_conntracks[%d][%d][%s]", dir, index, columns[state])
                        .isEqualTo(cells[state]);
                }
            }
        }
    }

    @Test
    void packetIndexFollowsGetConntrackIndex()
    {
        // get_conntrack_index: rst first, then syn (ack decides synack), then fin, then ack, else none.
        assertThat(TcpConntrack.index(SYN)).isEqualTo(TcpConntrack.INDEX_SYN);
        assertThat(TcpConntrack.index(SYN | ACK)).isEqualTo(TcpConntrack.INDEX_SYNACK);
        assertThat(TcpConntrack.index(FIN | ACK)).isEqualTo(TcpConntrack.INDEX_FIN);
        assertThat(TcpConntrack.index(ACK | PSH)).isEqualTo(TcpConntrack.INDEX_ACK);
        assertThat(TcpConntrack.index(RST | ACK)).isEqualTo(TcpConntrack.INDEX_RST);
        assertThat(TcpConntrack.index(RST | SYN)).isEqualTo(TcpConntrack.INDEX_RST);
        assertThat(TcpConntrack.index(PSH)).isEqualTo(TcpConntrack.INDEX_NONE);
        assertThat(TcpConntrack.index(0)).isEqualTo(TcpConntrack.INDEX_NONE);
    }

    @Test
    void flagCombinationsFollowTcpValidFlags()
    {
        // tcp_valid_flags: the nine accepted combinations; ECE, CWR and PSH are masked off first.
        assertThat(TcpConntrack.validFlags(SYN)).isTrue();
        assertThat(TcpConntrack.validFlags(SYN | URG)).isTrue();
        assertThat(TcpConntrack.validFlags(SYN | ACK | ECE | CWR)).isTrue();
        assertThat(TcpConntrack.validFlags(RST)).isTrue();
        assertThat(TcpConntrack.validFlags(RST | ACK)).isTrue();
        assertThat(TcpConntrack.validFlags(FIN | ACK | PSH)).isTrue();
        assertThat(TcpConntrack.validFlags(FIN | ACK | URG)).isTrue();
        assertThat(TcpConntrack.validFlags(ACK)).isTrue();
        assertThat(TcpConntrack.validFlags(ACK | URG | PSH)).isTrue();
        // Everything else is "invalid tcp flag combination".
        assertThat(TcpConntrack.validFlags(0)).isFalse();
        assertThat(TcpConntrack.validFlags(PSH)).isFalse();
        assertThat(TcpConntrack.validFlags(FIN)).isFalse();
        assertThat(TcpConntrack.validFlags(SYN | FIN)).isFalse();
        assertThat(TcpConntrack.validFlags(SYN | RST)).isFalse();
        assertThat(TcpConntrack.validFlags(FIN | SYN | RST | PSH | ACK | URG)).isFalse();
        int valid = 0;
        for (int flags = 0; flags < 256; flags++)
        {
            if (TcpConntrack.validFlags(flags))
            {
                valid++;
            }
        }
        assertThat(valid).isEqualTo(9 * 8); // 9 combinations x 8 settings of ECE/CWR/PSH
    }

    @Test
    void nextAppliesTheFlagCheckBeforeTheTable()
    {
        // tcp_error runs before the table: a bare FIN is INVALID even where the fin row says FIN_WAIT.
        assertThat(TcpConntrack.next(ESTABLISHED, ORIGINAL, FIN)).isEqualTo(INVALID);
        // tcp_conntracks[ORIGINAL][fin][sES] = sFW for the valid FIN+ACK.
        assertThat(TcpConntrack.next(ESTABLISHED, ORIGINAL, FIN | ACK)).isEqualTo(FIN_WAIT);
        // A packet with no flags: tcp_error rejects it (and the none row is all sIV anyway).
        assertThat(TcpConntrack.next(ESTABLISHED, REPLY, 0)).isEqualTo(INVALID);
    }

    @Test
    void handshakeAndTeardownThroughTheTable()
    {
        // [ORIGINAL][syn][sNO] = sSS
        int s = TcpConntrack.next(NONE, ORIGINAL, SYN);
        assertThat(s).isEqualTo(SYN_SENT);
        // [REPLY][synack][sSS] = sSR
        s = TcpConntrack.next(s, REPLY, SYN | ACK);
        assertThat(s).isEqualTo(SYN_RECV);
        // [ORIGINAL][ack][sSR] = sES
        s = TcpConntrack.next(s, ORIGINAL, ACK);
        assertThat(s).isEqualTo(ESTABLISHED);
        // [REPLY][fin][sES] = sFW
        s = TcpConntrack.next(s, REPLY, FIN | ACK);
        assertThat(s).isEqualTo(FIN_WAIT);
        // [ORIGINAL][ack][sFW] = sCW
        s = TcpConntrack.next(s, ORIGINAL, ACK);
        assertThat(s).isEqualTo(CLOSE_WAIT);
        // [ORIGINAL][fin][sCW] = sLA
        s = TcpConntrack.next(s, ORIGINAL, FIN | ACK);
        assertThat(s).isEqualTo(LAST_ACK);
        // [REPLY][ack][sLA] = sTW
        s = TcpConntrack.next(s, REPLY, ACK);
        assertThat(s).isEqualTo(TIME_WAIT);
    }

    @Test
    void rstClosesEveryStateButNone()
    {
        // rst rows of both directions: sNO -> sIV, every other state -> sCL.
        for (int dir = 0; dir < 2; dir++)
        {
            assertThat(TcpConntrack.next(NONE, dir, RST)).isEqualTo(INVALID);
            for (int state = SYN_SENT; state < TcpConntrack.STATE_COUNT; state++)
            {
                assertThat(TcpConntrack.next(state, dir, RST)).as("%s", TcpConntrack.name(state)).isEqualTo(CLOSE);
                assertThat(TcpConntrack.next(state, dir, RST | ACK)).isEqualTo(CLOSE);
            }
        }
    }

    @Test
    void wrongSideAndOutOfOrderPackets()
    {
        // [ORIGINAL][ack][sSS] = sIV: "we haven't seen a SYN/ACK yet".
        assertThat(TcpConntrack.next(SYN_SENT, ORIGINAL, ACK)).isEqualTo(INVALID);
        // [REPLY][ack][sSS] = sIG: "might be a half-open connection".
        assertThat(TcpConntrack.next(SYN_SENT, REPLY, ACK)).isEqualTo(IGNORE);
        // [ORIGINAL][synack][sSS] = sIV: "client can't send SYN and then SYN/ACK".
        assertThat(TcpConntrack.next(SYN_SENT, ORIGINAL, SYN | ACK)).isEqualTo(INVALID);
        // [ORIGINAL][synack][sES] = sIV: invalid SYN/ACK sent by the client.
        assertThat(TcpConntrack.next(ESTABLISHED, ORIGINAL, SYN | ACK)).isEqualTo(INVALID);
        // [REPLY][synack][sES] = sIG: late retransmitted SYN/ACK.
        assertThat(TcpConntrack.next(ESTABLISHED, REPLY, SYN | ACK)).isEqualTo(IGNORE);
        // [ORIGINAL][syn][sES] = sIG: SYN in window outside SYN_SENT.
        assertThat(TcpConntrack.next(ESTABLISHED, ORIGINAL, SYN)).isEqualTo(IGNORE);
        // [REPLY][syn][sES] = sIV.
        assertThat(TcpConntrack.next(ESTABLISHED, REPLY, SYN)).isEqualTo(INVALID);
        // [ORIGINAL][fin][sSS] = sIV: FIN before the SYN/ACK.
        assertThat(TcpConntrack.next(SYN_SENT, ORIGINAL, FIN | ACK)).isEqualTo(INVALID);
        // [REPLY][*][sNO] = sIV: no packet can be the reply of nothing.
        for (final int flags : new int[]{SYN, SYN | ACK, FIN | ACK, ACK, RST})
        {
            assertThat(TcpConntrack.next(NONE, REPLY, flags)).isEqualTo(INVALID);
        }
    }

    @Test
    void newConnectionFollowsTcpNewWithLooseDefault()
    {
        // tcp_new: tcp_conntracks[0][index][sNO]; sSS for SYN.
        assertThat(TcpConntrack.newState(SYN)).isEqualTo(SYN_SENT);
        // nf_conntrack_tcp_loose=1 (default): an ACK picks the connection up as ESTABLISHED ([0][ack][sNO] = sES).
        assertThat(TcpConntrack.newState(ACK)).isEqualTo(ESTABLISHED);
        assertThat(TcpConntrack.newState(ACK | PSH)).isEqualTo(ESTABLISHED);
        // [0][synack][sNO], [0][fin][sNO], [0][rst][sNO] = sIV: "invalid new".
        assertThat(TcpConntrack.newState(SYN | ACK)).isEqualTo(INVALID);
        assertThat(TcpConntrack.newState(FIN | ACK)).isEqualTo(INVALID);
        assertThat(TcpConntrack.newState(RST)).isEqualTo(INVALID);
        // tcp_error: flag combinations rejected before tcp_new.
        assertThat(TcpConntrack.newState(0)).isEqualTo(INVALID);
        assertThat(TcpConntrack.newState(SYN | FIN)).isEqualTo(INVALID);
        // nf_conntrack_tcp_loose=0: "don't try to pick up connections".
        assertThat(TcpConntrack.newState(ACK, false)).isEqualTo(INVALID);
        assertThat(TcpConntrack.newState(SYN, false)).isEqualTo(SYN_SENT);
    }

    @Test
    void assuredRule()
    {
        // nf_conntrack_tcp_packet: ASSURED when SEEN_REPLY and SYN_RECV/ESTABLISHED -> ESTABLISHED.
        assertThat(TcpConntrack.assuredAfter(SYN_RECV, ESTABLISHED, true, false)).isTrue();
        assertThat(TcpConntrack.assuredAfter(ESTABLISHED, ESTABLISHED, true, false)).isTrue();
        // Not without a reply (pickup's first packet), not from SYN_SENT, not into other states.
        assertThat(TcpConntrack.assuredAfter(ESTABLISHED, ESTABLISHED, false, false)).isFalse();
        assertThat(TcpConntrack.assuredAfter(SYN_SENT, SYN_RECV, true, false)).isFalse();
        assertThat(TcpConntrack.assuredAfter(ESTABLISHED, FIN_WAIT, true, false)).isFalse();
        // The bit is never cleared.
        assertThat(TcpConntrack.assuredAfter(FIN_WAIT, CLOSE_WAIT, true, true)).isTrue();
    }

    @Test
    void namesAreConntrackListNames()
    {
        // tcp_conntrack_names
        assertThat(TcpConntrack.name(SYN_SENT2)).isEqualTo("SYN_SENT2");
        assertThat(TcpConntrack.name(ESTABLISHED)).isEqualTo("ESTABLISHED");
        assertThat(TcpConntrack.parse("TIME_WAIT")).isEqualTo(TIME_WAIT);
        assertThat(TcpConntrack.isState(SYN_SENT2)).isTrue();
        assertThat(TcpConntrack.isState(INVALID)).isFalse();
        assertThatThrownBy(() -> TcpConntrack.parse("LISTEN")).isInstanceOf(IllegalArgumentException.class);
        // tcp_can_early_drop
        assertThat(TcpConntrack.canEarlyDrop(TIME_WAIT)).isTrue();
        assertThat(TcpConntrack.canEarlyDrop(ESTABLISHED)).isFalse();
    }
}
