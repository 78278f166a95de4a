package io.dpbench.pipeline;

import io.dpbench.packet.DropReason;

import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;

import io.dpbench.vxlan.VxlanDecapsulator;

/**
 * rx side of the vxlan device: a frame addressed to this node's VTEP (UDP to the VXLAN port at the node's underlay
 * address) is validated and replaced by its inner frame; one that fails is dropped, the decapsulator counting why.
 * Other frames pass untouched.
 */
public final class DecapStage implements Stage
{
    private final VxlanDecapsulator decapsulator;
    private final int localAddress;
    private final PacketParser parser = new PacketParser(false);

    public DecapStage(final VxlanDecapsulator decapsulator, final int localAddress)
    {
        this.decapsulator = decapsulator;
        this.localAddress = localAddress;
    }

    @Override
    public String name()
    {
        return "decap";
    }

    @Override
    public java.util.List<DropReason> dropReasons()
    {
        // the decapsulator's checks that addressedToDevice has already passed cannot fail here
        final java.util.List<DropReason> reasons = new java.util.ArrayList<>(DropReason.of(DropReason.Where.DECAP));
        reasons.removeAll(java.util.List.of(DropReason.DECAP_TRUNCATED_OUTER_ETHERNET, DropReason.DECAP_NOT_IPV4,
            DropReason.DECAP_TRUNCATED_OUTER_IPV4, DropReason.DECAP_NOT_UDP, DropReason.DECAP_NOT_VXLAN_PORT));
        return reasons;
    }

    @Override
    public void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            // rx's parse already told whether the frame is VXLAN for this node; without one, look
            if (batch.live(i) && (batch.verdict(i) != null ? batch.tunnelled(i)
                : decapsulator.addressedToDevice(batch.buffer(i), batch.offset(i), batch.length(i), localAddress)))
            {
                final int inner = decapsulator.decapsulate(batch.buffer(i), batch.offset(i), batch.length(i));
                if (inner < 0)
                {
                    batch.drop(i, decapsulator.lastDrop());
                }
                else
                {
                    final int innerLength = decapsulator.innerLength();
                    batch.moved(i, inner, innerLength);
                    final ParsedPacket p = batch.parsed(i);
                    if (batch.verdict(i) != null && (p.frameOffset != inner || p.frameLength != innerLength))
                    {
                        // rx parsed the inner frame up to the datagram's end; the UDP length ends it elsewhere
                        batch.reparsed(i, parser.inspect(batch.buffer(i), inner, innerLength, p));
                    }
                }
            }
        }
    }

    /** Inner frames parsed again here (their window other than rx assumed; tests count parses per frame). */
    long parses()
    {
        return parser.parses();
    }

    public VxlanDecapsulator decapsulator()
    {
        return decapsulator;
    }
}
