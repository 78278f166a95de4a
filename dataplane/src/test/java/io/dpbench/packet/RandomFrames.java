package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

import java.util.SplittableRandom;

/**
 * Seeded random well-formed frames for property tests: random VLAN tags, IPv4 options (random bytes, or NOPs when
 * {@code wireshark-clean} options are wanted), TCP options, payload lengths (odd ones included), addresses, ports.
 */
final class RandomFrames
{
    static final int TCP = Ipv4Flyweight.PROTOCOL_TCP;
    static final int UDP = Ipv4Flyweight.PROTOCOL_UDP;
    static final int UDP_NO_CHECKSUM = -Ipv4Flyweight.PROTOCOL_UDP;
    static final int ICMP = Ipv4Flyweight.PROTOCOL_ICMP;

    private final SplittableRandom random;
    private final boolean cleanOptions;
    private final FrameBuilder builder = new FrameBuilder();
    private final byte[] payload = new byte[1500];

    RandomFrames(final long seed, final boolean cleanOptions)
    {
        this.random = new SplittableRandom(seed);
        this.cleanOptions = cleanOptions;
    }

    SplittableRandom random()
    {
        return random;
    }

    /** Build one random frame of the given kind at {@code offset}; returns its length. */
    int next(final int kind, final MutableDirectBuffer buffer, final int offset)
    {
        builder.macs(random.nextLong() & 0xFFFF_FFFF_FFFFL, random.nextLong() & 0xFFFF_FFFF_FFFFL)
            .vlan(random.nextInt(4) == 0 ? 1 + random.nextInt(2) : 0, 1 + random.nextInt(4000))
            .addresses(random.nextInt(), random.nextInt())
            .tos(random.nextInt(256))
            .identification(random.nextInt(65536))
            .flagsAndFragment(random.nextBoolean() ? Ipv4Flyweight.FLAG_DONT_FRAGMENT : 0)
            .ttl(1 + random.nextInt(255))
            .ipOptions(options(random.nextInt(11) * 4));
        final int payloadLength = random.nextInt(4) == 0 ? random.nextInt(8) : random.nextInt(1400);
        for (int i = 0; i < payloadLength; i++)
        {
            payload[i] = (byte)random.nextInt();
        }
        builder.payload(payload, payloadLength);
        switch (kind)
        {
            case TCP:
                builder.tcp(random.nextInt(65536), random.nextInt(65536), random.nextInt(256))
                    .tcpSequence(random.nextLong() & 0xFFFF_FFFFL, random.nextLong() & 0xFFFF_FFFFL)
                    .tcpOptions(options(random.nextInt(11) * 4));
                break;
            case UDP:
            case UDP_NO_CHECKSUM:
                builder.udp(random.nextInt(65536), random.nextInt(65536)).udpChecksum(kind == UDP);
                break;
            case ICMP:
                builder.icmpEcho(random.nextBoolean() ? IcmpFlyweight.TYPE_ECHO_REQUEST : IcmpFlyweight.TYPE_ECHO_REPLY,
                    random.nextInt(65536), random.nextInt(65536));
                break;
            default:
                throw new IllegalArgumentException("kind " + kind);
        }
        return builder.build(buffer, offset);
    }

    private byte[] options(final int length)
    {
        final byte[] options = new byte[length];
        for (int i = 0; i < length; i++)
        {
            options[i] = cleanOptions ? 1 : (byte)random.nextInt(); // 1 = NOP, valid for IPv4 and TCP options
        }
        return options;
    }
}
