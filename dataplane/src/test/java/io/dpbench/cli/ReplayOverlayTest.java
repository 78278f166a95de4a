package io.dpbench.cli;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** replay --nodes K: packets NATed to pods on other nodes leave encapsulated to that node's VTEP, VXLAN arriving is decapsulated. */
class ReplayOverlayTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();

    @Test
    void flowsToRemoteBackendsLeaveEncapsulatedToTheBackendsNode() throws Exception
    {
        final Path in = dir.resolve("in.pcap");
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        try (PcapWriter writer = PcapWriter.create(in))
        {
            for (int i = 0; i < 400; i++)
            {
                final int length = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.5") + i % 50,
                    Ipv4Address.parse("10.96.0.1") + i % 100).tcp(40000 + i, 80, 0x02).build(b, 0);
                writer.write(b, 0, length, i * 1_000_000L);
            }
        }
        final Path out = dir.resolve("out.pcap");
        assertThat(cli.run("replay", "--mode", "ipvs", "--scheduler", "mh", "--services", "100", "--endpoints", "4",
            "--nodes", "4", "--in", in.toString(), "--out", out.toString(), "--json")).as(cli.err.toString()).isZero();
        assertThat(cli.out.toString()).contains("\"packets_out\":400").contains("\"frag_needed\":0");

        final OverlayTopology topology = OverlayTopology.generate(4);
        final VxlanDecapsulator decap = new VxlanDecapsulator(VxlanConfig.flannel());
        final int[] perNode = new int[4];
        try (PcapReader reader = PcapReader.open(out))
        {
            while (reader.next())
            {
                final MutableDirectBuffer f = reader.frame();
                final boolean vxlan = (f.getByte(14 + 9) & 0xFF) == 17
                    && (f.getShort(36, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 8472;
                if (vxlan)
                {
                    final int node = topology.nodeOfAddress(f.getInt(14 + 16, ByteOrder.BIG_ENDIAN));
                    assertThat(node).as("outer destination is a remote node").isBetween(1, 3);
                    final int inner = decap.decapsulate(f, 0, reader.frameLength());
                    assertThat(inner).isPositive();
                    final int backend = f.getInt(inner + 14 + 16, ByteOrder.BIG_ENDIAN);
                    assertThat((backend - OverlayTopology.POD_NETWORK) >>> 8).as("backend %s on node %d's /24",
                        Ipv4Address.toString(backend), node).isEqualTo(node);
                    assertThat(f.getByte(inner + 14 + 8)).as("inner TTL decremented").isEqualTo((byte)63);
                    perNode[node]++;
                }
                else
                {
                    final int backend = f.getInt(14 + 16, ByteOrder.BIG_ENDIAN);
                    assertThat((backend - OverlayTopology.POD_NETWORK) >>> 8).as("a plain frame goes to a local pod").isZero();
                    perNode[0]++;
                }
            }
        }
        assertThat(perNode[0] + perNode[1] + perNode[2] + perNode[3]).isEqualTo(400);
        for (int k = 0; k < 4; k++)
        {
            assertThat(perNode[k]).as("flows to node %d", k).isPositive();
        }
        assertThat(cli.out.toString()).contains("\"not_encapsulated\":" + perNode[0])
            .contains("\"encapsulated\":" + (perNode[1] + perNode[2] + perNode[3]));
    }

    @Test
    void vxlanArrivingForThisNodeIsDecapsulatedAndDelivered() throws Exception
    {
        final OverlayTopology topology = OverlayTopology.generate(3);
        final RemoteVtep us = new RemoteVtep(topology.local().address(), topology.local().underlayMac(),
            topology.local().vtepMac());
        final LocalVtep node2 = new LocalVtep(topology.remote(2).address(), topology.remote(2).underlayMac(),
            topology.remote(2).vtepMac(), Ipv4Address.parse("10.244.2.1"));
        final VxlanEncapsulator encap = new VxlanEncapsulator(VxlanConfig.flannel(), node2);
        final UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
        final int innerLength = new FrameBuilder().addresses(Ipv4Address.parse("10.244.2.9"), Ipv4Address.parse("10.244.0.7"))
            .tcp(51000, 8080, 0x02).build(b, 64);
        final int frame = encap.encapsulate(b, 64 + 14, innerLength - 14, us, 40000);
        final Path in = dir.resolve("vx.pcap");
        try (PcapWriter writer = PcapWriter.create(in))
        {
            writer.write(b, frame, innerLength + VxlanConfig.OVERHEAD, 0);
        }
        final Path out = dir.resolve("o.pcap");
        assertThat(cli.run("replay", "--mode", "iptables", "--services", "10", "--nodes", "3", "--in", in.toString(),
            "--out", out.toString(), "--json")).as(cli.err.toString()).isZero();
        assertThat(cli.out.toString()).contains("\"decapsulated\":1").contains("\"not_encapsulated\":1");
        try (PcapReader reader = PcapReader.open(out))
        {
            assertThat(reader.next()).isTrue();
            assertThat(reader.frameLength()).as("the inner frame, delivered").isEqualTo(innerLength);
            assertThat(reader.frame().getInt(14 + 16, ByteOrder.BIG_ENDIAN)).isEqualTo(Ipv4Address.parse("10.244.0.7"));
            assertThat(reader.next()).isFalse();
        }
    }

    @Test
    void tooFewNodesForThePodsIsBadUsage()
    {
        assertThat(cli.run("replay", "--mode", "ipvs", "--services", "1000", "--endpoints", "4", "--nodes", "2",
            "--in", "x", "--out", "y")).isEqualTo(2);
        assertThat(cli.err.toString()).contains("--nodes 2 is too few for 4000 pods");
    }
}
