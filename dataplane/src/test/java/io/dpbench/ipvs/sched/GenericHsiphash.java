package io.dpbench.ipvs.sched;

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
     * The kernel's generic 64-bit {@code __hsiphash_unaligned(data, len, key)} over the first {@code length} bytes.
     * The reference {@link KernelHash#hsiphash1u32} is checked against: it passes lib/siphash_kunit.c's vectors
     * for every length, and equals the one-word path for 4-byte input.
     */
    static int hsiphash(final byte[] data, final int length, final long key0, final long key1)
    {
        long v0 = SIP_C0 ^ key0;
        long v1 = SIP_C1 ^ key1;
        long v2 = SIP_C2 ^ key0;
        long v3 = SIP_C3 ^ key1;
        long b = ((long)length) << 56;
        final int end = length - (length & 7);
        for (int i = 0; i <= end; i += 8)
        {
            final boolean last = i == end;
            long m = 0;
            if (last)
            {
                for (int j = length - 1; j >= end; j--)
                {
                    b |= (data[j] & 0xFFL) << (8 * (j - end));
                }
                m = b;
            }
            else
            {
                for (int j = 7; j >= 0; j--)
                {
                    m = (m << 8) | (data[i + j] & 0xFFL);
                }
            }
            v3 ^= m;
            for (int round = 0; round < (last ? 4 : 1); round++)
            {
                v0 += v1;
                v1 = Long.rotateLeft(v1, 13);
                v1 ^= v0;
                v0 = Long.rotateLeft(v0, 32);
                v2 += v3;
                v3 = Long.rotateLeft(v3, 16);
                v3 ^= v2;
                v0 += v3;
                v3 = Long.rotateLeft(v3, 21);
                v3 ^= v0;
                v2 += v1;
                v1 = Long.rotateLeft(v1, 17);
                v1 ^= v2;
                v2 = Long.rotateLeft(v2, 32);
                if (round == 0)
                {
                    v0 ^= m;
                    if (last)
                    {
                        v2 ^= 0xFF;
                    }
                }
            }
        }
        return (int)((v0 ^ v1) ^ (v2 ^ v3));
    }
}
