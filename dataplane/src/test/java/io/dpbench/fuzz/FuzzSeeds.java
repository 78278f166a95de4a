package io.dpbench.fuzz;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.VxlanFlyweight;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes the binary seeds of the {@code frame} and {@code vxlan-receive} corpora (valid frames of every kind the
 * parser accepts, and flannel VXLAN datagrams carrying them), each with its mode byte first. Run once; the output is
 * committed: {@code java @jvm.flags -cp ... io.dpbench.fuzz.FuzzSeeds dataplane/src/test/resources/fuzz}.
 */
public final class FuzzSeeds
{
    private FuzzSeeds()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final Path root = Path.of(args[0]);
        final FrameBuilder[] frames = {
            base().tcp(40000, 80, 0x02),
            base().tcp(40001, 443, 0x18).tcpOptions(new byte[]{2, 4, 5, (byte)0xb4, 1, 1, 4, 2}).payload(new byte[24], 24),
            base().udp(5353, 53).payload(new byte[12], 12),
            base().udp(5353, 53).udpChecksum(false).payload(new byte[5], 5),
            base().icmpEcho(8, 77, 1).payload(new byte[8], 8),
            base().vlan(1, 100).tcp(40002, 8080, 0x10),
            base().vlan(2, 200).udp(1234, 8472).payload(new byte[16], 16),
            base().ipOptions(new byte[]{1, 1, 1, 0}).tcp(40003, 80, 0x02),
            base().flagsAndFragment(0x2000).udp(1000, 2000).payload(new byte[32], 32),
        };
        final Path frameDir = Files.createDirectories(root.resolve("frame"));
        final Path vxlanDir = Files.createDirectories(root.resolve("vxlan-receive"));
        for (int i = 0; i < frames.length; i++)
        {
            final byte[] frame = bytes(frames[i]);
            final int mode = i % 4;
            Files.write(frameDir.resolve("seed-" + i + "-mode" + mode), withMode(mode, frame));
            final byte[] header = new byte[VxlanFlyweight.HEADER_LENGTH];
            header[0] = 0x08;
            header[6] = 1; // VNI 1, flannel's
            final byte[] payload = new byte[header.length + frame.length];
            System.arraycopy(header, 0, payload, 0, header.length);
            System.arraycopy(frame, 0, payload, header.length, frame.length);
            final FrameBuilder outer = new FrameBuilder()
                .addresses(Ipv4Address.parse("192.168.0.11"), Ipv4Address.parse("192.168.0.10"))
                .udp(32768 + i * 997, VxlanFlyweight.LINUX_DEFAULT_PORT).udpChecksum(i % 3 != 0)
                .payload(payload, payload.length);
            Files.write(vxlanDir.resolve("seed-" + i + "-mode" + (i % 8)), withMode(i % 8, bytes(outer)));
        }
    }

    private static FrameBuilder base()
    {
        return new FrameBuilder().addresses(Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.96.0.10"));
    }

    private static byte[] bytes(final FrameBuilder builder)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[builder.frameLength()]);
        final int length = builder.build(buffer, 0);
        return Arrays.copyOf(buffer.byteArray(), length);
    }

    private static byte[] withMode(final int mode, final byte[] frame)
    {
        final byte[] out = new byte[frame.length + 1];
        out[0] = (byte)mode;
        System.arraycopy(frame, 0, out, 1, frame.length);
        return out;
    }
}
