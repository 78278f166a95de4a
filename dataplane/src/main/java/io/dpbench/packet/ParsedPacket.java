package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

/**
 * What {@link PacketParser} learned about one frame: where each header starts and the flow fields, so that later
 * stages read primitives instead of re-parsing. One instance per worker (or per batch slot), refilled per frame;
 * fields are valid only when the parse returned {@link Verdict#OK}.
 */
public final class ParsedPacket
{
    /** The buffer and offset of the frame's first byte. */
    public MutableDirectBuffer buffer;
    public int frameOffset;
    /** Captured frame length (may exceed the IP datagram: Ethernet padding). */
    public int frameLength;
    /** Number of VLAN tags stepped over (0 to 2). */
    public int vlanTags;

    /** Absolute index of the IPv4 header in {@link #buffer}. */
    public int l3Offset;
    public int ipHeaderLength;
    /** IPv4 total length: header plus L4 bytes. */
    public int ipTotalLength;
    public int protocol;
    public int sourceAddress;
    public int destinationAddress;
    /** True for the first fragment of a fragmented datagram (MF set, offset 0): L4 header present, payload not. */
    public boolean firstFragment;

    /** Absolute index of the L4 header. */
    public int l4Offset;
    /** Bytes from the L4 header to the end of the IP datagram. */
    public int l4Length;
    /** TCP/UDP ports; for ICMP echo both hold the identifier (Linux conntrack's convention). */
    public int sourcePort;
    public int destinationPort;
    /** TCP flags, or 0. */
    public int tcpFlags;
    /** ICMP type, or -1. */
    public int icmpType;
    /**
     * The L4 checksum was found good where the frame arrived (rx, as a NIC's receive checksum offload reports
     * CHECKSUM_UNNECESSARY; {@link PacketParser#l4ChecksumGood}) and covers exactly the L4 bytes to the end of the
     * datagram. NAT's incremental updates keep it good, so the L4 region's ones'-complement sum stays the negation of
     * its pseudo-header's: what lets encapsulation compute the outer UDP checksum from the headers alone (Linux's
     * local checksum offload) instead of reading the whole frame again. False from any other parse.
     */
    public boolean l4ChecksumVerified;

    /**
     * Take {@code from}'s parse for the same frame copied to {@code buffer}, {@code shift} bytes further on (rx
     * parses a frame where it arrived, then copies it into a batch slot).
     */
    public void copyFrom(final ParsedPacket from, final MutableDirectBuffer buffer, final int shift)
    {
        this.buffer = buffer;
        frameOffset = from.frameOffset + shift;
        frameLength = from.frameLength;
        vlanTags = from.vlanTags;
        l3Offset = from.l3Offset + shift;
        ipHeaderLength = from.ipHeaderLength;
        ipTotalLength = from.ipTotalLength;
        protocol = from.protocol;
        sourceAddress = from.sourceAddress;
        destinationAddress = from.destinationAddress;
        firstFragment = from.firstFragment;
        l4Offset = from.l4Offset + shift;
        l4Length = from.l4Length;
        sourcePort = from.sourcePort;
        destinationPort = from.destinationPort;
        tcpFlags = from.tcpFlags;
        icmpType = from.icmpType;
        l4ChecksumVerified = from.l4ChecksumVerified;
    }

    /** Copy the 5-tuple into a flow key. */
    public FlowKey flowKey(final FlowKey key)
    {
        return key.set(protocol, sourceAddress, sourcePort, destinationAddress, destinationPort);
    }
}
