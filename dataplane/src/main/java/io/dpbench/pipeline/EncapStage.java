package io.dpbench.pipeline;

import io.dpbench.packet.DropReason;

import io.dpbench.packet.Verdict;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;

import io.dpbench.vxlan.OverlayForwarder;
import org.agrona.MutableDirectBuffer;

/**
 * tx side of the vxlan device for frames the route stage sent to a remote VTEP: TTL, MTU (ICMP fragmentation
 * needed, or fragments), encapsulation in place in the slot's headroom; what leaves goes to the output at once,
 * encapsulated frames as {@link FrameOutput#encapsulated} (the batch's next hop says where to) and ICMP errors as
 * plain frames. The forwarder counts what it did and why it dropped.
 */
public final class EncapStage implements Stage
{
    private final OverlayForwarder forwarder;
    private final OverlayTopology topology;
    private final FrameOutput output;
    /** The forwarder's frames to the output, each as what it is (encapsulated for the next hop, or an ICMP error). */
    private final OverlayForwarder.FrameSink sink = new OverlayForwarder.FrameSink()
    {
        @Override
        public void frame(final MutableDirectBuffer buffer, final int offset, final int length)
        {
            output.encapsulated(batch, index, buffer, offset, length);
        }

        @Override
        public void icmpError(final MutableDirectBuffer buffer, final int offset, final int length)
        {
            output.frame(batch, index, buffer, offset, length); // back to the sender, not over the overlay
        }
    };
    /** The frame being forwarded, for the output (its fragments or ICMP error come from it). */
    private PacketBatch batch;
    private int index;

    public EncapStage(final OverlayForwarder forwarder, final OverlayTopology topology, final FrameOutput output)
    {
        this.forwarder = forwarder;
        this.topology = topology;
        this.output = output;
    }

    @Override
    public String name()
    {
        return "encap";
    }

    @Override
    public java.util.List<DropReason> dropReasons()
    {
        // route gives a next hop to IPv4 frames only
        final java.util.List<DropReason> reasons = new java.util.ArrayList<>(DropReason.of(DropReason.Where.FORWARD));
        reasons.remove(DropReason.FORWARD_NOT_IPV4);
        return reasons;
    }

    @Override
    public void process(final PacketBatch batch)
    {
        this.batch = batch;
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            if (batch.live(i) && batch.nextHop(i) != PacketBatch.LOCAL)
            {
                index = i;
                final RemoteVtep remote = topology.remote(batch.nextHop(i));
                final int frames = batch.verdict(i) == Verdict.OK ? forwarder.forward(batch.parsed(i), remote, sink)
                    : forwarder.forward(batch.buffer(i), batch.offset(i), batch.length(i), remote, sink);
                if (frames == 0)
                {
                    batch.drop(i, forwarder.lastDrop());
                }
                else
                {
                    batch.sent(i);
                }
            }
        }
        this.batch = null;
    }

    public OverlayForwarder forwarder()
    {
        return forwarder;
    }
}
