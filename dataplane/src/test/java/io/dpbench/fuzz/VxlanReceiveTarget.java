package io.dpbench.fuzz;

import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The VXLAN receive path (what {@code DecapStage} does with a received datagram): {@link VxlanDecapsulator}
 * decapsulates it or drops it with exactly one counted reason; a decapsulated inner frame lies inside the datagram and
 * then gets exactly one verdict from {@link PacketParser}, read from a buffer of exactly the inner frame's length.
 * The first input byte is a mode: bit 0 rewrites the outer IPv4 and UDP checksums after mutation, bit 1 the inner
 * frame's checksums, bit 2 zeroes the outer UDP checksum (vxlan devices with {@code noudpcsum}).
 */
public final class VxlanReceiveTarget implements FuzzTarget
{
    private static final VxlanReceiveTarget INSTANCE = new VxlanReceiveTarget();

    private final VxlanDecapsulator decapsulator = new VxlanDecapsulator(VxlanConfig.flannel());
    private final PacketParser parser = new PacketParser(true);
    private final ParsedPacket parsed = new ParsedPacket();
    private final UnsafeBuffer datagram = new UnsafeBuffer(new byte[0]);
    private final UnsafeBuffer inner = new UnsafeBuffer(new byte[0]);

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "vxlan-receive";
    }

    @Override
    public void test(final byte[] input)
    {
        if (input.length == 0)
        {
            return;
        }
        final int mode = input[0];
        final byte[] bytes = java.util.Arrays.copyOfRange(input, 1, input.length);
        datagram.wrap(bytes);
        if ((mode & 2) != 0)
        {
            fixInner(bytes);
        }
        if ((mode & 4) != 0)
        {
            zeroOuterUdpChecksum(bytes);
        }
        if ((mode & 1) != 0)
        {
            ChecksumFixer.fixAll(datagram, 0, bytes.length);
            if ((mode & 4) != 0)
            {
                zeroOuterUdpChecksum(bytes);
            }
        }
        final long drops = decapsulator.dropsTotal();
        final long decapsulated = decapsulator.decapsulated();
        final int at = decapsulator.decapsulate(datagram, 0, bytes.length);
        if (at < 0)
        {
            if (decapsulator.dropsTotal() != drops + 1 || decapsulator.decapsulated() != decapsulated)
            {
                throw new PropertyViolation("a drop counted " + (decapsulator.dropsTotal() - drops) + " reasons");
            }
            return;
        }
        final int length = decapsulator.innerLength();
        if (decapsulator.decapsulated() != decapsulated + 1 || decapsulator.dropsTotal() != drops)
        {
            throw new PropertyViolation("a decapsulation not counted once");
        }
        if (length < 14 || at + length > bytes.length)
        {
            throw new PropertyViolation("inner frame at " + at + "+" + length + " outside the " + bytes.length
                + "-byte datagram");
        }
        inner.wrap(bytes, at, length);
        FrameTarget.checkOneVerdict(parser, inner, length, parsed);
    }

    /** The inner frame of a well-formed outer header: where the seeds put it (14 + 20 + 8 + 8 bytes in). */
    private void fixInner(final byte[] bytes)
    {
        final int at = 50;
        if (bytes.length > at)
        {
            inner.wrap(bytes, at, bytes.length - at);
            ChecksumFixer.fixAll(inner, 0, bytes.length - at);
        }
    }

    private void zeroOuterUdpChecksum(final byte[] bytes)
    {
        final int ip = io.dpbench.packet.EthernetFlyweight.ipv4Offset(datagram, 0, bytes.length);
        if (ip >= 0 && ip + 20 <= bytes.length)
        {
            final int udp = ip + (bytes[ip] & 0x0F) * 4;
            if (udp + 8 <= bytes.length)
            {
                bytes[udp + 6] = 0;
                bytes[udp + 7] = 0;
            }
        }
    }
}
