package io.dpbench.pipeline;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.TcpFlyweight;
import io.dpbench.packet.Verdict;
import io.dpbench.vxlan.VxlanConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * rx marks a frame's inner L4 checksum good (what lets encapsulation sum the headers only) when it is, and only for
 * a node that computes outer UDP checksums: in wire mode the kernel's socket writes them, and rx checks nothing.
 */
class RxParseChecksumTest
{
    @Test
    void marksAGoodL4ChecksumOnlyWhereTheNodeComputesOuterChecksums()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[256]);
        final int length = new FrameBuilder().addresses(Ipv4Address.parse("10.244.0.9"), Ipv4Address.parse("10.96.0.10"))
            .tcp(40000, 80, TcpFlyweight.ACK).payload(new byte[41], 41).build(frame, 0);

        final RxParse frameMode = new RxParse(0, VxlanConfig.flannel());
        assertThat(frameMode.parse(frame, 0, length)).isEqualTo(Verdict.OK);
        assertThat(frameMode.packet.l4ChecksumVerified).isTrue();

        final RxParse wireMode = new RxParse(0, VxlanConfig.flannel().withUdpChecksum(false));
        assertThat(wireMode.parse(frame, 0, length)).isEqualTo(Verdict.OK);
        assertThat(wireMode.packet.l4ChecksumVerified).isFalse();

        frame.putByte(length - 1, (byte)(frame.getByte(length - 1) ^ 0x5A)); // a payload byte changed
        assertThat(frameMode.parse(frame, 0, length)).isEqualTo(Verdict.OK); // rx does not drop on it
        assertThat(frameMode.packet.l4ChecksumVerified).isFalse();
    }
}
