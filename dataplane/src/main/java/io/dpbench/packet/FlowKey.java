package io.dpbench.packet;

/**
 * A flow's 5-tuple (protocol, source address/port, destination address/port) packed into two {@code long}s, with a
 * well-distributed 64-bit hash and a symmetric variant under which both directions of a flow hash alike (for
 * steering a flow's request and reply to one worker).
 * <p>
 * Packing: {@link #addresses()} = source address in the high 32 bits, destination in the low 32;
 * {@link #portsAndProtocol()} = source port (bits 24..39), destination port (8..23), protocol (0..7). Two keys are
 * equal exactly when both longs are equal, so a key can live in a primitive or off-heap table as 16 bytes.
 * <p>
 * The hash is a 64-bit finalizer (Stafford's variant 13 of MurmurHash3's fmix64) over a multiply-xor combination of
 * the two words: every input bit affects every output bit, which sequential ports and addresses (as a load generator
 * or a NAT port allocator produce) need. Mutable and reusable; not thread-safe.
 */
public final class FlowKey
{
    private static final long SEED = 0x9E37_79B9_7F4A_7C15L;
    private static final long MULTIPLIER = 0xC2B2_AE3D_27D4_EB4FL;

    private long addresses;
    private long portsAndProtocol;

    public FlowKey set(final int protocol, final int sourceAddress, final int sourcePort, final int destinationAddress,
        final int destinationPort)
    {
        addresses = packAddresses(sourceAddress, destinationAddress);
        portsAndProtocol = packPorts(protocol, sourcePort, destinationPort);
        return this;
    }

    /** Set this key to the reverse direction of {@code other} (source and destination swapped). */
    public FlowKey setReverseOf(final FlowKey other)
    {
        return set(other.protocol(), other.destinationAddress(), other.destinationPort(), other.sourceAddress(),
            other.sourcePort());
    }

    public long addresses()
    {
        return addresses;
    }

    public long portsAndProtocol()
    {
        return portsAndProtocol;
    }

    public int protocol()
    {
        return protocol(portsAndProtocol);
    }

    public int sourceAddress()
    {
        return sourceAddress(addresses);
    }

    public int destinationAddress()
    {
        return destinationAddress(addresses);
    }

    public int sourcePort()
    {
        return sourcePort(portsAndProtocol);
    }

    public int destinationPort()
    {
        return destinationPort(portsAndProtocol);
    }

    public long hash()
    {
        return hash(addresses, portsAndProtocol);
    }

    public long symmetricHash()
    {
        return symmetricHash(protocol(), sourceAddress(), sourcePort(), destinationAddress(), destinationPort());
    }

    public static long packAddresses(final int sourceAddress, final int destinationAddress)
    {
        return ((long)sourceAddress << 32) | (destinationAddress & 0xFFFF_FFFFL);
    }

    public static long packPorts(final int protocol, final int sourcePort, final int destinationPort)
    {
        return ((long)(sourcePort & 0xFFFF) << 24) | ((long)(destinationPort & 0xFFFF) << 8) | (protocol & 0xFF);
    }

    /** The source address of {@link #packAddresses}' result. */
    public static int sourceAddress(final long addresses)
    {
        return (int)(addresses >>> 32);
    }

    /** The destination address of {@link #packAddresses}' result. */
    public static int destinationAddress(final long addresses)
    {
        return (int)addresses;
    }

    /** The protocol of {@link #packPorts}' result. */
    public static int protocol(final long portsAndProtocol)
    {
        return (int)(portsAndProtocol & 0xFF);
    }

    /** The source port of {@link #packPorts}' result (0..65535). */
    public static int sourcePort(final long portsAndProtocol)
    {
        return (int)(portsAndProtocol >>> 24) & 0xFFFF;
    }

    /** The destination port of {@link #packPorts}' result (0..65535). */
    public static int destinationPort(final long portsAndProtocol)
    {
        return (int)(portsAndProtocol >>> 8) & 0xFFFF;
    }

    /** Hash of a packed key; direction matters. */
    public static long hash(final long addresses, final long portsAndProtocol)
    {
        return mix64((addresses ^ SEED) * MULTIPLIER + portsAndProtocol);
    }

    /** Hash of a 5-tuple; direction matters. */
    public static long hash(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort)
    {
        return hash(packAddresses(sourceAddress, destinationAddress), packPorts(protocol, sourcePort, destinationPort));
    }

    /**
     * Direction-free hash: the two endpoints (address, port) are put in a canonical order first, so that
     * {@code symmetricHash(p, a, x, b, y) == symmetricHash(p, b, y, a, x)}. Still sensitive to which address goes
     * with which port, unlike hashes that xor the fields.
     */
    public static long symmetricHash(final int protocol, final int sourceAddress, final int sourcePort,
        final int destinationAddress, final int destinationPort)
    {
        final long a = ((sourceAddress & 0xFFFF_FFFFL) << 16) | (sourcePort & 0xFFFF);
        final long b = ((destinationAddress & 0xFFFF_FFFFL) << 16) | (destinationPort & 0xFFFF);
        final long low = Math.min(a, b);
        final long high = Math.max(a, b);
        return mix64(mix64(low ^ SEED) * MULTIPLIER + (high ^ ((long)protocol << 48)));
    }

    /** Stafford's Mix13 finalizer. */
    public static long mix64(final long value)
    {
        long z = value;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof FlowKey && ((FlowKey)o).addresses == addresses && ((FlowKey)o).portsAndProtocol == portsAndProtocol;
    }

    @Override
    public int hashCode()
    {
        return (int)hash();
    }

    @Override
    public String toString()
    {
        return protocolName(protocol()) + " " + Ipv4Address.toString(sourceAddress()) + ":" + sourcePort() + " > "
            + Ipv4Address.toString(destinationAddress()) + ":" + destinationPort();
    }

    public static String protocolName(final int protocol)
    {
        switch (protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP: return "tcp";
            case Ipv4Flyweight.PROTOCOL_UDP: return "udp";
            case Ipv4Flyweight.PROTOCOL_ICMP: return "icmp";
            case Ipv4Flyweight.PROTOCOL_SCTP: return "sctp";
            default: return "proto-" + protocol;
        }
    }
}
