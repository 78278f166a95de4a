package io.dpbench.pipeline;

import io.dpbench.packet.Verdict;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.vxlan.OverlayTopology;

import java.nio.ByteOrder;

/**
 * The route lookup: a frame whose IPv4 destination lies in another node's pod CIDR gets that node's VTEP (flannel's
 * route via flannel.1 and its FDB/ARP entries); anything else (this node's pods, outside the overlay) stays local.
 */
public final class OverlayRouteStage implements Stage
{
    private final OverlayTopology topology;

    public OverlayRouteStage(final OverlayTopology topology)
    {
        this.topology = topology;
    }

    @Override
    public String name()
    {
        return "route";
    }

    @Override
    public void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            if (batch.live(i))
            {
                if (batch.verdict(i) == Verdict.OK)
                {
                    batch.nextHop(i, topology.nodeFor(batch.parsed(i).destinationAddress)); // as NAT left it
                    continue;
                }
                final int offset = batch.offset(i);
                final int ip = EthernetFlyweight.ipv4Offset(batch.buffer(i), offset, batch.length(i));
                batch.nextHop(i, ip < 0 || ip + 20 > offset + batch.length(i) ? PacketBatch.LOCAL
                    : topology.nodeFor(batch.buffer(i).getInt(ip + 16, ByteOrder.BIG_ENDIAN)));
            }
        }
    }
}
