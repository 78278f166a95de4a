package io.dpbench.ipvs.sched;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.dpbench.ipvs.sched.KernelHash.SIP_C0;
import static io.dpbench.ipvs.sched.KernelHash.SIP_C1;
import static io.dpbench.ipvs.sched.KernelHash.SIP_C2;
import static io.dpbench.ipvs.sched.KernelHash.SIP_C3;

/**
 * lib/siphash.c's generic hsiphash as built when {@code BITS_PER_LONG == 64} (SipHash-1-3 over 64-bit lanes, the
 * {@code u32} result the low half of {@code (v0 ^ v1) ^ (v2 ^ v3)}), over any number of bytes: the reference the
 * one-word {@link KernelHash#hsiphash1u32} that mh uses is tested against.
 */
final class GenericHsiphash
{
    private GenericHsiphash()
    {
    }

    /**
     * The kernel's generic 64-bit {@code __hsiphash_unaligned(data, len, key)} over the first {@code length} bytes,
     * written as lib/siphash.c writes it (HPREAMBLE, a SIPROUND per whole 8-byte word, the tail and length in
     * {@code b}, HPOSTAMBLE) and on a state array, unlike the production code's unrolled one-word path, so that the
     * two are independent. The reference {@link KernelHash#hsiphash1u32} is checked against: it passes
     * lib/siphash_kunit.c's vectors for every length, and equals the one-word path for 4-byte input.
     */
    static int hsiphash(final byte[] data, final int length, final long key0, final long key1)
    {
        final long[] v = {SIP_C0 ^ key0, SIP_C1 ^ key1, SIP_C2 ^ key0, SIP_C3 ^ key1};
        final ByteBuffer words = ByteBuffer.wrap(data, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        final int end = length - length % 8;
        for (int at = 0; at < end; at += 8)
        {
            final long m = words.getLong(at);
            v[3] ^= m;
            sipRound(v);
            v[0] ^= m;
        }
        long b = (long)length << 56;
        for (int i = length - 1; i >= end; i--)
        {
            b |= (data[i] & 0xFFL) << (8 * (i - end));
        }
        v[3] ^= b;
        sipRound(v);
        v[0] ^= b;
        v[2] ^= 0xFF;
        sipRound(v);
        sipRound(v);
        sipRound(v);
        return (int)((v[0] ^ v[1]) ^ (v[2] ^ v[3]));
    }

    /** SIPROUND over 64-bit lanes. */
    private static void sipRound(final long[] v)
    {
        v[0] += v[1];
        v[1] = Long.rotateLeft(v[1], 13) ^ v[0];
        v[0] = Long.rotateLeft(v[0], 32);
        v[2] += v[3];
        v[3] = Long.rotateLeft(v[3], 16) ^ v[2];
        v[0] += v[3];
        v[3] = Long.rotateLeft(v[3], 21) ^ v[0];
        v[2] += v[1];
        v[1] = Long.rotateLeft(v[1], 17) ^ v[2];
        v[2] = Long.rotateLeft(v[2], 32);
    }
}
