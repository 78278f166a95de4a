package io.dpbench.packet;

/**
 * What {@link PacketParser} decided about a frame: {@link #OK}, or the one reason it is dropped. The checks run in
 * the order Linux's {@code ip_rcv_core} and the conntrack L4 trackers apply them, so that a frame with several
 * faults is counted under the reason Linux would count first. Ordinals index counter arrays.
 */
public enum Verdict
{
    OK("valid: passed on to the next stage"),
    TRUNCATED_ETHERNET("frame shorter than its Ethernet header (and VLAN tags)"),
    NOT_IPV4("EtherType is not IPv4"),
    TOO_MANY_VLAN_TAGS("more than two VLAN tags"),
    TRUNCATED_IPV4("fewer than 20 bytes after the Ethernet header"),
    BAD_IP_VERSION("IP version is not 4"),
    BAD_IHL("IHL below 5"),
    IHL_BEYOND_FRAME("IPv4 header (IHL x 4) longer than the frame"),
    BAD_IP_CHECKSUM("IPv4 header checksum does not verify"),
    TOTAL_LENGTH_BEYOND_FRAME("IPv4 total length beyond the end of the frame"),
    TOTAL_LENGTH_BELOW_HEADER("IPv4 total length shorter than the header"),
    NON_FIRST_FRAGMENT("non-first fragment (no L4 header to track)"),
    TRUNCATED_TCP("TCP header truncated"),
    BAD_TCP_DATA_OFFSET("TCP data offset below 5 or beyond the segment"),
    TRUNCATED_UDP("UDP header truncated"),
    BAD_UDP_LENGTH("UDP length below 8 or beyond the datagram"),
    TRUNCATED_ICMP("ICMP header truncated"),
    UNSUPPORTED_ICMP_TYPE("ICMP type other than echo request/reply"),
    UNSUPPORTED_PROTOCOL("IP protocol other than TCP, UDP, ICMP"),
    BAD_L4_CHECKSUM("TCP/UDP/ICMP checksum does not verify");

    private static final Verdict[] VALUES = values();

    private final String description;

    Verdict(final String description)
    {
        this.description = description;
    }

    public String description()
    {
        return description;
    }

    /** Lower-case, dash-separated name for reports and JSON (e.g. {@code bad-ip-checksum}). */
    public String label()
    {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** The catalogue's reason for this verdict (null for {@link #OK}). */
    public DropReason reason()
    {
        return this == OK ? null : DropReason.valueOf(name());
    }

    public static Verdict ofOrdinal(final int ordinal)
    {
        return VALUES[ordinal];
    }

    public static int count()
    {
        return VALUES.length;
    }
}
