package io.dpbench.pipeline;

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
    public void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            if (batch.live(i)
                && decapsulator.addressedToDevice(batch.buffer(i), batch.offset(i), batch.length(i), localAddress))
            {
                final int inner = decapsulator.decapsulate(batch.buffer(i), batch.offset(i), batch.length(i));
                if (inner < 0)
                {
                    batch.drop(i);
                }
                else
                {
                    batch.moved(i, inner, decapsulator.innerLength());
                }
            }
        }
    }

    public VxlanDecapsulator decapsulator()
    {
        return decapsulator;
    }
}
