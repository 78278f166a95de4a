package io.dpbench.loadgen.workload;

/**
 * A load generator's workload: the cluster (Services N, endpoints E, seed, nodes K, mix: the same seeded cluster the
 * dataplane builds), concurrent flows F, the share of packets that open a new flow, Service popularity (Zipf
 * exponent, 0 = uniform), frame sizes (a fixed size or IMIX) and the share of flows that are TCP (to TCP Service
 * ports; the rest to UDP ones).
 */
public record WorkloadSpec(int services, int endpoints, long seed, int nodes, int flows, double newFlowShare,
    double zipf, int frameSize, double tcpShare, io.dpbench.model.SyntheticCluster.Mix mix)
{
    /** The realistic mix (it has UDP Services). */
    public WorkloadSpec(final int services, final int endpoints, final long seed, final int nodes, final int flows,
        final double newFlowShare, final double zipf, final int frameSize, final double tcpShare)
    {
        this(services, endpoints, seed, nodes, flows, newFlowShare, zipf, frameSize, tcpShare,
            io.dpbench.model.SyntheticCluster.Mix.REALISTIC);
    }

    /** {@link #frameSize} value meaning IMIX: 64, 594 and 1464-byte frames, 7:4:1 (1464: the overlay MTU's frame). */
    public static final int IMIX = 0;

    public WorkloadSpec
    {
        if (services < 1)
        {
            throw new IllegalArgumentException("--services must be at least 1, got " + services);
        }
        if (endpoints < 1)
        {
            throw new IllegalArgumentException("--endpoints must be at least 1, got " + endpoints);
        }
        if (flows < 1 || flows > 1_000_000)
        {
            throw new IllegalArgumentException("--flows must be between 1 and 1000000, got " + flows);
        }
        if (!(newFlowShare > 0 && newFlowShare <= 1))
        {
            throw new IllegalArgumentException("--new-flow-share must be in (0, 1], got " + newFlowShare);
        }
        if (!(zipf >= 0) || Double.isInfinite(zipf))
        {
            throw new IllegalArgumentException("--zipf must be 0 (uniform) or more, got " + zipf);
        }
        if (frameSize != IMIX && (frameSize < 80 || frameSize > 1464))
        {
            throw new IllegalArgumentException("--size must be 'imix' or 80..1464 bytes (the overlay MTU's frame), got " + frameSize);
        }
        if (!(tcpShare >= 0 && tcpShare <= 1))
        {
            throw new IllegalArgumentException("--tcp-share must be in [0, 1], got " + tcpShare);
        }
        if (nodes < 1)
        {
            throw new IllegalArgumentException("--nodes must be at least 1, got " + nodes);
        }
    }

    /** Request/response exchanges a flow makes before it closes and a new flow takes its place. */
    public int exchangesPerFlow()
    {
        return Math.max(1, (int)Math.round(1 / newFlowShare));
    }
}
