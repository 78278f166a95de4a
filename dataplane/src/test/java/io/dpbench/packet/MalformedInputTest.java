package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 100,000+ random and mutated frames through the parser: it must never throw and never read outside the frame
 * (each frame sits in a buffer of exactly its own length, and Agrona's bounds checks are on in tests), and every
 * frame must be counted under exactly one verdict.
 */
class MalformedInputTest
{
    private static final int FRAMES = 120_000;

    @Test
    void randomAndMutatedFramesAreEachCountedUnderExactlyOneVerdict()
    {
        final SplittableRandom random = new SplittableRandom(20261126);
        final RandomFrames valid = new RandomFrames(7, false);
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[2048]);
        final PacketParser parser = new PacketParser(true);
        final ParsedPacket packet = new ParsedPacket();
        final long[] before = new long[Verdict.count()];
        final long[] after = new long[Verdict.count()];
        final Map<Verdict, Integer> seen = new EnumMap<>(Verdict.class);

        for (int i = 0; i < FRAMES; i++)
        {
            final int length = makeFrame(random, valid, scratch);
            final byte[] exact = new byte[length];
            scratch.getBytes(0, exact);
            final UnsafeBuffer frame = new UnsafeBuffer(exact);

            parser.copyCounters(before);
            final Verdict verdict = parser.parse(frame, 0, length, packet);
            parser.copyCounters(after);
            for (final Verdict v : Verdict.values())
            {
                final long delta = after[v.ordinal()] - before[v.ordinal()];
                assertThat(delta).as("frame %d, verdict %s", i, v).isEqualTo(v == verdict ? 1 : 0);
            }
            seen.merge(verdict, 1, Integer::sum);
        }

        assertThat(parser.total()).isEqualTo(FRAMES);
        // the mutations reach deep into the parser: every reason except the VLAN limit is produced
        assertThat(seen.keySet()).contains(Verdict.OK, Verdict.TRUNCATED_ETHERNET, Verdict.NOT_IPV4,
            Verdict.TRUNCATED_IPV4, Verdict.BAD_IP_VERSION, Verdict.BAD_IHL, Verdict.IHL_BEYOND_FRAME,
            Verdict.BAD_IP_CHECKSUM, Verdict.TOTAL_LENGTH_BEYOND_FRAME, Verdict.TOTAL_LENGTH_BELOW_HEADER,
            Verdict.NON_FIRST_FRAGMENT, Verdict.TRUNCATED_TCP, Verdict.BAD_TCP_DATA_OFFSET, Verdict.TRUNCATED_UDP,
            Verdict.BAD_UDP_LENGTH, Verdict.TRUNCATED_ICMP, Verdict.UNSUPPORTED_ICMP_TYPE,
            Verdict.UNSUPPORTED_PROTOCOL, Verdict.BAD_L4_CHECKSUM);
    }

    /** One of: random bytes, a truncated valid frame, a valid frame with flipped bytes, or with rewritten fields. */
    private static int makeFrame(final SplittableRandom random, final RandomFrames valid, final UnsafeBuffer buffer)
    {
        final int kind = random.nextInt(4);
        final int protocol = new int[]{RandomFrames.TCP, RandomFrames.UDP, RandomFrames.UDP_NO_CHECKSUM,
            RandomFrames.ICMP}[random.nextInt(4)];
        switch (kind)
        {
            case 0:
            {
                final int length = random.nextInt(200);
                for (int i = 0; i < length; i++)
                {
                    buffer.putByte(i, (byte)random.nextInt());
                }
                if (length > 14 && random.nextBoolean())
                {
                    buffer.putShort(12, (short)0x0008); // little-endian write of 0x0800: IPv4 EtherType
                }
                return length;
            }
            case 1:
            {
                final int length = valid.next(protocol, buffer, 0);
                return random.nextInt(length + 1);
            }
            case 2:
            {
                final int length = valid.next(protocol, buffer, 0);
                final int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++)
                {
                    buffer.putByte(random.nextInt(Math.min(length, 80)), (byte)random.nextInt());
                }
                return length;
            }
            default:
            {
                // rewrite a length-like field with a random value and fix the IP checksum so deeper checks run
                final int length = valid.next(protocol, buffer, 0);
                final ParsedPacket p = new ParsedPacket();
                if (new PacketParser().parse(buffer, 0, length, p) != Verdict.OK)
                {
                    return length;
                }
                final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(buffer, p.l3Offset);
                switch (random.nextInt(6))
                {
                    case 0: ip.totalLength(random.nextInt(65536)); break;
                    case 1: ip.versionAndIhl(4, random.nextInt(16)); break;
                    case 2: ip.flagsAndFragmentOffset(random.nextInt(65536)); break;
                    case 3: ip.protocol(random.nextInt(4) == 0 ? random.nextInt(256) : p.protocol); break;
                    case 4: buffer.putByte(p.l4Offset + (p.protocol == 6 ? 12 : 4), (byte)random.nextInt()); break;
                    default: buffer.putByte(p.l4Offset, (byte)random.nextInt()); break;
                }
                if (random.nextInt(5) != 0 && (ip.ihl() << 2) + p.l3Offset <= length && ip.ihl() >= 5)
                {
                    ip.updateChecksum();
                }
                return random.nextInt(4) == 0 ? Math.max(0, length - random.nextInt(30)) : length;
            }
        }
    }
}
