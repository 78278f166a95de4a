package io.dpbench.pipeline;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The one parse of a frame, made by rx where the frame arrived, before it is steered and handed to a worker: the
 * validating parser (without counting: the stage that acts on a verdict counts it) over the frame, or, for VXLAN
 * addressed to this node's VTEP when the workers decapsulate, over its inner frame (what steering and conntrack
 * look at; the decap stage still validates the outer headers and parses again only if the inner frame's window turns
 * out other than assumed here). Steering, conntrack, NAT, route and encap then read the parse from the batch.
 * One per rx thread; no allocation.
 */
final class RxParse
{
    private final PacketParser parser = new PacketParser(false);
    private final VxlanDecapsulator vxlan;
    /** This node's VTEP address when the workers decapsulate, else 0. */
    private final int localVtep;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    /** The last frame's parse, offsets relative to the frame's first byte. */
    final ParsedPacket packet = new ParsedPacket();
    /** Whether the last frame was VXLAN for this node. */
    boolean tunnelled;

    /**
     * Whether the node computes outer UDP checksums (its vxlan device's {@code udpcsum}); only then is rx's check of
     * the inner L4 checksum of use (wire mode: the kernel's socket writes the outer UDP header).
     */
    private final boolean checkL4;

    RxParse(final int localVtep, final VxlanConfig config)
    {
        this.localVtep = localVtep;
        this.vxlan = new VxlanDecapsulator(config);
        this.checkL4 = config.udpChecksum();
    }

    /** Parse {@code length} bytes at {@code offset}; offsets in {@link #packet} count from the frame's start. */
    Verdict parse(final DirectBuffer buffer, final int offset, final int length)
    {
        view.wrap(buffer, offset, length);
        return parse(length);
    }

    /** Parse {@code length} bytes at native {@code address}. */
    Verdict parse(final long address, final int length)
    {
        view.wrap(address, length);
        return parse(length);
    }

    private Verdict parse(final int length)
    {
        int start = 0;
        tunnelled = localVtep != 0 && vxlan.addressedToDevice(view, 0, length, localVtep);
        if (tunnelled)
        {
            final int outer = EthernetFlyweight.ipv4Offset(view, 0, length);
            start = Math.min(length, outer + ((view.getByte(outer) & 0x0F) << 2) + 8 + 8); // UDP and VXLAN headers
        }
        final Verdict verdict = parser.inspect(view, start, length - start, packet);
        // rx checks the L4 checksum as a NIC's receive offload would, while the frame is in this core's cache: the
        // worker's encapsulation then sums the headers only (never the payload, which it otherwise never reads)
        packet.l4ChecksumVerified = checkL4 && verdict == Verdict.OK && PacketParser.l4ChecksumGood(view, packet);
        return verdict;
    }

    long parses()
    {
        return parser.parses();
    }
}
