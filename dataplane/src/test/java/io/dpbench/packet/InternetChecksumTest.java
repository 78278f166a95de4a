package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InternetChecksumTest
{
    private static UnsafeBuffer bytes(final int... values)
    {
        final byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            b[i] = (byte)values[i];
        }
        return new UnsafeBuffer(b);
    }

    @Test
    void rfc1071NumericalExample()
    {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (folded).
        final UnsafeBuffer buffer = bytes(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
        assertThat(InternetChecksum.fold(InternetChecksum.add(buffer, 0, 8, 0))).isEqualTo(0xddf2);
        assertThat(InternetChecksum.compute(buffer, 0, 8)).isEqualTo(~0xddf2 & 0xFFFF);
    }

    @Test
    void knownIpv4HeaderChecksum()
    {
        // A textbook header: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7
        final UnsafeBuffer header = bytes(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
            0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(header, 0);
        ip.updateChecksum();
        assertThat(ip.checksum()).isEqualTo(0xb861);
        assertThat(ip.checksumValid()).isTrue();
    }

    @Test
    void oddLengthPadsTheLastByteWithZero()
    {
        final UnsafeBuffer odd = bytes(0x12, 0x34, 0x56);
        final UnsafeBuffer even = bytes(0x12, 0x34, 0x56, 0x00);
        assertThat(InternetChecksum.compute(odd, 0, 3)).isEqualTo(InternetChecksum.compute(even, 0, 4));
    }

    @Test
    void incrementalUpdateMatchesRecomputationOverEveryWordValueForOneHeader()
    {
        final UnsafeBuffer header = bytes(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
            0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(header, 0).updateChecksum();
        for (int word = 0; word <= 0xFFFF; word++)
        {
            final int before = ip.identification();
            final int incremental = InternetChecksum.update16(ip.checksum(), before, word);
            ip.identification(word).updateChecksum();
            assertThat(incremental).as("identification %04x", word).isEqualTo(ip.checksum());
        }
    }

    /** The 64-bit bulk path equals a plain 16-bit big-endian sum for every length, offset (odd ones too) and start sum. */
    @Test
    void addEqualsTheTextbookSixteenBitSum()
    {
        final java.util.SplittableRandom random = new java.util.SplittableRandom(17);
        final byte[] bytes = new byte[4096];
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(bytes);
        for (int trial = 0; trial < 20_000; trial++)
        {
            random.nextBytes(bytes);
            if (trial % 7 == 0)
            {
                java.util.Arrays.fill(bytes, (byte)0xFF); // carries everywhere
            }
            final int offset = random.nextInt(64);
            final int length = trial < 64 ? trial : random.nextInt(2049);
            final long start = trial % 3 == 0 ? 0 : random.nextLong(1L << 40);
            long reference = start;
            for (int k = 0; k + 1 < length; k += 2)
            {
                reference += ((bytes[offset + k] & 0xFF) << 8) | (bytes[offset + k + 1] & 0xFF);
            }
            if ((length & 1) != 0)
            {
                reference += (bytes[offset + length - 1] & 0xFF) << 8;
            }
            assertThat(InternetChecksum.fold(InternetChecksum.add(buffer, offset, length, start)))
                .as("offset %d length %d", offset, length).isEqualTo(InternetChecksum.fold(reference));
        }
    }
}
