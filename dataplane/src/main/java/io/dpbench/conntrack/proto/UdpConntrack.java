package io.dpbench.conntrack.proto;

/**
 * UDP tracking as pure functions, re-expressed from {@code nf_conntrack_udp_packet} in
 * {@code net/netfilter/nf_conntrack_proto_udp.c}. UDP has no states, only two status bits and a timestamp:
 * <ul>
 *   <li>while no reply has been seen ({@code IPS_SEEN_REPLY} clear) every packet refreshes the entry to the
 *   unreplied timeout ({@code nf_conntrack_udp_timeout}, 30 s);</li>
 *   <li>the entry stores {@code stream_ts = creation + 2 s} (set while it is unconfirmed, i.e. by its first packet);
 *   once a reply has been seen, a packet at or before {@code stream_ts} still gets the unreplied timeout, and only a
 *   packet strictly after it gets the stream timeout ({@code nf_conntrack_udp_timeout_stream}, 120 s) and sets
 *   {@code IPS_ASSURED}. So a DNS-style request/response that finishes inside 2 s never becomes ASSURED and stays
 *   early-droppable.</li>
 * </ul>
 * {@code seenReply} is the status bit as the handler reads it, i.e. <em>before</em> the current packet: the core
 * sets {@code IPS_SEEN_REPLY} after the first reply packet has been processed, so that packet itself still counts as
 * unreplied. Times are in milliseconds on any monotonic clock; the kernel compares jiffies with {@code time_after},
 * hence the strict comparison. Not modelled: entries tagged {@code IPS_NAT_CLASH}, which the kernel never assures.
 */
public final class UdpConntrack
{
    /** {@code stream_ts} is set to the entry's creation time plus this ({@code 2 * HZ}). */
    public static final long STREAM_DELAY_MILLIS = 2_000;

    private UdpConntrack()
    {
    }

    /** The {@code stream_ts} the kernel stores for an entry created at {@code createdMillis}. */
    public static long streamTimestamp(final long createdMillis)
    {
        return createdMillis + STREAM_DELAY_MILLIS;
    }

    /** True when a packet at {@code nowMillis} is past the entry's stream mark ({@code time_after(jiffies, stream_ts)}). */
    public static boolean pastStreamMark(final long createdMillis, final long nowMillis)
    {
        return nowMillis - streamTimestamp(createdMillis) > 0;
    }

    /** The timeout in seconds the entry gets from a packet at {@code nowMillis}. */
    public static int timeoutSeconds(
        final boolean seenReply, final long createdMillis, final long nowMillis, final ConntrackTimeouts timeouts)
    {
        if (seenReply && pastStreamMark(createdMillis, nowMillis))
        {
            return timeouts.udpStream();
        }
        return timeouts.udpUnreplied();
    }

    /** Whether the entry is {@code IPS_ASSURED} after a packet at {@code nowMillis}; the bit is never cleared. */
    public static boolean assuredAfter(
        final boolean seenReply, final boolean alreadyAssured, final long createdMillis, final long nowMillis)
    {
        return alreadyAssured || (seenReply && pastStreamMark(createdMillis, nowMillis));
    }
}
