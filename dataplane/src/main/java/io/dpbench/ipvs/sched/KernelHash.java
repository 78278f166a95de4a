package io.dpbench.ipvs.sched;

/**
 * The two kernel hash functions the hashing schedulers depend on, re-expressed bit for bit so that a flow lands in
 * the same bucket (sh, dh) or Maglev slot (mh) as on a real x86-64 node:
 * <ul>
 *   <li>{@link #hash32}: include/linux/hash.h {@code hash_32()}, a multiply by {@code GOLDEN_RATIO_32} (0x61C88647)
 *   keeping the top {@code bits} bits (x86 has no arch override);</li>
 *   <li>{@link #hsiphash1u32}: lib/siphash.c {@code hsiphash_1u32()} as built when {@code BITS_PER_LONG == 64}, where
 *   "HalfSipHash" is really SipHash-1-3 over 64-bit lanes with a 64-bit {@code unsigned long key[2]}, and the
 *   {@code u32} result is the low half of {@code (v0 ^ v1) ^ (v2 ^ v3)}.</li>
 * </ul>
 * Stateless, allocation free. The generic byte-array hsiphash these are checked against (the kernel's self-test
 * vectors) is test code: nothing on a packet path needs it.
 */
public final class KernelHash
{
    /** include/linux/hash.h GOLDEN_RATIO_32. */
    public static final int GOLDEN_RATIO_32 = 0x61C88647;

    static final long SIP_C0 = 0x736f6d6570736575L;
    static final long SIP_C1 = 0x646f72616e646f6dL;
    static final long SIP_C2 = 0x6c7967656e657261L;
    static final long SIP_C3 = 0x7465646279746573L;

    private KernelHash()
    {
    }

    /** hash_32(val, bits): the top {@code bits} bits of {@code val * GOLDEN_RATIO_32} (32-bit wrap). */
    public static int hash32(final int value, final int bits)
    {
        return (value * GOLDEN_RATIO_32) >>> (32 - bits);
    }

    /**
     * hsiphash_1u32(first, key) on a 64-bit kernel. This is also what {@code hsiphash(&v, 4, key)} computes for a
     * 4-byte {@code v} on little-endian x86-64, whichever path the header picks: the aligned path calls
     * {@code hsiphash_1u32(le32_to_cpu(v))}, the unaligned path ORs the same 4 little-endian bytes into the final
     * block word, so {@code first} is simply the native {@code u32} value.
     */
    public static int hsiphash1u32(final int first, final long key0, final long key1)
    {
        long v0 = SIP_C0 ^ key0;
        long v1 = SIP_C1 ^ key1;
        long v2 = SIP_C2 ^ key0;
        long v3 = SIP_C3 ^ key1;
        final long b = (4L << 56) | (first & 0xFFFF_FFFFL);

        // the only (final, partial) block: one compression round, then three finalisation rounds
        v3 ^= b;
        for (int round = 0; round < 4; round++)
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
                v0 ^= b;
                v2 ^= 0xFF;
            }
        }
        return (int)((v0 ^ v1) ^ (v2 ^ v3));
    }
}
