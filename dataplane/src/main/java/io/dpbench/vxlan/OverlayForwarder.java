package io.dpbench.vxlan;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.InternetChecksum;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * What a node does to an IPv4 packet from one of its pods bound for a pod on another node, in Linux's order
 * (ip_forward, then the vxlan device): a TTL of 1 or less is answered with ICMP time exceeded; a packet larger than
 * the overlay MTU is answered with ICMP fragmentation-needed carrying that MTU when DF is set, and otherwise
 * fragmented (ip_do_fragment: fragment payloads a multiple of 8 bytes, the same ID, non-copied options of later
 * fragments replaced by NOPs); the TTL is decremented with the kernel's own checksum arithmetic
 * ({@code ip_decrease_ttl}); then each packet or fragment is encapsulated and handed to the sink in order
 * ({@link FrameSink#frame}), an ICMP error as what it is ({@link FrameSink#icmpError}): the sink learns which kind of
 * frame it has from the call, never from the frame's bytes. The MTU is the device's whatever the encapsulator writes
 * ({@link Encapsulation}): on the underlay every encapsulated frame carries the whole outer headers.
 * <p>
 * ICMP errors (icmp_send, measured on this project's kernel) go back to the pod: from the node's pod-network address,
 * TOS 0xC0 with the offending packet's TOS bits, DF clear, TTL 64, quoting the offending packet as received up to
 * 576 bytes in all. Not modelled: the kernel's ICMP rate limit (a token bucket per destination, 1 per second after a
 * burst of 6), so a flood of oversized packets yields one error each here.
 * <p>
 * Frames handed to the sink live in this forwarder's buffers (or the caller's) only until the sink returns. One
 * owner thread; no allocation.
 */
public final class OverlayForwarder
{
    /** What happened to the packets given to {@link #forward} that left (drops: {@link DropReason.Where#FORWARD}). */
    public enum Counter
    {
        ENCAPSULATED("packets encapsulated whole"),
        FRAGMENTED("packets fragmented before encapsulation"),
        FRAGMENTS("fragments encapsulated"),
        FRAG_NEEDED("ICMP fragmentation-needed sent (DF set, larger than the overlay MTU)"),
        TTL_EXCEEDED("ICMP time-exceeded sent (TTL 1 or less)");

        private final String description;

        Counter(final String description)
        {
            this.description = description;
        }

        public String description()
        {
            return description;
        }

        public String label()
        {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** Receives each frame that leaves the node. */
    @FunctionalInterface
    public interface FrameSink
    {
        /** A packet or fragment encapsulated for the remote VTEP (as the encapsulator's {@link Encapsulation} says). */
        void frame(MutableDirectBuffer buffer, int offset, int length);

        /**
         * An ICMP error the node sends back to the offending packet's source instead of forwarding it: a plain
         * Ethernet frame, not encapsulated. By default, as any other frame (a capture of what leaves takes both).
         */
        default void icmpError(final MutableDirectBuffer buffer, final int offset, final int length)
        {
            frame(buffer, offset, length);
        }
    }

    /** ICMP_DEST_UNREACH / ICMP_FRAG_NEEDED and ICMP_TIME_EXCEEDED / ICMP_EXC_TTL. */
    static final int ICMP_DEST_UNREACH = 3;
    static final int ICMP_FRAG_NEEDED = 4;
    static final int ICMP_TIME_EXCEEDED = 11;
    /** icmp_send: the reply is at most 576 bytes (RFC 1812 4.3.2.3). */
    static final int ICMP_ERROR_MAX = 576;
    /** IPTOS_PREC_INTERNETCONTROL. */
    static final int TOS_INTERNETCONTROL = 0xC0;
    /** IPTOS_TOS_MASK: the TOS bits RT_TOS keeps. */
    static final int TOS_MASK = 0x1E;
    static final int ICMP_TTL = 64;

    private static final Counter[] COUNTERS = Counter.values();

    private final VxlanEncapsulator encapsulator;
    private final LocalVtep local;
    private final int overlayMtu;
    /** Whether the encapsulator writes an outer UDP header, whose source port is the inner flow's hash. */
    private final boolean sourcePorts;
    private final long[] counters = new long[COUNTERS.length];
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[VxlanEncapsulator.HEADROOM + 65_536]);
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final Ipv4Flyweight out = new Ipv4Flyweight();
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private int icmpIdentification;

    public OverlayForwarder(final VxlanEncapsulator encapsulator, final LocalVtep local)
    {
        this.encapsulator = encapsulator;
        this.local = local;
        this.overlayMtu = encapsulator.config().overlayMtu();
        this.sourcePorts = encapsulator.encapsulation() == Encapsulation.FRAME;
    }

    /**
     * Forward the Ethernet frame at {@code [offset, offset + length)}, which arrived from a local pod, to
     * {@code remote}. The inner packet is encapsulated in place: the frame needs room before it for the outer
     * headers the encapsulator writes ({@link VxlanConfig#OVERHEAD} bytes, or the VXLAN header's 8 for
     * {@link Encapsulation#UDP_PAYLOAD}). Returns the number of frames handed to the sink.
     */
    public int forward(final MutableDirectBuffer buffer, final int offset, final int length, final RemoteVtep remote,
        final FrameSink sink)
    {
        final int end = offset + length;
        final int ipOffset = EthernetFlyweight.ipv4Offset(buffer, offset, length);
        if (ipOffset == EthernetFlyweight.TRUNCATED)
        {
            return drop(DropReason.FORWARD_MALFORMED);
        }
        if (ipOffset == EthernetFlyweight.NOT_IPV4)
        {
            return drop(DropReason.FORWARD_NOT_IPV4);
        }
        if (ipOffset + Ipv4Flyweight.MIN_HEADER_LENGTH > end)
        {
            return drop(DropReason.FORWARD_MALFORMED);
        }
        ip.wrap(buffer, ipOffset);
        final int headerLength = ip.headerLength();
        final int totalLength = ip.totalLength();
        if (ip.version() != 4 || headerLength < Ipv4Flyweight.MIN_HEADER_LENGTH || ipOffset + headerLength > end
            || totalLength < headerLength || ipOffset + totalLength > end)
        {
            return drop(DropReason.FORWARD_MALFORMED);
        }
        if (!ip.checksumValid())
        {
            return drop(DropReason.FORWARD_BAD_IP_CHECKSUM);
        }
        return forwardValid(buffer, offset, ipOffset, headerLength, totalLength, remote, sink, false,
            sourcePorts ? encapsulator.sourcePortFor(buffer, ipOffset) : 0);
    }

    /**
     * As {@link #forward(MutableDirectBuffer, int, int, RemoteVtep, FrameSink)} for a frame whose parse is known
     * valid ({@link Verdict#OK}; NAT since then kept its checksums and tuple current): its IPv4 header is not checked
     * again and the VXLAN source port comes from the parse's tuple.
     */
    public int forward(final ParsedPacket p, final RemoteVtep remote, final FrameSink sink)
    {
        final MutableDirectBuffer buffer = p.buffer;
        ip.wrap(buffer, p.l3Offset);
        final boolean ports = !p.firstFragment && p.protocol != Ipv4Flyweight.PROTOCOL_ICMP;
        final int sourcePort = sourcePorts ? encapsulator.sourcePortFor(p.protocol, p.sourceAddress,
            ports ? p.sourcePort : 0, p.destinationAddress, ports ? p.destinationPort : 0, p.firstFragment) : 0;
        return forwardValid(buffer, p.frameOffset, p.l3Offset, p.ipHeaderLength, p.ipTotalLength, remote, sink,
            p.l4ChecksumVerified, sourcePort);
    }

    /** The forwarding of a frame whose IPv4 header is valid ({@link #ip} wraps it). */
    private int forwardValid(final MutableDirectBuffer buffer, final int offset, final int ipOffset,
        final int headerLength, final int totalLength, final RemoteVtep remote, final FrameSink sink,
        final boolean l4Verified, final int sourcePort)
    {
        if (ipOffset < encapsulator.headroom())
        {
            throw new IllegalArgumentException("the frame needs "
                + (encapsulator.headroom() - EthernetFlyweight.HEADER_LENGTH) + " bytes of headroom");
        }
        final long sourceMac = EthernetFlyweight.readMac(buffer, offset + EthernetFlyweight.SOURCE_OFFSET);
        final long nodeMac = EthernetFlyweight.readMac(buffer, offset + EthernetFlyweight.DESTINATION_OFFSET);
        if (ip.ttl() <= 1)
        {
            if (!icmpErrorAllowed(buffer, ipOffset))
            {
                return drop(DropReason.FORWARD_DROPPED_WITHOUT_ICMP);
            }
            sendIcmpError(buffer, ipOffset, totalLength, sourceMac, nodeMac, ICMP_TIME_EXCEEDED, 0, 0, sink);
            return count(Counter.TTL_EXCEEDED, 1);
        }
        if (totalLength > overlayMtu && ip.dontFragment())
        {
            if (!icmpErrorAllowed(buffer, ipOffset))
            {
                return drop(DropReason.FORWARD_DROPPED_WITHOUT_ICMP);
            }
            sendIcmpError(buffer, ipOffset, totalLength, sourceMac, nodeMac, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
                overlayMtu, sink);
            return count(Counter.FRAG_NEEDED, 1);
        }
        decreaseTtl(buffer, ipOffset);
        if (totalLength <= overlayMtu)
        {
            final int frame = encapsulator.encapsulate(buffer, ipOffset, totalLength, remote, sourcePort, l4Verified);
            sink.frame(buffer, frame, ipOffset + totalLength - frame);
            return count(Counter.ENCAPSULATED, 1);
        }
        return fragment(buffer, ipOffset, headerLength, totalLength, remote, sink);
    }

    private int fragment(final MutableDirectBuffer buffer, final int ipOffset, final int headerLength,
        final int totalLength, final RemoteVtep remote, final FrameSink sink)
    {
        ip.wrap(buffer, ipOffset);
        final int flags = ip.flagsAndFragmentOffset();
        final int baseOffset = flags & Ipv4Flyweight.FRAGMENT_OFFSET_MASK;
        final boolean lastHasMore = (flags & Ipv4Flyweight.FLAG_MORE_FRAGMENTS) != 0;
        final int chunk = (overlayMtu - headerLength) & ~7;
        final int payload = totalLength - headerLength;
        int frames = 0;
        for (int done = 0; done < payload; done += chunk)
        {
            final int size = Math.min(chunk, payload - done);
            final boolean more = done + size < payload || lastHasMore;
            final int at = VxlanEncapsulator.HEADROOM;
            scratch.putBytes(at, buffer, ipOffset, headerLength);
            if (done > 0)
            {
                nopUncopiedOptions(scratch, at, headerLength);
            }
            scratch.putBytes(at + headerLength, buffer, ipOffset + headerLength + done, size);
            out.wrap(scratch, at).totalLength(headerLength + size)
                .flagsAndFragmentOffset((flags & Ipv4Flyweight.FLAG_DONT_FRAGMENT)
                    | (more ? Ipv4Flyweight.FLAG_MORE_FRAGMENTS : 0) | (baseOffset + done / 8))
                .updateChecksum();
            final int sourcePort = sourcePorts ? encapsulator.sourcePortFor(scratch, at) : 0;
            final int frame = encapsulator.encapsulate(scratch, at, headerLength + size, remote, sourcePort);
            sink.frame(scratch, frame, at + headerLength + size - frame);
            frames++;
        }
        counters[Counter.FRAGMENTS.ordinal()] += frames;
        return count(Counter.FRAGMENTED, frames);
    }

    /**
     * icmp_send's rules (RFC 1122 3.2.2): no error about a fragment other than the first, about an ICMP error
     * message (destination unreachable, source quench, redirect, time exceeded, parameter problem), or to or from a
     * multicast, broadcast or zero address.
     */
    static boolean icmpErrorAllowed(final MutableDirectBuffer b, final int ipOffset)
    {
        if ((b.getShort(ipOffset + Ipv4Flyweight.FLAGS_FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & Ipv4Flyweight.FRAGMENT_OFFSET_MASK) != 0)
        {
            return false;
        }
        final int source = b.getInt(ipOffset + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
        final int destination = b.getInt(ipOffset + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
        if (source == 0 || source == -1 || destination == -1 || (source >>> 28) == 0xE || (destination >>> 28) == 0xE)
        {
            return false;
        }
        if ((b.getByte(ipOffset + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF) == Ipv4Flyweight.PROTOCOL_ICMP)
        {
            final int headerLength = (b.getByte(ipOffset) & 0x0F) * 4;
            final int type = b.getByte(ipOffset + headerLength) & 0xFF;
            return type != 3 && type != 4 && type != 5 && type != 11 && type != 12;
        }
        return true;
    }

    /** ip_options_fragment: options without the "copied" flag are overwritten with NOPs in later fragments. */
    static void nopUncopiedOptions(final MutableDirectBuffer b, final int ipOffset, final int headerLength)
    {
        int i = ipOffset + Ipv4Flyweight.MIN_HEADER_LENGTH;
        final int end = ipOffset + headerLength;
        while (i < end)
        {
            final int type = b.getByte(i) & 0xFF;
            if (type == 0)
            {
                return; // end of options list
            }
            if (type == 1)
            {
                i++;
                continue;
            }
            final int len = i + 1 < end ? b.getByte(i + 1) & 0xFF : 0;
            if (len < 2 || i + len > end)
            {
                return; // malformed; the kernel would have refused it on receipt
            }
            if ((type & 0x80) == 0)
            {
                for (int k = 0; k < len; k++)
                {
                    b.putByte(i + k, (byte)1);
                }
            }
            i += len;
        }
    }

    /**
     * ip_decrease_ttl, with its arithmetic: the checksum, read in host (little-endian) order, gets htons(0x0100) added
     * and the carry folded once; the result equals RFC 1624's except where the kernel leaves 0x0000 for 0xFFFF.
     */
    static void decreaseTtl(final MutableDirectBuffer b, final int ipOffset)
    {
        final int check = b.getShort(ipOffset + Ipv4Flyweight.CHECKSUM_OFFSET, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        int sum = check + 0x0001; // htons(0x0100) on a little-endian host
        sum = (sum + (sum >= 0xFFFF ? 1 : 0)) & 0xFFFF;
        b.putShort(ipOffset + Ipv4Flyweight.CHECKSUM_OFFSET, (short)sum, ByteOrder.LITTLE_ENDIAN);
        b.putByte(ipOffset + Ipv4Flyweight.TTL_OFFSET, (byte)((b.getByte(ipOffset + Ipv4Flyweight.TTL_OFFSET) & 0xFF) - 1));
    }

    private void sendIcmpError(final MutableDirectBuffer buffer, final int ipOffset, final int ipLength,
        final long podMac, final long nodeMac, final int type, final int code, final int mtu, final FrameSink sink)
    {
        final int quote = Math.min(ipLength, ICMP_ERROR_MAX - Ipv4Flyweight.MIN_HEADER_LENGTH - 8);
        final int frame = 0;
        ethernet.wrap(scratch, frame).destination(podMac).source(nodeMac).outerEtherType(EthernetFlyweight.ETHER_TYPE_IPV4);
        final int at = EthernetFlyweight.HEADER_LENGTH;
        final int originalTos = buffer.getByte(ipOffset + Ipv4Flyweight.TOS_OFFSET) & 0xFF;
        final int source = buffer.getInt(ipOffset + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
        out.wrap(scratch, at).versionAndIhl(4, 5).tos((originalTos & TOS_MASK) | TOS_INTERNETCONTROL)
            .totalLength(Ipv4Flyweight.MIN_HEADER_LENGTH + 8 + quote).identification(icmpIdentification)
            .flagsAndFragmentOffset(0).ttl(ICMP_TTL).protocol(Ipv4Flyweight.PROTOCOL_ICMP)
            .source(local.gatewayAddress()).destination(source).updateChecksum();
        icmpIdentification = (icmpIdentification + 1) & 0xFFFF;
        final int icmp = at + Ipv4Flyweight.MIN_HEADER_LENGTH;
        scratch.putByte(icmp, (byte)type);
        scratch.putByte(icmp + 1, (byte)code);
        scratch.putShort(icmp + 2, (short)0);
        scratch.putShort(icmp + 4, (short)0, ByteOrder.BIG_ENDIAN);
        scratch.putShort(icmp + 6, (short)mtu, ByteOrder.BIG_ENDIAN);
        scratch.putBytes(icmp + 8, buffer, ipOffset, quote);
        scratch.putShort(icmp + 2, (short)InternetChecksum.compute(scratch, icmp, 8 + quote), ByteOrder.BIG_ENDIAN);
        sink.icmpError(scratch, frame, at + Ipv4Flyweight.MIN_HEADER_LENGTH + 8 + quote);
    }

    private int count(final Counter counter, final int frames)
    {
        counters[counter.ordinal()]++;
        return frames;
    }

    private int drop(final DropReason reason)
    {
        drops.count(reason);
        lastDrop = reason;
        return 0;
    }

    /** Packets dropped without any frame leaving for them (no ICMP error either). */
    public long dropped()
    {
        return drops.total();
    }

    public long drops(final DropReason reason)
    {
        return drops.get(reason);
    }

    /** Why the last packet that {@link #forward} returned 0 for was dropped. */
    public DropReason lastDrop()
    {
        return lastDrop;
    }

    private final DropCounters drops = new DropCounters();
    private DropReason lastDrop;

    public long count(final Counter counter)
    {
        return counters[counter.ordinal()];
    }
}
