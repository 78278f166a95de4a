package io.dpbench.conntrack.proto;

import static io.dpbench.packet.TcpFlyweight.ACK;
import static io.dpbench.packet.TcpFlyweight.FIN;
import static io.dpbench.packet.TcpFlyweight.RST;
import static io.dpbench.packet.TcpFlyweight.SYN;
import static io.dpbench.packet.TcpFlyweight.URG;

/**
 * The Linux TCP conntrack state machine as pure functions over int codes, re-expressed from
 * {@code net/netfilter/nf_conntrack_proto_tcp.c} and {@code include/uapi/linux/netfilter/nf_conntrack_tcp.h}
 * (a Linux 6.17-rc source tree; 2.6-era copies differ in the ORIGINAL SYN/ACK row, where SYN_RECV was ignored rather
 * than re-entered and ESTABLISHED and later were ignored rather than invalid, and in the REPLY SYN cell for TIME_WAIT,
 * which was invalid rather than a re-open).
 * <p>
 * Why int codes: the state is consulted on every packet, so it must be a table lookup with no allocation. The state
 * codes are the kernel's {@code enum tcp_conntrack} values, so they can be compared with ctnetlink output and with
 * {@code conntrack -L}; {@link #INVALID} is the kernel's {@code sIV} ({@code TCP_CONNTRACK_MAX}) and {@link #IGNORE}
 * its {@code sIG} ({@code TCP_CONNTRACK_IGNORE}); {@link #RETRANS} and {@link #UNACK} exist only as timeout slots.
 * <p>
 * This class holds what needs no per-connection history: the packet index ({@code get_conntrack_index}), the flag
 * sanity check of {@code tcp_error}, the transition table {@code tcp_conntracks[2][6][TCP_CONNTRACK_MAX]} transcribed
 * cell for cell, the first-packet rule of {@code tcp_new} and the {@code IPS_ASSURED} rule. The history-dependent
 * special cases of {@code nf_conntrack_tcp_packet} (re-open from TIME_WAIT/CLOSE, re-sync after an ignored SYN,
 * simultaneous open, challenge ACKs, unreplied RST, timeout choice) are in {@link TcpTrack}.
 * <p>
 * Not modelled: sequence-number window tracking ({@code tcp_in_window}); every packet is treated as in window, which
 * is what the kernel does for the state machine when {@code nf_conntrack_tcp_be_liberal=1}, except that out-of-window
 * packets are not reported INVALID here.
 */
public final class TcpConntrack
{
    /** Initial state of an entry before its first packet is processed ({@code sNO}). */
    public static final int NONE = 0;
    /** SYN-only packet seen ({@code sSS}). */
    public static final int SYN_SENT = 1;
    /** SYN/ACK seen ({@code sSR}). */
    public static final int SYN_RECV = 2;
    /** ACK seen after SYN/ACK, or a connection picked up mid-stream ({@code sES}). */
    public static final int ESTABLISHED = 3;
    /** FIN seen ({@code sFW}). */
    public static final int FIN_WAIT = 4;
    /** ACK seen after the FIN ({@code sCW}). */
    public static final int CLOSE_WAIT = 5;
    /** FIN seen in both directions ({@code sLA}). */
    public static final int LAST_ACK = 6;
    /** Last ACK seen ({@code sTW}). */
    public static final int TIME_WAIT = 7;
    /** RST seen ({@code sCL}). */
    public static final int CLOSE = 8;
    /** SYN-only seen from the reply direction: simultaneous open ({@code sS2}, the old LISTEN slot). */
    public static final int SYN_SENT2 = 9;
    /** Number of real states ({@code TCP_CONNTRACK_MAX}). */
    public static final int STATE_COUNT = 10;
    /** Table result "truly invalid packet" ({@code sIV} = {@code TCP_CONNTRACK_MAX}): the packet is ctstate INVALID. */
    public static final int INVALID = 10;
    /** Table result "may be valid, we may be out of sync" ({@code sIG}): let through, state unchanged. */
    public static final int IGNORE = 11;
    /** Timeout slot used after too many retransmissions ({@code TCP_CONNTRACK_RETRANS}). */
    public static final int RETRANS = 12;
    /** Timeout slot used while data is unacknowledged, or for an unreplied pickup ({@code TCP_CONNTRACK_UNACK}). */
    public static final int UNACK = 13;
    /** Size of a TCP timeout array ({@code TCP_CONNTRACK_TIMEOUT_MAX}). */
    public static final int TIMEOUT_SLOTS = 14;

    /** Direction of a packet relative to the entry: the direction of its first packet. */
    public static final int ORIGINAL = 0;
    /** Direction of a packet relative to the entry: towards the first packet's sender. */
    public static final int REPLY = 1;

    /** Packet index ({@code enum tcp_bit_set}): the row of the transition table. */
    public static final int INDEX_SYN = 0;
    public static final int INDEX_SYNACK = 1;
    public static final int INDEX_FIN = 2;
    public static final int INDEX_ACK = 3;
    public static final int INDEX_RST = 4;
    public static final int INDEX_NONE = 5;
    public static final int INDEX_COUNT = 6;

    private static final int NO = NONE;
    private static final int SS = SYN_SENT;
    private static final int SR = SYN_RECV;
    private static final int ES = ESTABLISHED;
    private static final int FW = FIN_WAIT;
    private static final int CW = CLOSE_WAIT;
    private static final int LA = LAST_ACK;
    private static final int TW = TIME_WAIT;
    private static final int CL = CLOSE;
    private static final int S2 = SYN_SENT2;
    private static final int IV = INVALID;
    private static final int IG = IGNORE;

    /**
     * {@code tcp_conntracks[dir][index][state]}, flattened as {@code (dir * 6 + index) * 10 + state}. Columns are
     * sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 in every row, exactly as in the kernel source.
     */
    private static final byte[] TABLE = flatten(new int[][][]{
        {
            // ORIGINAL   sNO sSS sSR sES sFW sCW sLA sTW sCL sS2
            /* syn    */ {SS, SS, IG, IG, IG, IG, IG, SS, SS, S2},
            /* synack */ {IV, IV, SR, IV, IV, IV, IV, IV, IV, SR},
            /* fin    */ {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
            /* ack    */ {ES, IV, ES, ES, CW, CW, TW, TW, CL, IV},
            /* rst    */ {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
            /* none   */ {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
        },
        {
            // REPLY      sNO sSS sSR sES sFW sCW sLA sTW sCL sS2
            /* syn    */ {IV, S2, IV, IV, IV, IV, IV, SS, IV, S2},
            /* synack */ {IV, SR, IG, IG, IG, IG, IG, IG, IG, SR},
            /* fin    */ {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
            /* ack    */ {IV, IG, SR, ES, CW, CW, TW, TW, CL, IG},
            /* rst    */ {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
            /* none   */ {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
        },
    });

    /**
     * {@code tcp_valid_flags}: the flag combinations {@code tcp_error} accepts once ECE, CWR and PSH are masked off.
     * Anything else (no flags, FIN without ACK, SYN+FIN, SYN+RST, ...) makes the packet INVALID before the table.
     */
    private static final boolean[] VALID_FLAGS = validFlagTable();

    private static final String[] NAMES = {
        "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",
        "SYN_SENT2", "INVALID", "IGNORE", "RETRANS", "UNACK",
    };

    private TcpConntrack()
    {
    }

    /**
     * {@code get_conntrack_index}: RST wins over everything, then SYN (with or without ACK), then FIN, then ACK.
     * So FIN+ACK is a FIN packet and RST+ACK an RST packet.
     */
    public static int index(final int tcpFlags)
    {
        if ((tcpFlags & RST) != 0)
        {
            return INDEX_RST;
        }
        if ((tcpFlags & SYN) != 0)
        {
            return (tcpFlags & ACK) != 0 ? INDEX_SYNACK : INDEX_SYN;
        }
        if ((tcpFlags & FIN) != 0)
        {
            return INDEX_FIN;
        }
        if ((tcpFlags & ACK) != 0)
        {
            return INDEX_ACK;
        }
        return INDEX_NONE;
    }

    /** The flag check of {@code tcp_error}; a packet that fails it is INVALID whatever the state. */
    public static boolean validFlags(final int tcpFlags)
    {
        return VALID_FLAGS[tcpFlags & (FIN | SYN | RST | ACK | URG)];
    }

    /** The raw table cell {@code tcp_conntracks[direction][index][state]}: a state, {@link #INVALID} or {@link #IGNORE}. */
    public static int transition(final int direction, final int index, final int state)
    {
        return TABLE[(direction * INDEX_COUNT + index) * STATE_COUNT + state];
    }

    /**
     * The state the table gives a packet with {@code tcpFlags} in {@code direction} on an entry in {@code state}, after
     * the {@code tcp_error} flag check: a state code, {@link #INVALID} or {@link #IGNORE}. History-dependent overrides
     * (re-open, simultaneous-open ACK, challenge ACK) are applied by {@link TcpTrack#packet}.
     */
    public static int next(final int state, final int direction, final int tcpFlags)
    {
        if (!validFlags(tcpFlags))
        {
            return INVALID;
        }
        return transition(direction, index(tcpFlags), state);
    }

    /** {@link #newState(int, boolean)} with the kernel default {@code nf_conntrack_tcp_loose=1}. */
    public static int newState(final int tcpFlags)
    {
        return newState(tcpFlags, true);
    }

    /**
     * {@code tcp_new}: the state the first packet of a flow creates, or {@link #INVALID} when no entry is created (the
     * packet is then ctstate INVALID). The cell is {@code tcp_conntracks[ORIGINAL][index][sNO]}: a SYN gives SYN_SENT,
     * a bare ACK (also ACK+PSH, ACK+URG) gives ESTABLISHED — a mid-stream pickup — and FIN, SYN/ACK and RST give
     * INVALID. With {@code loose} false ({@code nf_conntrack_tcp_loose=0}) only the SYN is accepted.
     */
    public static int newState(final int tcpFlags, final boolean loose)
    {
        final int state = next(NONE, ORIGINAL, tcpFlags);
        if (state >= STATE_COUNT)
        {
            return INVALID;
        }
        if (state != SYN_SENT && !loose)
        {
            return INVALID;
        }
        return state;
    }

    /**
     * The {@code IPS_ASSURED} rule at the end of {@code nf_conntrack_tcp_packet}: an accepted packet that moves the
     * entry from SYN_RECV or ESTABLISHED into ESTABLISHED assures it, but only once a reply has been seen
     * ({@code IPS_SEEN_REPLY}, which the core sets after the first reply packet is processed). So the third packet of a
     * handshake assures, and a picked-up connection is assured by its first packet after the first reply.
     */
    public static boolean assuredAfter(
        final int oldState, final int newState, final boolean seenReply, final boolean alreadyAssured)
    {
        return alreadyAssured
            || (seenReply && (oldState == SYN_RECV || oldState == ESTABLISHED) && newState == ESTABLISHED);
    }

    /** {@code tcp_can_early_drop}: states whose entries may be evicted when the table is full. */
    public static boolean canEarlyDrop(final int state)
    {
        return state == FIN_WAIT || state == LAST_ACK || state == TIME_WAIT || state == CLOSE || state == CLOSE_WAIT;
    }

    /** True for the ten real states, false for {@link #INVALID}, {@link #IGNORE} and the timeout-only slots. */
    public static boolean isState(final int code)
    {
        return code >= NONE && code < STATE_COUNT;
    }

    /**
     * The name {@code conntrack -L} and {@code /proc/net/nf_conntrack} print ({@code tcp_conntrack_names}); codes past
     * the real states get their kernel constant's short name.
     */
    public static String name(final int code)
    {
        if (code < 0 || code >= NAMES.length)
        {
            throw new IllegalArgumentException("not a TCP conntrack code: " + code);
        }
        return NAMES[code];
    }

    /** Reverse of {@link #name(int)}, for parsing {@code conntrack -L} output. */
    public static int parse(final String name)
    {
        for (int i = 0; i < NAMES.length; i++)
        {
            if (NAMES[i].equals(name))
            {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown TCP conntrack state: " + name);
    }

    private static byte[] flatten(final int[][][] table)
    {
        final byte[] flat = new byte[2 * INDEX_COUNT * STATE_COUNT];
        for (int dir = 0; dir < 2; dir++)
        {
            for (int index = 0; index < INDEX_COUNT; index++)
            {
                for (int state = 0; state < STATE_COUNT; state++)
                {
                    flat[(dir * INDEX_COUNT + index) * STATE_COUNT + state] = (byte)table[dir][index][state];
                }
            }
        }
        return flat;
    }

    private static boolean[] validFlagTable()
    {
        final boolean[] valid = new boolean[(FIN | SYN | RST | ACK | URG) + 1];
        valid[SYN] = true;
        valid[SYN | URG] = true;
        valid[SYN | ACK] = true;
        valid[RST] = true;
        valid[RST | ACK] = true;
        valid[FIN | ACK] = true;
        valid[FIN | ACK | URG] = true;
        valid[ACK] = true;
        valid[ACK | URG] = true;
        return valid;
    }
}
