package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;

import io.dpbench.packet.DropReason;

/**
 * Validation, conntrack, service selection on a miss and NAT, frame by frame through a worker's {@link
 * ConntrackNatEngine}: these share the connection record a packet finds or creates, so they stay one stage (a
 * split would hand the record from stage to stage without saving any work). Frames it drops are counted there.
 */
public final class ConntrackNatStage implements Stage
{
    private final ConntrackNatEngine dataplane;

    public ConntrackNatStage(final ConntrackNatEngine dataplane)
    {
        this.dataplane = dataplane;
    }

    @Override
    public String name()
    {
        return "conntrack";
    }

    @Override
    public java.util.List<DropReason> dropReasons()
    {
        // the node's parses do not verify L4 checksums (nf_conntrack_checksum off, as NICs validate them)
        final java.util.List<DropReason> reasons = new java.util.ArrayList<>(DropReason.of(DropReason.Where.PARSE));
        reasons.remove(DropReason.BAD_L4_CHECKSUM);
        reasons.addAll(DropReason.of(DropReason.Where.CONNTRACK));
        return reasons;
    }

    @Override
    public void process(final PacketBatch batch)
    {
        final int n = batch.size();
        for (int i = 0; i < n; i++)
        {
            if (batch.live(i))
            {
                final io.dpbench.packet.Verdict verdict = batch.verdict(i);
                final boolean passed = verdict != null
                    ? dataplane.process(batch.parsed(i), verdict, batch.length(i), batch.timestamp(i))
                    : dataplane.process(batch.buffer(i), batch.offset(i), batch.length(i), batch.timestamp(i));
                if (!passed)
                {
                    batch.drop(i, dataplane.lastDrop());
                }
            }
        }
    }

    public ConntrackNatEngine dataplane()
    {
        return dataplane;
    }
}
