package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/** Field accessors against hand-written wire bytes. */
class HeaderFlyweightTest
{
    @Test
    void ethernetMacsAndEtherType()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        final EthernetFlyweight eth = new EthernetFlyweight().wrap(b, 2)
            .destination(0x0A_1B_2C_3D_4E_5FL).source(0xFE_DC_BA_98_76_54L).outerEtherType(0x0800);
        assertThat(b.getByte(2)).isEqualTo((byte)0x0A);
        assertThat(b.getByte(7)).isEqualTo((byte)0x5F);
        assertThat(b.getByte(8)).isEqualTo((byte)0xFE);
        assertThat(eth.destination()).isEqualTo(0x0A_1B_2C_3D_4E_5FL);
        assertThat(eth.source()).isEqualTo(0xFE_DC_BA_98_76_54L);
        assertThat(eth.outerEtherType()).isEqualTo(0x0800);
        assertThat(EthernetFlyweight.macToString(eth.source())).isEqualTo("fe:dc:ba:98:76:54");
    }

    @Test
    void ipv4FieldsAreUnsignedAndBigEndian()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[60]);
        final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, 0).versionAndIhl(4, 6).tos(0xB8).totalLength(0xFFEE)
            .identification(0xABCD).flagsAndFragmentOffset(Ipv4Flyweight.FLAG_MORE_FRAGMENTS | 0x1234)
            .ttl(255).protocol(132).source(Ipv4Address.parse("192.168.255.1")).destination(Ipv4Address.parse("10.0.0.2"));
        assertThat(b.getByte(0)).isEqualTo((byte)0x46);
        assertThat(ip.version()).isEqualTo(4);
        assertThat(ip.headerLength()).isEqualTo(24);
        assertThat(ip.tos()).isEqualTo(0xB8);
        assertThat(ip.totalLength()).isEqualTo(0xFFEE);
        assertThat(ip.identification()).isEqualTo(0xABCD);
        assertThat(ip.moreFragments()).isTrue();
        assertThat(ip.dontFragment()).isFalse();
        assertThat(ip.fragmentOffset()).isEqualTo(0x1234);
        assertThat(ip.ttl()).isEqualTo(255);
        assertThat(ip.protocol()).isEqualTo(132);
        assertThat(b.getByte(12)).isEqualTo((byte)192);
        assertThat(Ipv4Address.toString(ip.source())).isEqualTo("192.168.255.1");
        assertThat(Ipv4Address.toString(ip.destination())).isEqualTo("10.0.0.2");
    }

    @Test
    void tcpFieldsAndFlags()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[40]);
        final TcpFlyweight tcp = new TcpFlyweight().wrap(b, 0).sourcePort(65535).destinationPort(443)
            .sequence(0xFFFF_FFF0L).acknowledgment(7).dataOffset(8).flags(TcpFlyweight.SYN | TcpFlyweight.ACK)
            .window(65535).urgentPointer(1);
        assertThat(tcp.sourcePort()).isEqualTo(65535);
        assertThat(tcp.destinationPort()).isEqualTo(443);
        assertThat(tcp.sequence()).isEqualTo(0xFFFF_FFF0L);
        assertThat(tcp.acknowledgment()).isEqualTo(7);
        assertThat(tcp.headerLength()).isEqualTo(32);
        assertThat(b.getByte(13)).isEqualTo((byte)0x12);
        assertThat(TcpFlyweight.flagsToString(tcp.flags())).isEqualTo("SA");
        assertThat(TcpFlyweight.flagsToString(0)).isEqualTo(".");
    }

    @Test
    void vxlanHeaderCarriesTheIFlagAndTheVni()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        b.setMemory(0, 8, (byte)0xFF);
        final VxlanFlyweight vxlan = new VxlanFlyweight().wrap(b, 0).set(0xABCDEF);
        // RFC 7348: flags 0x08, 24 reserved bits zero, VNI, 8 reserved bits zero
        assertThat(b.getInt(0, ByteOrder.BIG_ENDIAN)).isEqualTo(0x0800_0000);
        assertThat(b.getInt(4, ByteOrder.BIG_ENDIAN)).isEqualTo(0xABCD_EF00);
        assertThat(vxlan.vniValid()).isTrue();
        assertThat(vxlan.vni()).isEqualTo(0xABCDEF);
        b.putByte(0, (byte)0);
        assertThat(vxlan.vniValid()).isFalse();
    }

    @Test
    void addressTextIsCheckedStrictly()
    {
        assertThat(Ipv4Address.parse("0.0.0.0")).isZero();
        assertThat(Ipv4Address.parse("255.255.255.255")).isEqualTo(-1);
        for (final String bad : new String[]{"", "1.2.3", "1.2.3.4.5", "1..2.3", "256.1.1.1", "1.2.3.x", "1.2.3.4 "})
        {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipv4Address.parse(bad))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
        }
    }
}
