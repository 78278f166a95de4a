package io.dpbench.nftables;

import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.control.ClusterSync;
import io.dpbench.iptables.KubeProxyGoldenTestAccess;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real difference between the modes, as kube-proxy's sources have it: iptables mode drops what conntrack marks
 * INVALID (KUBE-FORWARD's {@code --ctstate INVALID -j DROP}); nftables mode has no such rule (its expected rulesets hold
 * none), so the packet goes on, untranslated (the kernel does not NAT an INVALID packet).
 */
class NftInvalidPassTest
{
    @ParameterizedTest
    @CsvSource({"iptables, true", "ipvs, true", "nftables, false"})
    void aTcpPacketConntrackMarksInvalid(final String mode, final boolean dropped)
    {
        final ClusterSync sync = new ClusterSync(mode, "rr", 1, KubeProxyGoldenTestAccess.testNode(),
            KubeProxyGoldenTestAccess.overallCluster(), 1);
        try (ConntrackTable table = ConntrackTable.inMemory(1024))
        {
            final ConntrackNatEngine engine = new ConntrackNatEngine(sync.selector(0), table, ConntrackTimeouts.kubernetesNode());
            // a FIN of a connection this node never saw, to svc1's ClusterIP: dpbench's tracker marks it INVALID
            final FrameBuilder fin = new FrameBuilder().addresses(Ipv4Address.parse("10.0.0.2"), Ipv4Address.parse("172.30.0.41"))
                .tcp(40000, 80, 0x01);
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[fin.frameLength()]);
            fin.build(frame, 0);
            final byte[] before = frame.byteArray().clone();
            final boolean passed = engine.process(frame, 0, fin.frameLength(), 1_000_000_000L);
            assertThat(passed).isEqualTo(!dropped);
            assertThat(engine.drops(DropReason.CONNTRACK_INVALID)).isEqualTo(dropped ? 1 : 0);
            assertThat(engine.invalidPassed()).isEqualTo(dropped ? 0 : 1);
            assertThat(table.primaryCount()).as("no connection made").isZero();
            if (!dropped)
            {
                assertThat(frame.byteArray()).as("untranslated").isEqualTo(before);
            }
        }
    }
}
