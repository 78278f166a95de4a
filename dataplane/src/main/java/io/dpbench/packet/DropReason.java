package io.dpbench.packet;

import java.util.Locale;

/**
 * Every reason a node drops a frame, in one catalogue (VPP's error counters, Linux's drop reasons): the validating
 * parser's verdicts, conntrack and the proxy rules, the vxlan device's receive and transmit checks, the wire edge,
 * and the pipeline's own hand-over. Counters are {@code long[]} indexed by {@link #ordinal()} ({@link DropCounters});
 * every report prints them from here, by {@link #label()}, in this order.
 * <p>
 * Each reason belongs to the {@link Where place} that drops for it; its {@link #name()} within that place (the
 * label without the place's prefix) is what that place's own reports have always printed (e.g. the vxlan device's
 * {@code unknown-vni}).
 */
public enum DropReason
{
    // the validating parser (PacketParser; Linux ip_rcv_core and the conntrack L4 trackers), in its order
    TRUNCATED_ETHERNET(Where.PARSE, Verdict.TRUNCATED_ETHERNET.description()),
    NOT_IPV4(Where.PARSE, Verdict.NOT_IPV4.description()),
    TOO_MANY_VLAN_TAGS(Where.PARSE, Verdict.TOO_MANY_VLAN_TAGS.description()),
    TRUNCATED_IPV4(Where.PARSE, Verdict.TRUNCATED_IPV4.description()),
    BAD_IP_VERSION(Where.PARSE, Verdict.BAD_IP_VERSION.description()),
    BAD_IHL(Where.PARSE, Verdict.BAD_IHL.description()),
    IHL_BEYOND_FRAME(Where.PARSE, Verdict.IHL_BEYOND_FRAME.description()),
    BAD_IP_CHECKSUM(Where.PARSE, Verdict.BAD_IP_CHECKSUM.description()),
    TOTAL_LENGTH_BEYOND_FRAME(Where.PARSE, Verdict.TOTAL_LENGTH_BEYOND_FRAME.description()),
    TOTAL_LENGTH_BELOW_HEADER(Where.PARSE, Verdict.TOTAL_LENGTH_BELOW_HEADER.description()),
    NON_FIRST_FRAGMENT(Where.PARSE, Verdict.NON_FIRST_FRAGMENT.description()),
    TRUNCATED_TCP(Where.PARSE, Verdict.TRUNCATED_TCP.description()),
    BAD_TCP_DATA_OFFSET(Where.PARSE, Verdict.BAD_TCP_DATA_OFFSET.description()),
    TRUNCATED_UDP(Where.PARSE, Verdict.TRUNCATED_UDP.description()),
    BAD_UDP_LENGTH(Where.PARSE, Verdict.BAD_UDP_LENGTH.description()),
    TRUNCATED_ICMP(Where.PARSE, Verdict.TRUNCATED_ICMP.description()),
    UNSUPPORTED_ICMP_TYPE(Where.PARSE, Verdict.UNSUPPORTED_ICMP_TYPE.description()),
    UNSUPPORTED_PROTOCOL(Where.PARSE, Verdict.UNSUPPORTED_PROTOCOL.description()),
    BAD_L4_CHECKSUM(Where.PARSE, Verdict.BAD_L4_CHECKSUM.description()),

    // conntrack, the proxy rules and NAT
    CONNTRACK_INVALID(Where.CONNTRACK, "packet conntrack marks INVALID (kube-proxy drops ctstate INVALID)"),
    FILTERED(Where.CONNTRACK, "dropped by the proxy rules"),
    REJECTED(Where.CONNTRACK, "rejected by the proxy rules (a node answers ICMP port unreachable)"),
    CONNTRACK_FULL(Where.CONNTRACK, "conntrack table full, nothing evictable (nf_conntrack_max)"),
    NAT_CLASH(Where.CONNTRACK, "no free tuple for the connection"),

    // the vxlan device's receive side (VxlanDecapsulator; Linux vxlan_rcv and the UDP tunnel)
    DECAP_TRUNCATED_OUTER_ETHERNET(Where.DECAP, "frame shorter than an Ethernet header (or its VLAN tags)"),
    DECAP_NOT_IPV4(Where.DECAP, "outer EtherType is not IPv4"),
    DECAP_TRUNCATED_OUTER_IPV4(Where.DECAP, "frame ends inside the outer IPv4 header"),
    DECAP_BAD_OUTER_IP_HEADER(Where.DECAP, "outer IPv4 version is not 4 or its IHL is below 5"),
    DECAP_BAD_OUTER_IP_CHECKSUM(Where.DECAP, "outer IPv4 header checksum does not verify"),
    DECAP_BAD_OUTER_IP_LENGTH(Where.DECAP, "outer IPv4 total length beyond the frame or below the header"),
    DECAP_OUTER_FRAGMENT(Where.DECAP, "outer IPv4 packet is a fragment (the kernel reassembles; dpbench does not)"),
    DECAP_NOT_UDP(Where.DECAP, "outer protocol is not UDP"),
    DECAP_TRUNCATED_UDP(Where.DECAP, "packet ends inside the outer UDP header"),
    DECAP_BAD_UDP_LENGTH(Where.DECAP, "outer UDP length below 8 or beyond the IPv4 payload"),
    DECAP_NOT_VXLAN_PORT(Where.DECAP, "outer UDP destination port is not the device's"),
    DECAP_BAD_UDP_CHECKSUM(Where.DECAP, "outer UDP checksum is set and does not verify"),
    DECAP_TRUNCATED_VXLAN(Where.DECAP, "UDP payload shorter than a VXLAN header"),
    DECAP_BAD_VXLAN_FLAGS(Where.DECAP, "VXLAN I flag clear or a reserved bit set (Linux drops both)"),
    DECAP_UNKNOWN_VNI(Where.DECAP, "VNI is not the device's"),
    DECAP_TRUNCATED_INNER(Where.DECAP, "inner frame shorter than an Ethernet header"),

    // the vxlan device's transmit side (OverlayForwarder; ip_forward before the tunnel)
    FORWARD_DROPPED_WITHOUT_ICMP(Where.FORWARD, "dropped where an ICMP error may not be sent (about a non-first "
        + "fragment, an ICMP error, or a multicast or broadcast address)"),
    FORWARD_NOT_IPV4(Where.FORWARD, "dropped: not IPv4"),
    FORWARD_MALFORMED(Where.FORWARD, "dropped: IPv4 header or length invalid"),
    FORWARD_BAD_IP_CHECKSUM(Where.FORWARD, "dropped: IPv4 header checksum does not verify"),

    // the wire edge: datagrams received on the VTEP's socket (its receiver strips the VXLAN header)
    VXLAN_TRUNCATED(Where.WIRE, "datagram shorter than a VXLAN header and an Ethernet header"),
    VXLAN_OVERSIZE(Where.WIRE, "datagram larger than a receive slot (or cut to it by the kernel)"),
    VXLAN_BAD_FLAGS(Where.WIRE, "VXLAN I flag clear or a reserved bit set"),
    VXLAN_UNKNOWN_VNI(Where.WIRE, "VNI is not the device's"),

    // the pipeline's hand-over and the edges' transmit side
    RX_MISSED(Where.PIPELINE, "a worker's ring was full (a NIC's rx_missed_errors: traffic does not wait)"),
    OVERSIZE_FRAME(Where.PIPELINE, "frame larger than a batch slot"),
    UNROUTABLE(Where.EDGE, "no VTEP for the frame's next hop"),
    TX_FULL(Where.EDGE, "the socket's send queue was full"),
    TX_ERROR(Where.EDGE, "the socket refused the send"),
    KERNEL_SOCKET(Where.EDGE, "the kernel dropped the datagram at the socket (its receive buffer was full)");

    /** The part of the node that drops for a reason (a VPP node's error counters). */
    public enum Where
    {
        PARSE(""), CONNTRACK(""), DECAP("decap-"), FORWARD("forward-"), WIRE(""), PIPELINE(""), EDGE("");

        private final String prefix;

        Where(final String prefix)
        {
            this.prefix = prefix;
        }
    }

    private static final DropReason[] VALUES = values();

    private final Where where;
    private final String description;
    private final String label;

    DropReason(final Where where, final String description)
    {
        this.where = where;
        this.description = description;
        this.label = name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Where where()
    {
        return where;
    }

    public String description()
    {
        return description;
    }

    /** Lower case, dashes: the reason's name in every report and in metrics (e.g. {@code decap-unknown-vni}). */
    public String label()
    {
        return label;
    }

    /** The label within its place, without the place's prefix (e.g. the vxlan device's {@code unknown-vni}). */
    public String localLabel()
    {
        return label.substring(where.prefix.length());
    }

    public static DropReason ofOrdinal(final int ordinal)
    {
        return VALUES[ordinal];
    }

    public static int count()
    {
        return VALUES.length;
    }

    /** The reasons one place drops for, in catalogue order. */
    public static java.util.List<DropReason> of(final Where where)
    {
        final java.util.List<DropReason> list = new java.util.ArrayList<>();
        for (final DropReason r : VALUES)
        {
            if (r.where == where)
            {
                list.add(r);
            }
        }
        return java.util.List.copyOf(list);
    }
}
