package io.dpbench.packet;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class FlowKeyTest
{
    @Test
    void packsAndUnpacksEveryField()
    {
        final SplittableRandom random = new SplittableRandom(1);
        final FlowKey key = new FlowKey();
        for (int i = 0; i < 10_000; i++)
        {
            final int proto = random.nextInt(256);
            final int sa = random.nextInt();
            final int da = random.nextInt();
            final int sp = random.nextInt(65536);
            final int dp = random.nextInt(65536);
            key.set(proto, sa, sp, da, dp);
            assertThat(key.protocol()).isEqualTo(proto);
            assertThat(key.sourceAddress()).isEqualTo(sa);
            assertThat(key.destinationAddress()).isEqualTo(da);
            assertThat(key.sourcePort()).isEqualTo(sp);
            assertThat(key.destinationPort()).isEqualTo(dp);
            assertThat(key.hash()).isEqualTo(FlowKey.hash(proto, sa, sp, da, dp));
        }
    }

    @Test
    void staticUnpacksUndoPackAddressesAndPackPorts()
    {
        final SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 10_000; i++)
        {
            // protocol, source address, source port, destination address, destination port
            final int[] tuple = {random.nextInt(256), random.nextInt(), random.nextInt(65536), random.nextInt(),
                random.nextInt(65536)};
            final long addresses = FlowKey.packAddresses(tuple[1], tuple[3]);
            final long ports = FlowKey.packPorts(tuple[0], tuple[2], tuple[4]);
            assertThat(new int[] {FlowKey.protocol(ports), FlowKey.sourceAddress(addresses), FlowKey.sourcePort(ports),
                FlowKey.destinationAddress(addresses), FlowKey.destinationPort(ports)}).containsExactly(tuple);
        }
    }

    @Test
    void staticUnpacksReadEdgeValuesAndIgnoreTheOtherFields()
    {
        final long addresses = FlowKey.packAddresses(0xFFFF_FFFF, 0x8000_0000);
        assertThat(FlowKey.sourceAddress(addresses)).isEqualTo(0xFFFF_FFFF);
        assertThat(FlowKey.destinationAddress(addresses)).isEqualTo(0x8000_0000);
        assertThat(FlowKey.sourceAddress(FlowKey.packAddresses(0, -1))).isZero();
        assertThat(FlowKey.destinationAddress(FlowKey.packAddresses(-1, 0))).isZero();

        final long ports = FlowKey.packPorts(255, 65535, 0);
        assertThat(FlowKey.protocol(ports)).isEqualTo(255);
        assertThat(FlowKey.sourcePort(ports)).isEqualTo(65535);
        assertThat(FlowKey.destinationPort(ports)).isZero();
        final long other = FlowKey.packPorts(0, 0, 65535);
        assertThat(FlowKey.protocol(other)).isZero();
        assertThat(FlowKey.sourcePort(other)).isZero();
        assertThat(FlowKey.destinationPort(other)).isEqualTo(65535);
        // packPorts keeps only the low 16 bits of a port and 8 of the protocol; the unpacks give back those
        final long wide = FlowKey.packPorts(0x1_06, 0x1_0050, 0x2_1F90);
        assertThat(FlowKey.protocol(wide)).isEqualTo(6);
        assertThat(FlowKey.sourcePort(wide)).isEqualTo(80);
        assertThat(FlowKey.destinationPort(wide)).isEqualTo(8080);
    }

    @Test
    void symmetricHashIsTheSameBothWaysAndDirectionalHashIsNot()
    {
        final SplittableRandom random = new SplittableRandom(2);
        final FlowKey forward = new FlowKey();
        final FlowKey reverse = new FlowKey();
        int directionalCollisions = 0;
        for (int i = 0; i < 10_000; i++)
        {
            forward.set(6, random.nextInt(), random.nextInt(65536), random.nextInt(), random.nextInt(65536));
            reverse.setReverseOf(forward);
            assertThat(reverse.symmetricHash()).isEqualTo(forward.symmetricHash());
            if (reverse.hash() == forward.hash())
            {
                directionalCollisions++;
            }
        }
        assertThat(directionalCollisions).isZero();
    }

    @Test
    void symmetricHashKeepsAddressesWithTheirPorts()
    {
        // (a:x -> b:y) and (a:y -> b:x) are different flows: an xor-of-fields hash would merge them
        final int a = Ipv4Address.parse("10.0.0.1");
        final int b = Ipv4Address.parse("10.0.0.2");
        assertThat(FlowKey.symmetricHash(6, a, 1000, b, 2000)).isNotEqualTo(FlowKey.symmetricHash(6, a, 2000, b, 1000));
        assertThat(FlowKey.symmetricHash(6, a, 1000, b, 2000)).isNotEqualTo(FlowKey.symmetricHash(17, a, 1000, b, 2000));
    }

    @Test
    void sequentialTuplesSpreadEvenlyOverBuckets()
    {
        // A load generator's flows: one client, sequential source ports, a few hundred VIPs.
        final int buckets = 64;
        for (final boolean symmetric : new boolean[]{false, true})
        {
            final long[] counts = new long[buckets];
            int n = 0;
            for (int vip = 0; vip < 256; vip++)
            {
                for (int port = 32768; port < 32768 + 256; port++)
                {
                    final int sa = Ipv4Address.parse("10.244.0.5");
                    final int da = Ipv4Address.parse("10.96.0.0") + vip;
                    final long h = symmetric ? FlowKey.symmetricHash(6, sa, port, da, 80) : FlowKey.hash(6, sa, port, da, 80);
                    counts[(int)(h & (buckets - 1))]++;
                    n++;
                }
            }
            final double expected = (double)n / buckets;
            double chiSquare = 0;
            for (final long c : counts)
            {
                chiSquare += (c - expected) * (c - expected) / expected;
            }
            // 63 degrees of freedom: the 99.9th percentile of chi-square is ~103.4
            assertThat(chiSquare).as("chi-square, symmetric=%s", symmetric).isLessThan(103.4);
        }
    }

    @Test
    void lowAndHighHashBitsAreBothUsable()
    {
        final Set<Long> high = new HashSet<>();
        for (int port = 0; port < 4096; port++)
        {
            high.add(FlowKey.hash(17, 1, port, 2, 53) >>> 52);
        }
        assertThat(high.size()).isGreaterThan(2500); // 4096 balls in 4096 bins: ~2589 distinct expected
    }
}
