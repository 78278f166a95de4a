package io.dpbench.conntrack.proto;

/**
 * The per-connection part of TCP tracking that depends on history, as one packed {@code int} per entry: the state,
 * the kernel's {@code last_index}/{@code last_dir}, the {@code IP_CT_TCP_FLAG_CLOSE_INIT} bit of each direction, the
 * {@code IP_CT_TCP_SIMULTANEOUS_OPEN} and {@code IP_CT_EXP_CHALLENGE_ACK} bits of {@code last_flags}, the
 * {@code IPS_SEEN_REPLY} and {@code IPS_ASSURED} status bits, and the verdict of the last packet. Why packed: the
 * owner stores one int in its flow record and {@link #packet} is a handful of shifts, with no allocation.
 * <p>
 * {@link #packet} re-expresses {@code nf_conntrack_tcp_packet} (plus the core's {@code IPS_SEEN_REPLY} update in
 * {@code nf_conntrack_in}) for a packet in window:
 * <ul>
 *   <li>a SYN that the table maps to SYN_SENT from TIME_WAIT or CLOSE re-opens the connection ({@link #REOPEN}: the
 *   caller deletes the entry and tracks the packet as the first of a new one) when either side sent the first FIN or
 *   the last in-window packet was an RST from the same side; otherwise it is ignored like an {@code sIG} cell;</li>
 *   <li>an ignored packet ({@link #IGNORE}) passes, leaves the state and timeout alone and is remembered in
 *   {@code last_index}/{@code last_dir}; a SYN/ACK answering a SYN ignored that way from the other side re-syncs the
 *   entry to SYN_RECV;</li>
 *   <li>a SYN from the reply side in SYN_SENT is a simultaneous open (SYN_SENT2); in SYN_RECV a reply ACK then
 *   establishes (the table alone would keep SYN_RECV);</li>
 *   <li>an ACK that would move LAST_ACK to TIME_WAIT but answers an original-side SYN ignored in LAST_ACK is an RFC 5961
 *   challenge ACK and is ignored;</li>
 *   <li>an RST before any reply was seen deletes the entry ({@link #DESTROY});</li>
 *   <li>{@code IPS_ASSURED} is set as {@link TcpConntrack#assuredAfter} says.</li>
 * </ul>
 * Simplified, because no sequence numbers are tracked ({@code tcp_in_window} is omitted): every packet is in window;
 * the re-sync SYN/ACK is not checked against the ignored SYN's end sequence; an RST is never rejected as "invalid rst"
 * by its sequence number (as with {@code nf_conntrack_tcp_ignore_invalid_rst=1}); and {@link #timeoutSeconds} never
 * picks the RETRANS slot (retransmission count, zero window) or the UNACK slot for unacknowledged data. The SYN-proxy
 * keep-alive exception and {@code nf_tcp_handle_invalid}'s timeout shortening for out-of-window FIN/RST are not
 * modelled either.
 */
public final class TcpTrack
{
    /** Verdict: the packet was tracked and the entry updated. */
    public static final int ACCEPT = 0;
    /** Verdict: the packet passes (NF_ACCEPT) but the state and timeout are left alone ({@code sIG}). */
    public static final int IGNORE = 1;
    /** Verdict: the packet is ctstate INVALID (-NF_ACCEPT); the entry is unchanged. */
    public static final int INVALID = 2;
    /** Verdict: delete the entry and look the packet up again, creating a new entry from it (-NF_REPEAT). */
    public static final int REOPEN = 3;
    /** Verdict: the packet passes and the entry is deleted at once ({@code nf_ct_kill_acct}: unreplied RST). */
    public static final int DESTROY = 4;

    /** {@link #timeoutSeconds} result when the entry's timeout must not be refreshed. */
    public static final int NO_REFRESH = -1;

    /** A new entry before its first packet: state NONE, {@code last_index} = TCP_NONE_SET as {@code tcp_new} sets. */
    public static final int FRESH = TcpConntrack.INDEX_NONE << 4;

    private static final int STATE_MASK = 0xF;
    private static final int LAST_INDEX_SHIFT = 4;
    private static final int LAST_INDEX_MASK = 0x7 << LAST_INDEX_SHIFT;
    private static final int LAST_DIR_REPLY = 1 << 7;
    private static final int CLOSE_INIT_ORIGINAL = 1 << 8;
    private static final int CLOSE_INIT_REPLY = 1 << 9;
    private static final int SIMULTANEOUS_OPEN = 1 << 10;
    private static final int EXP_CHALLENGE_ACK = 1 << 11;
    private static final int SEEN_REPLY = 1 << 12;
    private static final int ASSURED = 1 << 13;
    private static final int VERDICT_SHIFT = 24;
    private static final int VERDICT_MASK = 0x7 << VERDICT_SHIFT;

    private TcpTrack()
    {
    }

    /**
     * The first packet of a flow: {@code tcp_new} then {@code nf_conntrack_tcp_packet} on a fresh entry. The verdict is
     * {@link #INVALID} when no entry may be created (see {@link TcpConntrack#newState(int, boolean)}); otherwise the
     * state is SYN_SENT or (pickup) ESTABLISHED. Use {@code timeoutSeconds(FRESH, result, tcpFlags, t)} for its timeout.
     */
    public static int open(final int tcpFlags, final boolean loose)
    {
        if (TcpConntrack.newState(tcpFlags, loose) == TcpConntrack.INVALID)
        {
            return withVerdict(FRESH, INVALID);
        }
        return packet(FRESH, TcpConntrack.ORIGINAL, tcpFlags);
    }

    /** {@link #open(int, boolean)} with the default {@code nf_conntrack_tcp_loose=1}. */
    public static int open(final int tcpFlags)
    {
        return open(tcpFlags, true);
    }

    /**
     * Track one packet of an existing entry. Returns the entry's new word; read the outcome with {@link #verdict}. For
     * {@link #INVALID}, {@link #IGNORE} (apart from the remembered last packet) and {@link #REOPEN} the state is
     * unchanged; the caller keeps the returned word in every case.
     */
    public static int packet(final int word, final int direction, final int tcpFlags)
    {
        int w = word & ~VERDICT_MASK;
        if (!TcpConntrack.validFlags(tcpFlags))
        {
            return withVerdict(w, INVALID);
        }
        int oldState = state(w);
        final int index = TcpConntrack.index(tcpFlags);
        int newState = TcpConntrack.transition(direction, index, oldState);
        boolean ignore = false;

        switch (newState)
        {
            case TcpConntrack.SYN_SENT:
                if (oldState < TcpConntrack.TIME_WAIT)
                {
                    break;
                }
                // RFC 1122 re-open from TIME_WAIT, or an aborted connection restarted by the side that reset it.
                if ((w & (CLOSE_INIT_ORIGINAL | CLOSE_INIT_REPLY)) != 0
                    || (lastDirection(w) == direction && lastIndex(w) == TcpConntrack.INDEX_RST))
                {
                    return withVerdict(w, REOPEN);
                }
                ignore = true;
                break;
            case TcpConntrack.IGNORE:
                ignore = true;
                break;
            case TcpConntrack.INVALID:
                return withVerdict(w, INVALID);
            case TcpConntrack.TIME_WAIT:
                if (oldState == TcpConntrack.LAST_ACK && index == TcpConntrack.INDEX_ACK
                    && lastDirection(w) != direction && lastIndex(w) == TcpConntrack.INDEX_SYN
                    && (w & EXP_CHALLENGE_ACK) != 0)
                {
                    // The ACK answers the SYN we let through in LAST_ACK, not our last FIN.
                    return seen(withVerdict(w & ~EXP_CHALLENGE_ACK, IGNORE), direction);
                }
                break;
            case TcpConntrack.SYN_SENT2:
                w |= SIMULTANEOUS_OPEN;
                break;
            case TcpConntrack.SYN_RECV:
                if (direction == TcpConntrack.REPLY && index == TcpConntrack.INDEX_ACK && (w & SIMULTANEOUS_OPEN) != 0)
                {
                    newState = TcpConntrack.ESTABLISHED;
                }
                break;
            default:
                break;
        }

        if (ignore)
        {
            if (index == TcpConntrack.INDEX_SYNACK && lastIndex(w) == TcpConntrack.INDEX_SYN
                && lastDirection(w) != direction)
            {
                // The SYN/ACK answers a SYN we ignored: client and server are in sync, we are not. Re-sync.
                oldState = TcpConntrack.SYN_SENT;
                newState = TcpConntrack.SYN_RECV;
                w &= ~EXP_CHALLENGE_ACK;
            }
            else
            {
                w = withLast(w, index, direction);
                if (index == TcpConntrack.INDEX_SYN && direction == TcpConntrack.ORIGINAL)
                {
                    // last_flags is rewritten from the SYN's options; only the challenge-ACK mark matters here.
                    w &= ~(SIMULTANEOUS_OPEN | EXP_CHALLENGE_ACK);
                    if (oldState == TcpConntrack.LAST_ACK)
                    {
                        w |= EXP_CHALLENGE_ACK;
                    }
                }
                return seen(withVerdict(w, IGNORE), direction);
            }
        }

        // In window from here on (tcp_in_window is not modelled).
        w = withLast(w, index, direction);
        w = (w & ~STATE_MASK) | newState;
        if (oldState != newState && newState == TcpConntrack.FIN_WAIT)
        {
            w |= direction == TcpConntrack.ORIGINAL ? CLOSE_INIT_ORIGINAL : CLOSE_INIT_REPLY;
        }
        if ((w & SEEN_REPLY) == 0)
        {
            if (index == TcpConntrack.INDEX_RST)
            {
                // Only answer was an RST: not an established connection, delete it now.
                return seen(withVerdict(w, DESTROY), direction);
            }
        }
        else if (TcpConntrack.assuredAfter(oldState, newState, true, (w & ASSURED) != 0))
        {
            w |= ASSURED;
        }
        return seen(withVerdict(w, ACCEPT), direction);
    }

    /**
     * The timeout {@code nf_conntrack_tcp_packet} gives the entry after the packet that turned {@code oldWord} into
     * {@code newWord} (a result of {@link #packet} or {@link #open}), or {@link #NO_REFRESH} when the kernel leaves the
     * timer alone: ignored, invalid, re-opening and destroying packets, and a retransmitted SYN before any reply. An RST
     * gets the CLOSE timeout; an ESTABLISHED entry with no reply yet (mid-stream pickup) is capped to UNACK.
     */
    public static int timeoutSeconds(
        final int oldWord, final int newWord, final int tcpFlags, final ConntrackTimeouts timeouts)
    {
        if (verdict(newWord) != ACCEPT)
        {
            return NO_REFRESH;
        }
        final int newState = state(newWord);
        final int index = TcpConntrack.index(tcpFlags);
        int timeout = index == TcpConntrack.INDEX_RST ? timeouts.tcp(TcpConntrack.CLOSE) : timeouts.tcp(newState);
        if (!seenReply(oldWord))
        {
            if (index == TcpConntrack.INDEX_SYN && state(oldWord) == TcpConntrack.SYN_SENT)
            {
                return NO_REFRESH;
            }
            if (newState == TcpConntrack.ESTABLISHED && timeout > timeouts.tcp(TcpConntrack.UNACK))
            {
                timeout = timeouts.tcp(TcpConntrack.UNACK);
            }
        }
        return timeout;
    }

    /** The TCP state code of the word. */
    public static int state(final int word)
    {
        return word & STATE_MASK;
    }

    /** The verdict of the last packet: {@link #ACCEPT}, {@link #IGNORE}, {@link #INVALID}, {@link #REOPEN}, {@link #DESTROY}. */
    public static int verdict(final int word)
    {
        return (word & VERDICT_MASK) >>> VERDICT_SHIFT;
    }

    /** {@code IPS_SEEN_REPLY}: a packet in the reply direction has been accepted. */
    public static boolean seenReply(final int word)
    {
        return (word & SEEN_REPLY) != 0;
    }

    /** {@code IPS_ASSURED}: the entry is not evicted early when the table is full. */
    public static boolean assured(final int word)
    {
        return (word & ASSURED) != 0;
    }

    /** The kernel's {@code last_index}: the packet index of the last in-window or ignored packet. */
    public static int lastIndex(final int word)
    {
        return (word & LAST_INDEX_MASK) >>> LAST_INDEX_SHIFT;
    }

    /** The kernel's {@code last_dir}. */
    public static int lastDirection(final int word)
    {
        return (word & LAST_DIR_REPLY) != 0 ? TcpConntrack.REPLY : TcpConntrack.ORIGINAL;
    }

    /** {@code IP_CT_TCP_FLAG_CLOSE_INIT} of {@code direction}: that side sent the first FIN. */
    public static boolean closeInitiatedBy(final int word, final int direction)
    {
        return (word & (direction == TcpConntrack.ORIGINAL ? CLOSE_INIT_ORIGINAL : CLOSE_INIT_REPLY)) != 0;
    }

    /** {@code IP_CT_TCP_SIMULTANEOUS_OPEN}: a SYN was seen from both sides. */
    public static boolean simultaneousOpen(final int word)
    {
        return (word & SIMULTANEOUS_OPEN) != 0;
    }

    /** The word with its verdict replaced; lets an owner clear a stale verdict. */
    public static int withVerdict(final int word, final int verdict)
    {
        return (word & ~VERDICT_MASK) | (verdict << VERDICT_SHIFT);
    }

    private static int withLast(final int word, final int index, final int direction)
    {
        final int w = (word & ~(LAST_INDEX_MASK | LAST_DIR_REPLY)) | (index << LAST_INDEX_SHIFT);
        return direction == TcpConntrack.REPLY ? w | LAST_DIR_REPLY : w;
    }

    /** {@code nf_conntrack_in}: after an accepted reply-direction packet the core sets {@code IPS_SEEN_REPLY}. */
    private static int seen(final int word, final int direction)
    {
        return direction == TcpConntrack.REPLY ? word | SEEN_REPLY : word;
    }
}
