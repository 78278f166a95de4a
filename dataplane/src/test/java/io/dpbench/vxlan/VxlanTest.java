package io.dpbench.vxlan;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.InternetChecksum;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.PcapWriter;
import io.dpbench.packet.Tshark;
import io.dpbench.packet.UdpFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class VxlanTest
{
    static final int POD = Ipv4Address.parse("10.244.0.5");
    static final int REMOTE_POD = Ipv4Address.parse("10.244.1.7");
    static final long POD_MAC = 0x02_00_00_00_00_05L;
    static final long NODE_MAC = 0x02_00_00_00_00_01L;
    static final LocalVtep LOCAL = new LocalVtep(Ipv4Address.parse("192.168.0.10"), 0x02_00_00_00_0a_0aL,
        0x0a_00_00_00_00_01L, Ipv4Address.parse("10.244.0.1"));
    static final RemoteVtep REMOTE = new RemoteVtep(Ipv4Address.parse("192.168.0.11"), 0x02_00_00_00_0b_0bL,
        0x0a_00_00_00_00_02L);
    static final int HEADROOM = 64;

    @TempDir
    Path dir;

    /** A frame from the pod, at {@link #HEADROOM} in a buffer with room to spare; returns its length. */
    static int podFrame(final UnsafeBuffer b, final FrameBuilder builder)
    {
        return builder.macs(POD_MAC, NODE_MAC).build(b, HEADROOM);
    }

    static List<byte[]> forward(final OverlayForwarder forwarder, final UnsafeBuffer b, final int length)
    {
        final List<byte[]> out = new ArrayList<>();
        forwarder.forward(b, HEADROOM, length, REMOTE, (buffer, offset, len) ->
        {
            final byte[] copy = new byte[len];
            buffer.getBytes(offset, copy);
            out.add(copy);
        });
        return out;
    }

    static OverlayForwarder forwarder(final VxlanConfig config)
    {
        return new OverlayForwarder(new VxlanEncapsulator(config, LOCAL), LOCAL);
    }

    static boolean ipChecksumValid(final UnsafeBuffer b, final int ip)
    {
        return new Ipv4Flyweight().wrap(b, ip).checksumValid();
    }

    static boolean udpChecksumValid(final UnsafeBuffer b, final int ip)
    {
        final Ipv4Flyweight h = new Ipv4Flyweight().wrap(b, ip);
        final int udp = ip + h.headerLength();
        final int length = b.getShort(udp + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return InternetChecksum.fold(InternetChecksum.add(b, udp, length, InternetChecksum.pseudoHeader(h.source(),
            h.destination(), Ipv4Flyweight.PROTOCOL_UDP, length))) == 0xFFFF;
    }

    @Test
    void encapsulationWritesFlannelsHeaders()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).tos(0xB8 | 0x03).ttl(64)
            .udp(40000, 5000).payload(new byte[100], 100));
        final List<byte[]> out = forward(forwarder(VxlanConfig.flannel()), b, length);
        assertThat(out).hasSize(1);
        final UnsafeBuffer f = new UnsafeBuffer(out.get(0));
        assertThat(f.capacity()).isEqualTo(length + VxlanConfig.OVERHEAD);
        assertThat(EthernetFlyweight.readMac(f, 0)).isEqualTo(REMOTE.underlayMac());
        assertThat(EthernetFlyweight.readMac(f, 6)).isEqualTo(LOCAL.underlayMac());
        final Ipv4Flyweight outer = new Ipv4Flyweight().wrap(f, 14);
        assertThat(outer.headerLength()).isEqualTo(20);
        assertThat(outer.tos()).as("DSCP 0; CE inside goes out as ECT(0)").isEqualTo(0x02);
        assertThat(outer.flagsAndFragmentOffset()).as("DF clear").isZero();
        assertThat(outer.ttl()).isEqualTo(64);
        assertThat(outer.protocol()).isEqualTo(17);
        assertThat(outer.source()).isEqualTo(LOCAL.address());
        assertThat(outer.destination()).isEqualTo(REMOTE.address());
        assertThat(outer.totalLength()).isEqualTo(f.capacity() - 14);
        assertThat(outer.checksumValid()).isTrue();
        final UdpFlyweight udp = new UdpFlyweight().wrap(f, 34);
        assertThat(udp.destinationPort()).isEqualTo(8472);
        assertThat(udp.sourcePort()).isBetween(32768, 60998);
        assertThat(udp.length()).isEqualTo(f.capacity() - 34);
        assertThat(udp.checksum()).isNotZero();
        assertThat(udpChecksumValid(f, 14)).isTrue();
        assertThat(f.getInt(42, ByteOrder.BIG_ENDIAN)).as("VXLAN flags: I").isEqualTo(0x0800_0000);
        assertThat(f.getInt(46, ByteOrder.BIG_ENDIAN)).as("VNI 1, reserved 0").isEqualTo(0x0000_0100);
        assertThat(EthernetFlyweight.readMac(f, 50)).isEqualTo(REMOTE.vtepMac());
        assertThat(EthernetFlyweight.readMac(f, 56)).isEqualTo(LOCAL.vtepMac());
        final Ipv4Flyweight inner = new Ipv4Flyweight().wrap(f, 64);
        assertThat(inner.ttl()).as("forwarded: TTL decremented").isEqualTo(63);
        assertThat(inner.checksumValid()).isTrue();
        assertThat(inner.tos()).as("inner TOS untouched").isEqualTo(0xBB);
    }

    @Test
    void outerEcnFollowsRfc6040AndDscpIsZero()
    {
        assertThat(VxlanEncapsulator.ecnEncapsulate(0x00)).isZero();
        assertThat(VxlanEncapsulator.ecnEncapsulate(0x01)).isEqualTo(0x01);
        assertThat(VxlanEncapsulator.ecnEncapsulate(0x02)).isEqualTo(0x02);
        assertThat(VxlanEncapsulator.ecnEncapsulate(0x03)).isEqualTo(0x02);
        assertThat(VxlanEncapsulator.ecnEncapsulate(0xB8)).isZero();
    }

    @Test
    void noudpcsumSendsAZeroChecksumAndOtherPortAndVniAreHonoured()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 5000));
        final VxlanConfig config = VxlanConfig.flannel().withUdpChecksum(false).withDestinationPort(4789).withVni(4242);
        final UnsafeBuffer f = new UnsafeBuffer(forward(forwarder(config), b, length).get(0));
        assertThat(f.getShort(34 + 6)).isZero();
        assertThat(f.getShort(34 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF).isEqualTo(4789);
        assertThat(f.getInt(46, ByteOrder.BIG_ENDIAN) >>> 8).isEqualTo(4242);
    }

    @Test
    void sourcePortIsInTheKernelsRangeStablePerFlowAndTheSameBothWays()
    {
        final SplittableRandom random = new SplittableRandom(5);
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++)
        {
            final int a = random.nextInt();
            final int c = random.nextInt();
            final int pa = random.nextInt(65536);
            final int pc = random.nextInt(65536);
            final int proto = random.nextBoolean() ? 6 : 17;
            final int forward = VxlanSourcePort.fromHash(VxlanSourcePort.flowHash(proto, a, pa, c, pc, false), 32768, 60999);
            final int reverse = VxlanSourcePort.fromHash(VxlanSourcePort.flowHash(proto, c, pc, a, pa, false), 32768, 60999);
            assertThat(forward).isBetween(32768, 60998).isEqualTo(reverse);
            assertThat(VxlanSourcePort.fromHash(VxlanSourcePort.flowHash(proto, a, pa, c, pc, false), 32768, 60999))
                .isEqualTo(forward);
            // fragments carry no ports: the kernel's flow dissector hashes their addresses only
            assertThat(VxlanSourcePort.flowHash(proto, a, pa, c, pc, true))
                .isEqualTo(VxlanSourcePort.flowHash(proto, a, 0, c, 0, false));
            seen.add(forward);
        }
        assertThat(seen.size()).as("ports spread over the range").isGreaterThan(14_000);
        // the extremes of the scaling: hash 0 gives min, the largest gives max - 1
        assertThat(VxlanSourcePort.fromHash(0, 32768, 60999)).isEqualTo(32768);
        assertThat(VxlanSourcePort.fromHash(0x0000_FFFF, 32768, 60999)).isEqualTo(60998);
    }

    @Test
    void decapsulationReturnsTheInnerFrameOfEveryEncapsulation()
    {
        final SplittableRandom random = new SplittableRandom(9);
        final VxlanDecapsulator decap = new VxlanDecapsulator(VxlanConfig.flannel());
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        for (int i = 0; i < 2000; i++)
        {
            final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
            final int payload = random.nextInt(1300);
            final FrameBuilder builder = new FrameBuilder().addresses(POD + random.nextInt(200), REMOTE_POD + random.nextInt(200))
                .payload(new byte[payload], payload);
            if (random.nextBoolean())
            {
                builder.tcp(random.nextInt(1, 65536), 80, 0x02);
            }
            else
            {
                builder.udp(random.nextInt(1, 65536), 53);
            }
            final int length = podFrame(b, builder);
            final byte[] inner = new byte[length];
            b.getBytes(HEADROOM, inner);
            final UnsafeBuffer f = new UnsafeBuffer(forward(forwarder, b, length).get(0));
            final int at = decap.decapsulate(f, 0, f.capacity());
            assertThat(at).isEqualTo(50);
            assertThat(decap.innerLength()).isEqualTo(length);
            // the inner frame as routed: new MACs, TTL one less
            assertThat(EthernetFlyweight.readMac(f, at)).isEqualTo(REMOTE.vtepMac());
            assertThat(f.getInt(at + 14 + 12)).isEqualTo(new UnsafeBuffer(inner).getInt(14 + 12));
            assertThat(f.getByte(at + 14 + 8)).isEqualTo((byte)(inner[14 + 8] - 1));
        }
        assertThat(decap.decapsulated()).isEqualTo(2000);
        assertThat(decap.dropsTotal()).isZero();
    }

    /** A valid encapsulated frame, then variations of it that Linux drops, each under its own reason. */
    @Test
    void decapsulationDropsEachMalformedFrameUnderItsReason()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 5000)
            .payload(new byte[40], 40));
        final byte[] good = forward(forwarder(VxlanConfig.flannel()), b, length).get(0);
        final VxlanDecapsulator decap = new VxlanDecapsulator(VxlanConfig.flannel());

        expectDrop(decap, mutate(good, f -> vxlanByte(f, 42, 0x00)), io.dpbench.packet.DropReason.DECAP_BAD_VXLAN_FLAGS);
        expectDrop(decap, mutate(good, f -> vxlanByte(f, 42, 0x0C)), io.dpbench.packet.DropReason.DECAP_BAD_VXLAN_FLAGS);
        expectDrop(decap, mutate(good, f -> vxlanByte(f, 44, 0x01)), io.dpbench.packet.DropReason.DECAP_BAD_VXLAN_FLAGS);
        expectDrop(decap, mutate(good, f -> vxlanByte(f, 49, 0x01)), io.dpbench.packet.DropReason.DECAP_BAD_VXLAN_FLAGS);
        expectDrop(decap, mutate(good, f -> vxlanByte(f, 48, 0x02)), io.dpbench.packet.DropReason.DECAP_UNKNOWN_VNI);
        expectDrop(decap, mutate(good, f -> f.putShort(12, (short)0x86DD, ByteOrder.BIG_ENDIAN)), io.dpbench.packet.DropReason.DECAP_NOT_IPV4);
        expectDrop(decap, mutate(good, f -> f.putByte(14, (byte)0x65)), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_HEADER);
        expectDrop(decap, mutate(good, f -> f.putByte(14, (byte)0x44)), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_HEADER);
        expectDrop(decap, mutate(good, f -> f.putByte(14 + 8, (byte)63)), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_CHECKSUM);
        expectDrop(decap, mutate(good, f -> patchIp(f, 2, f.capacity())), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_LENGTH);
        expectDrop(decap, mutate(good, f -> patchIp(f, 2, 19)), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_LENGTH);
        expectDrop(decap, mutate(good, f -> patchIp(f, 6, 0x2000)), io.dpbench.packet.DropReason.DECAP_OUTER_FRAGMENT);
        expectDrop(decap, mutate(good, f -> patchIp(f, 6, 0x0010)), io.dpbench.packet.DropReason.DECAP_OUTER_FRAGMENT);
        expectDrop(decap, mutate(good, f -> f.putByte(14 + 9, (byte)6)), io.dpbench.packet.DropReason.DECAP_BAD_OUTER_IP_CHECKSUM);
        expectDrop(decap, mutate(good, f -> patchIpByte(f, 9, 6)), io.dpbench.packet.DropReason.DECAP_NOT_UDP);
        expectDrop(decap, mutate(good, f -> f.putShort(34 + 2, (short)4789, ByteOrder.BIG_ENDIAN)), io.dpbench.packet.DropReason.DECAP_NOT_VXLAN_PORT);
        expectDrop(decap, mutate(good, f -> f.putShort(34 + 4, (short)7, ByteOrder.BIG_ENDIAN)), io.dpbench.packet.DropReason.DECAP_BAD_UDP_LENGTH);
        expectDrop(decap, mutate(good, f -> f.putShort(34 + 4, (short)2000, ByteOrder.BIG_ENDIAN)), io.dpbench.packet.DropReason.DECAP_BAD_UDP_LENGTH);
        expectDrop(decap, mutate(good, f -> f.putByte(f.capacity() - 1, (byte)0x55)), io.dpbench.packet.DropReason.DECAP_BAD_UDP_CHECKSUM);
        expectDrop(decap, mutate(good, f -> shortenUdp(f, 8 + 4)), io.dpbench.packet.DropReason.DECAP_TRUNCATED_VXLAN);
        expectDrop(decap, mutate(good, f -> shortenUdp(f, 8 + 8 + 10)), io.dpbench.packet.DropReason.DECAP_TRUNCATED_INNER);
        // with the UDP checksum off (0), a corrupted payload is not the outer layers' business
        final byte[] unchecked = mutate(good, f -> f.putShort(34 + 6, (short)0));
        assertThat(decap.decapsulate(new UnsafeBuffer(unchecked), 0, unchecked.length)).isEqualTo(50);

        // every truncation of the outer headers: dropped, never thrown
        for (int cut = 0; cut < 64; cut++)
        {
            assertThat(decap.decapsulate(new UnsafeBuffer(good), 0, cut)).as("truncated at %d", cut).isEqualTo(-1);
        }
        assertThat(decap.drops(io.dpbench.packet.DropReason.DECAP_TRUNCATED_OUTER_ETHERNET)).isPositive();
        assertThat(decap.drops(io.dpbench.packet.DropReason.DECAP_TRUNCATED_OUTER_IPV4)).isPositive();
        for (final io.dpbench.packet.DropReason reason : io.dpbench.packet.DropReason.of(io.dpbench.packet.DropReason.Where.DECAP))
        {
            if (reason != io.dpbench.packet.DropReason.DECAP_TRUNCATED_UDP)
            {
                assertThat(decap.drops(reason)).as("reason %s reached", reason.label()).isPositive();
            }
        }
    }

    /** Only UDP to this node's address and the device's port is the device's business; plain traffic is not. */
    @Test
    void addressedToDeviceTellsTheDevicesFramesFromPlainTraffic()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 5000));
        final byte[] outer = forward(forwarder(VxlanConfig.flannel()), b, length).get(0);
        final VxlanDecapsulator toRemote = new VxlanDecapsulator(VxlanConfig.flannel());
        assertThat(toRemote.addressedToDevice(new UnsafeBuffer(outer), 0, outer.length, REMOTE.address())).isTrue();
        assertThat(toRemote.addressedToDevice(new UnsafeBuffer(outer), 0, outer.length, LOCAL.address())).isFalse();
        assertThat(new VxlanDecapsulator(VxlanConfig.flannel().withDestinationPort(4789))
            .addressedToDevice(new UnsafeBuffer(outer), 0, outer.length, REMOTE.address())).isFalse();
        final byte[] plain = new byte[length];
        b.getBytes(HEADROOM, plain);
        assertThat(toRemote.addressedToDevice(new UnsafeBuffer(plain), 0, plain.length, REMOTE_POD)).isFalse();
        // cut before the destination port: not readable, not the device's (from there on, decapsulation drops it)
        for (int cut = 0; cut < 14 + 20 + 4; cut++)
        {
            assertThat(toRemote.addressedToDevice(new UnsafeBuffer(outer), 0, cut, REMOTE.address())).as("cut %d", cut).isFalse();
        }
        assertThat(toRemote.dropsTotal()).isZero();
    }

    /** Outer IPv4 options are legal (Linux decapsulates them): stepped over, not dropped. */
    @Test
    void outerIpOptionsAreSteppedOver()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 5000));
        final byte[] good = forward(forwarder(VxlanConfig.flannel()), b, length).get(0);
        // insert 4 option bytes (NOP NOP NOP EOL) after the outer IPv4 header, IHL 6
        final byte[] withOptions = new byte[good.length + 4];
        System.arraycopy(good, 0, withOptions, 0, 34);
        withOptions[34] = 1;
        withOptions[35] = 1;
        withOptions[36] = 1;
        withOptions[37] = 0;
        System.arraycopy(good, 34, withOptions, 38, good.length - 34);
        final UnsafeBuffer f = new UnsafeBuffer(withOptions);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(f, 14).versionAndIhl(4, 6);
        ip.totalLength(ip.totalLength() + 4).updateChecksum();
        final VxlanDecapsulator decap = new VxlanDecapsulator(VxlanConfig.flannel());
        assertThat(decap.decapsulate(f, 0, withOptions.length)).isEqualTo(54);
        assertThat(decap.innerLength()).isEqualTo(length);
        // bytes past the IPv4 total length (Ethernet padding) are not part of the packet
        final UnsafeBuffer padded = new UnsafeBuffer(new byte[withOptions.length + 10]);
        padded.putBytes(0, withOptions);
        assertThat(decap.decapsulate(padded, 0, padded.capacity())).isEqualTo(54);
        assertThat(decap.innerLength()).isEqualTo(length);
    }

    @Test
    void aDontFragmentPacketAboveTheOverlayMtuIsAnsweredWithFragmentationNeeded1450()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 5000)
            .payload(new byte[1472], 1472));
        assertThat(length).isEqualTo(1514);
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        final List<byte[]> out = forward(forwarder, b, length);
        assertThat(out).hasSize(1);
        final UnsafeBuffer f = new UnsafeBuffer(out.get(0));
        assertThat(EthernetFlyweight.readMac(f, 0)).as("back to the pod").isEqualTo(POD_MAC);
        assertThat(EthernetFlyweight.readMac(f, 6)).isEqualTo(NODE_MAC);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(f, 14);
        assertThat(ip.totalLength()).isEqualTo(576);
        assertThat(ip.source()).isEqualTo(LOCAL.gatewayAddress());
        assertThat(ip.destination()).isEqualTo(POD);
        assertThat(ip.tos()).isEqualTo(0xC0);
        assertThat(ip.protocol()).isEqualTo(1);
        assertThat(ip.checksumValid()).isTrue();
        assertThat(f.getByte(34) & 0xFF).as("type").isEqualTo(3);
        assertThat(f.getByte(35) & 0xFF).as("code").isEqualTo(4);
        assertThat(f.getShort(34 + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF).as("next-hop MTU").isEqualTo(1450);
        assertThat(InternetChecksum.fold(InternetChecksum.add(f, 34, 576 - 20, 0))).as("ICMP checksum").isEqualTo(0xFFFF);
        assertThat(f.getByte(42 + 8) & 0xFF).as("quoted as received: TTL not decremented").isEqualTo(64);
        assertThat(forwarder.count(OverlayForwarder.Counter.FRAG_NEEDED)).isOne();
    }

    @Test
    void withoutDontFragmentItLeavesAsTwoEncapsulatedFragments()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).flagsAndFragment(0)
            .identification(0x1234).udp(40000, 5000).payload(new byte[1472], 1472));
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        final List<byte[]> out = forward(forwarder, b, length);
        assertThat(out).hasSize(2);
        final UnsafeBuffer first = new UnsafeBuffer(out.get(0));
        final UnsafeBuffer second = new UnsafeBuffer(out.get(1));
        assertThat(first.capacity()).isEqualTo(1508);
        assertThat(second.capacity()).isEqualTo(140);
        final Ipv4Flyweight a = new Ipv4Flyweight().wrap(first, 64);
        final Ipv4Flyweight c = new Ipv4Flyweight().wrap(second, 64);
        assertThat(a.totalLength()).isEqualTo(1444);
        assertThat(a.flagsAndFragmentOffset()).isEqualTo(0x2000);
        assertThat(c.totalLength()).isEqualTo(76);
        assertThat(c.flagsAndFragmentOffset()).isEqualTo(178);
        assertThat(a.identification()).isEqualTo(0x1234);
        assertThat(c.identification()).isEqualTo(0x1234);
        assertThat(a.ttl()).isEqualTo(63);
        assertThat(a.checksumValid()).isTrue();
        assertThat(c.checksumValid()).isTrue();
        assertThat(udpChecksumValid(first, 14)).isTrue();
        assertThat(udpChecksumValid(second, 14)).isTrue();
        assertThat(first.getShort(34)).as("one source port for both fragments").isEqualTo(second.getShort(34));
        assertThat(forwarder.count(OverlayForwarder.Counter.FRAGMENTED)).isOne();
        assertThat(forwarder.count(OverlayForwarder.Counter.FRAGMENTS)).isEqualTo(2);
    }

    @Test
    void ttlOfOneIsAnsweredWithTimeExceeded()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).ttl(1).udp(40000, 5000));
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        final UnsafeBuffer f = new UnsafeBuffer(forward(forwarder, b, length).get(0));
        assertThat(f.getByte(34) & 0xFF).isEqualTo(11);
        assertThat(f.getByte(35) & 0xFF).isZero();
        assertThat(new Ipv4Flyweight().wrap(f, 14).totalLength()).isEqualTo(20 + 8 + length - 14);
        assertThat(forwarder.count(OverlayForwarder.Counter.TTL_EXCEEDED)).isOne();
    }

    /** No ICMP error about an ICMP error or a non-first fragment (icmp_send): dropped and counted instead. */
    @Test
    void noIcmpErrorAboutAnIcmpErrorOrALaterFragment()
    {
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        final UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
        // an ICMP destination-unreachable arriving with TTL 1
        int length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).ttl(1).icmpEcho(3, 0, 0));
        assertThat(forward(forwarder, b, length)).isEmpty();
        // a later fragment (offset 8 x 100) with DF, too big for the overlay
        length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).flagsAndFragment(Ipv4Flyweight.FLAG_DONT_FRAGMENT | 100)
            .udp(1, 2).payload(new byte[1472], 1472));
        assertThat(forward(forwarder, b, length)).isEmpty();
        assertThat(forwarder.drops(io.dpbench.packet.DropReason.FORWARD_DROPPED_WITHOUT_ICMP)).isEqualTo(2);
        // an echo request with TTL 1 still gets its time-exceeded
        length = podFrame(b, new FrameBuilder().addresses(POD, REMOTE_POD).ttl(1).icmpEcho(8, 1, 1));
        assertThat(forward(forwarder, b, length)).hasSize(1);
    }

    /** ip_decrease_ttl's checksum arithmetic, checked against a full recomputation over many headers. */
    /**
     * Wire mode's encapsulation ({@link Encapsulation#UDP_PAYLOAD}) writes what a UDP socket sends and nothing more:
     * each encapsulated frame is the whole frame's last bytes from its VXLAN header on (the outer Ethernet, IPv4 and
     * UDP headers, 42 bytes, not written), and every decision is the same (the overlay MTU still counts the 50 bytes
     * of outer headers the frame has on the underlay): the same fragments, the same ICMP errors, told apart from the
     * encapsulated frames by the sink's call, the same counters.
     */
    @Test
    void theUdpPayloadIsTheWholeFrameFromItsVxlanHeaderOnWithTheSameDecisions()
    {
        final OverlayForwarder whole = forwarder(VxlanConfig.flannel());
        final OverlayForwarder payload = new OverlayForwarder(
            new VxlanEncapsulator(VxlanConfig.flannel(), LOCAL, Encapsulation.UDP_PAYLOAD), LOCAL);
        final FrameBuilder[] cases = {
            new FrameBuilder().addresses(POD, REMOTE_POD).tcp(40000, 443, 0x02).payload(new byte[300], 300), // fits
            new FrameBuilder().addresses(POD, REMOTE_POD).udp(40000, 53).payload(new byte[1422], 1422), // 1450: fits
            new FrameBuilder().addresses(POD, REMOTE_POD).flagsAndFragment(0).identification(7).udp(40000, 5000)
                .payload(new byte[1472], 1472), // 1500 without DF: two fragments
            new FrameBuilder().addresses(POD, REMOTE_POD).flagsAndFragment(Ipv4Flyweight.FLAG_DONT_FRAGMENT)
                .udp(40000, 5000).payload(new byte[1423], 1423), // 1451 with DF: fragmentation needed
            new FrameBuilder().addresses(POD, REMOTE_POD).ttl(1).tcp(40000, 443, 0x02)}; // time exceeded
        for (int c = 0; c < cases.length; c++)
        {
            final UnsafeBuffer a = new UnsafeBuffer(new byte[4096]);
            final UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
            final int length = podFrame(a, cases[c]);
            podFrame(b, cases[c]);
            final List<String> frames = kinds(whole, a, HEADROOM, length);
            final List<String> payloads = kinds(payload, b, HEADROOM, length);
            assertThat(payloads).as("case %d", c).hasSameSizeAs(frames).isNotEmpty();
            for (int i = 0; i < frames.size(); i++)
            {
                final String f = frames.get(i);
                assertThat(payloads.get(i)).as("case %d, frame %d", c, i)
                    .isEqualTo(f.startsWith("vxlan ") ? "vxlan " + f.substring(6 + 2 * 42) : f);
            }
        }
        for (final OverlayForwarder.Counter counter : OverlayForwarder.Counter.values())
        {
            assertThat(payload.count(counter)).as(counter.label()).isEqualTo(whole.count(counter));
        }
        assertThat(whole.count(OverlayForwarder.Counter.FRAGMENTS)).isEqualTo(2);
        assertThat(whole.count(OverlayForwarder.Counter.FRAG_NEEDED)).isOne();
        assertThat(whole.count(OverlayForwarder.Counter.TTL_EXCEEDED)).isOne();
    }

    /** The UDP payload needs room for the VXLAN header only before the frame; whole frames need 50 bytes. */
    @Test
    void theUdpPayloadNeedsRoomForItsVxlanHeaderOnly()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int length = new FrameBuilder().addresses(POD, REMOTE_POD).macs(POD_MAC, NODE_MAC).udp(40000, 53)
            .build(b, 8);
        final OverlayForwarder payload = new OverlayForwarder(
            new VxlanEncapsulator(VxlanConfig.flannel(), LOCAL, Encapsulation.UDP_PAYLOAD), LOCAL);
        assertThat(kinds(payload, b, 8, length)).hasSize(1).allMatch(f -> f.startsWith("vxlan 08000000"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kinds(forwarder(VxlanConfig.flannel()), b, 8, length))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("50 bytes of headroom");
    }

    /** What the forwarder hands its sink, in order: "vxlan HEX" for an encapsulated frame, "icmp HEX" for an error. */
    private static List<String> kinds(final OverlayForwarder forwarder, final UnsafeBuffer b, final int offset,
        final int length)
    {
        final List<String> out = new ArrayList<>();
        forwarder.forward(b, offset, length, REMOTE, new OverlayForwarder.FrameSink()
        {
            @Override
            public void frame(final org.agrona.MutableDirectBuffer buffer, final int at, final int len)
            {
                out.add("vxlan " + hex(buffer, at, len));
            }

            @Override
            public void icmpError(final org.agrona.MutableDirectBuffer buffer, final int at, final int len)
            {
                out.add("icmp " + hex(buffer, at, len));
            }
        });
        return out;
    }

    private static String hex(final org.agrona.DirectBuffer buffer, final int at, final int length)
    {
        final byte[] copy = new byte[length];
        buffer.getBytes(at, copy);
        return java.util.HexFormat.of().formatHex(copy);
    }

    @Test
    void ttlDecrementKeepsTheHeaderChecksumValid()
    {
        final SplittableRandom random = new SplittableRandom(3);
        final UnsafeBuffer b = new UnsafeBuffer(new byte[128]);
        for (int i = 0; i < 100_000; i++)
        {
            final int length = new FrameBuilder().addresses(random.nextInt(), random.nextInt()).ttl(random.nextInt(2, 256))
                .identification(random.nextInt(65536)).tos(random.nextInt(256)).udp(1, 2).build(b, 0);
            OverlayForwarder.decreaseTtl(b, 14);
            assertThat(ipChecksumValid(b, 14)).as("header %d", i).isTrue();
            assertThat(length).isPositive();
        }
    }

    @Test
    void tsharkDecodesTheEncapsulatedOutputAsVxlanWithGoodChecksums() throws Exception
    {
        Tshark.requireOrSkip();
        final Path pcap = dir.resolve("encap.pcap");
        final OverlayForwarder forwarder = forwarder(VxlanConfig.flannel());
        final SplittableRandom random = new SplittableRandom(21);
        int frames = 0;
        try (PcapWriter writer = PcapWriter.create(pcap))
        {
            for (int i = 0; i < 300; i++)
            {
                final UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
                final int payload = i % 10 == 0 ? 1472 : random.nextInt(600);
                final FrameBuilder builder = new FrameBuilder().addresses(POD, REMOTE_POD + i % 7)
                    .flagsAndFragment(i % 10 == 0 ? 0 : Ipv4Flyweight.FLAG_DONT_FRAGMENT)
                    .identification(i).payload(new byte[payload], payload);
                if (i % 2 == 0)
                {
                    builder.tcp(30000 + i, 443, 0x18);
                }
                else
                {
                    builder.udp(30000 + i, 53);
                }
                for (final byte[] f : forward(forwarder, b, podFrame(b, builder)))
                {
                    writer.write(new UnsafeBuffer(f), 0, f.length, i * 1_000L);
                    frames++;
                }
            }
        }
        assertThat(frames).isEqualTo(300 + 30);
        final List<String> rows = Tshark.run(dir, pcap, "-d", "udp.port==8472,vxlan", "-T", "fields", "-E", "separator=,",
            "-E", "occurrence=a", "-E", "aggregator=;", "-e", "vxlan.vni", "-e", "ip.checksum.status",
            "-e", "udp.checksum.status", "-e", "ip.dst", "-e", "_ws.malformed", "-e", "_ws.expert.severity");
        assertThat(rows).hasSize(frames);
        for (int i = 0; i < rows.size(); i++)
        {
            final String[] f = rows.get(i).split(",", -1);
            assertThat(f[0]).as("VNI of frame %d", i + 1).isEqualTo("1");
            assertThat(f[1]).as("outer and inner IPv4 checksums of frame %d", i + 1).isEqualTo("1;1");
            assertThat(f[2]).as("outer UDP checksum of frame %d", i + 1).startsWith("1");
            assertThat(f[3]).as("outer and inner destinations").startsWith("192.168.0.11;10.244.1.");
            assertThat(f[4]).as("malformed").isEmpty();
        }
    }

    private interface Mutation
    {
        void apply(UnsafeBuffer frame);
    }

    private static byte[] mutate(final byte[] frame, final Mutation mutation)
    {
        final byte[] copy = frame.clone();
        mutation.apply(new UnsafeBuffer(copy));
        return copy;
    }

    /** Change a byte of the VXLAN header and fix the outer UDP checksum, so that only the header is wrong. */
    private static void vxlanByte(final UnsafeBuffer f, final int at, final int value)
    {
        f.putByte(at, (byte)value);
        new UdpFlyweight().wrap(f, 34).updateChecksum(f.getInt(14 + 12, ByteOrder.BIG_ENDIAN), f.getInt(14 + 16, ByteOrder.BIG_ENDIAN));
    }

    /** Change an outer IPv4 16-bit field and fix the header checksum, so that only the field itself is wrong. */
    private static void patchIp(final UnsafeBuffer f, final int field, final int value)
    {
        f.putShort(14 + field, (short)value, ByteOrder.BIG_ENDIAN);
        new Ipv4Flyweight().wrap(f, 14).updateChecksum();
    }

    private static void patchIpByte(final UnsafeBuffer f, final int field, final int value)
    {
        f.putByte(14 + field, (byte)value);
        new Ipv4Flyweight().wrap(f, 14).updateChecksum();
    }

    /** Make the outer UDP datagram {@code udpLength} bytes long (IPv4 and UDP lengths consistent, checksum off). */
    private static void shortenUdp(final UnsafeBuffer f, final int udpLength)
    {
        f.putShort(34 + 4, (short)udpLength, ByteOrder.BIG_ENDIAN);
        f.putShort(34 + 6, (short)0);
        patchIp(f, 2, 20 + udpLength);
    }

    private static void expectDrop(final VxlanDecapsulator decap, final byte[] frame, final io.dpbench.packet.DropReason reason)
    {
        final long before = decap.drops(reason);
        assertThat(decap.decapsulate(new UnsafeBuffer(frame), 0, frame.length)).as(reason.label()).isEqualTo(-1);
        assertThat(decap.drops(reason)).as(reason.label() + " counted").isEqualTo(before + 1);
    }
}
