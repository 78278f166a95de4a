package io.dpbench.ipvs.sched;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class KernelHashTest
{
    /** lib/siphash_kunit.c test_key_hsiphash for BITS_PER_LONG == 64. */
    private static final long K0 = 0x0706050403020100L;
    private static final long K1 = 0x0f0e0d0c0b0a0908L;

    /** lib/siphash_kunit.c test_vectors_hsiphash[] for BITS_PER_LONG == 64: input bytes 0, 1, ..., len - 1. */
    private static final int[] VECTORS = {
        0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140,
        0x8d299a8e, 0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956,
        0x7d908b66, 0x63dbd80c, 0xb473e63e, 0x8d297d1c, 0xa6cce040, 0x2b45f844, 0xa320872e, 0xdae6c123,
        0x67349c8c, 0x705b0979, 0xca9913a5, 0x4ade3b35, 0xef6cd00d, 0x4ab1e1f4, 0x43c5e663, 0x8c21d1bc,
        0x16a7b60d, 0x7a8ff9bf, 0x1f2a753e, 0xbf186b91, 0xada26206, 0xa3c33057, 0xae3a36a1, 0x7b108392,
        0x99e41531, 0x3f1ad944, 0xc8138825, 0xc28949a6, 0xfaf8876b, 0x9f042196, 0x68b1d623, 0x8b5114fd,
        0xdf074c46, 0x12cc86b3, 0x0a52098f, 0x9d292f9a, 0xa2f41f12, 0x43a71ed0, 0x73f0bce6, 0x70a7e980,
        0x243c6d75, 0xfdb71513, 0xa67d8a08, 0xb7e8f148, 0xf7a644ee, 0x0f1837f2, 0x4b6694e0, 0xb7bbb3a8,
    };

    @Test
    void hsiphashMatchesKernelSelfTestVectorsForEveryLength()
    {
        final byte[] in = new byte[64];
        for (int i = 0; i < 64; i++)
        {
            in[i] = (byte)i;
        }
        for (int len = 0; len < 64; len++)
        {
            assertThat(GenericHsiphash.hsiphash(in, len, K0, K1)).as("length %d", len).isEqualTo(VECTORS[len]);
        }
    }

    @Test
    void hsiphash1u32MatchesKernelSelfTest()
    {
        // chk(hsiphash_1u32(0x03020100U, &test_key_hsiphash), test_vectors_hsiphash[4])
        assertThat(KernelHash.hsiphash1u32(0x03020100, K0, K1)).isEqualTo(0x88d38328);
    }

    @Test
    void oneWordPathEqualsGenericPathOnLittleEndianBytes()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final byte[] bytes = new byte[4];
        for (int i = 0; i < 10_000; i++)
        {
            final int v = random.nextInt();
            bytes[0] = (byte)v;
            bytes[1] = (byte)(v >>> 8);
            bytes[2] = (byte)(v >>> 16);
            bytes[3] = (byte)(v >>> 24);
            assertThat(KernelHash.hsiphash1u32(v, MaglevScheduler.HASH1_KEY, MaglevScheduler.HASH1_KEY))
                .isEqualTo(GenericHsiphash.hsiphash(bytes, 4, MaglevScheduler.HASH1_KEY, MaglevScheduler.HASH1_KEY));
        }
    }

    @Test
    void hash32IsGoldenRatioMultiplyKeepingTopBits()
    {
        assertThat(KernelHash.hash32(1, 32)).isEqualTo(0x61C88647);
        assertThat(KernelHash.hash32(0x0A010203, 32)).isEqualTo(0x02AD20D5);
        assertThat(KernelHash.hash32(0x0A010203, 8)).isEqualTo(2);
        assertThat(KernelHash.hash32(0xC0A80001, 8)).isEqualTo(192);
        assertThat(KernelHash.hash32(-1, 8)).isBetween(0, 255);
    }
}
