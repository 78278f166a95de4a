package io.dpbench.node;

import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.sched.Schedulers;
import io.dpbench.pipeline.PacketBatch;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.pipeline.StageChain;
import io.dpbench.vxlan.Encapsulation;
import io.dpbench.vxlan.VxlanConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every size and setting a node has, in one place: the proxy mode and its scheduler and seed, the workers and rx
 * sockets, ring and batch sizes, the frame size and headroom, the overlay (nodes, the VXLAN device's port, VNI and
 * MTU, and what its encapsulation writes: whole frames, or the UDP payload for a UDP socket), the stage chain, the
 * conntrack table (size, file, per-worker cache) and kube-proxy's own node settings.
 * Built by {@link Builder}, which checks every value once and reports every bad one, one line each.
 */
public record NodeConfig(
    String mode,
    String scheduler,
    long seed,
    int workers,
    int sockets,
    int ringBatches,
    int maxFrame,
    Pipeline.Overflow overflow,
    Pipeline.Idle idle,
    int overlayNodes,
    VxlanConfig vxlan,
    Encapsulation encapsulation,
    String stages,
    int maxConntrack,
    Path conntrackFile,
    int cacheSlots,
    io.dpbench.model.NodeConfig kubeProxy,
    io.dpbench.nftables.NftablesSettings nftables)
{
    /** Frames per batch (fixed: the batch's columns are sized by it). */
    public static final int BATCH = PacketBatch.CAPACITY;
    /** Bytes before each frame in its slot, for encapsulation in place (fixed). */
    public static final int HEADROOM = PacketBatch.HEADROOM;

    public static Builder builder()
    {
        return new Builder();
    }

    /** The stage chain the workers run: {@link #stages} when given, else the overlay's or the plain one. */
    public String stageChain()
    {
        return stages != null ? stages : overlayNodes > 0 ? StageChain.OVERLAY : StageChain.PLAIN;
    }

    /** Whether the workers decapsulate (so rx steers and parses VXLAN for this node by its inner frame). */
    public boolean decapsulates()
    {
        for (final String s : stageChain().split(","))
        {
            if (s.trim().equals("decap"))
            {
                return true;
            }
        }
        return false;
    }

    /** Settings with their defaults; {@link #build} checks them all. */
    public static final class Builder
    {
        private String mode = "iptables";
        private String scheduler = "rr";
        private long seed = 1;
        private int workers = 1;
        private Integer sockets;
        private int ringBatches = Pipeline.DEFAULT_RING_BATCHES;
        private int maxFrame = PacketBatch.MAX_FRAME;
        private Pipeline.Overflow overflow = Pipeline.Overflow.WAIT;
        private Pipeline.Idle idle = Pipeline.Idle.AUTO;
        private int overlayNodes;
        private VxlanConfig vxlan = VxlanConfig.flannel();
        private Encapsulation encapsulation = Encapsulation.FRAME;
        private String stages;
        private Integer maxConntrack;
        private Path conntrackFile;
        private int cacheSlots = ConntrackNatEngine.DEFAULT_CACHE_SLOTS;
        private io.dpbench.model.NodeConfig kubeProxy = io.dpbench.model.NodeConfig.defaults();
        private io.dpbench.nftables.NftablesSettings nftables;

        public Builder mode(final String value)
        {
            mode = value;
            return this;
        }

        public Builder scheduler(final String value)
        {
            scheduler = value;
            return this;
        }

        public Builder seed(final long value)
        {
            seed = value;
            return this;
        }

        public Builder workers(final int value)
        {
            workers = value;
            return this;
        }

        /** rx producers (sockets in wire mode); default one per worker. */
        public Builder sockets(final int value)
        {
            sockets = value;
            return this;
        }

        public Builder ringBatches(final int value)
        {
            ringBatches = value;
            return this;
        }

        public Builder maxFrame(final int value)
        {
            maxFrame = value;
            return this;
        }

        public Builder overflow(final Pipeline.Overflow value)
        {
            overflow = value;
            return this;
        }

        public Builder idle(final Pipeline.Idle value)
        {
            idle = value;
            return this;
        }

        /** K nodes of a flannel-style overlay (this node is node 0); 0: no overlay. */
        public Builder overlayNodes(final int value)
        {
            overlayNodes = value;
            return this;
        }

        public Builder vxlan(final VxlanConfig value)
        {
            vxlan = value;
            return this;
        }

        /** What the encap stage writes: whole frames (default), or the UDP payload for a UDP socket's output. */
        public Builder encapsulation(final Encapsulation value)
        {
            encapsulation = value;
            return this;
        }

        public Builder stages(final String value)
        {
            stages = value;
            return this;
        }

        /** nf_conntrack_max; default kube-proxy's max(131072, 32768 x cores). */
        public Builder maxConntrack(final Integer value)
        {
            maxConntrack = value;
            return this;
        }

        public Builder conntrackFile(final Path value)
        {
            conntrackFile = value;
            return this;
        }

        public Builder cacheSlots(final int value)
        {
            cacheSlots = value;
            return this;
        }

        public Builder kubeProxy(final io.dpbench.model.NodeConfig value)
        {
            kubeProxy = value;
            return this;
        }

        /** nftables mode's own settings (default: kube-proxy's for {@link #kubeProxy}, see NftablesSettings#defaults). */
        public Builder nftables(final io.dpbench.nftables.NftablesSettings value)
        {
            nftables = value;
            return this;
        }

        /** Every bad value, one message each (empty when all are good). */
        public List<String> problems()
        {
            final List<String> problems = new ArrayList<>();
            if (!"iptables".equals(mode) && !"ipvs".equals(mode) && !"nftables".equals(mode))
            {
                problems.add("--mode: expected iptables, ipvs or nftables, got '" + mode + "'");
            }
            else if ("ipvs".equals(mode))
            {
                try
                {
                    Schedulers.create(scheduler, SchedulerFlags.NONE);
                }
                catch (final IllegalArgumentException ex)
                {
                    problems.add("--scheduler: " + ex.getMessage());
                }
            }
            if (workers < 1 || workers > 64)
            {
                problems.add("--workers must be between 1 and 64, got " + workers);
            }
            final int rx = sockets != null ? sockets : workers;
            if (rx < 1 || rx > 64)
            {
                problems.add("--sockets must be between 1 and 64, got " + rx);
            }
            if (ringBatches < 1 || ringBatches > 1 << 16)
            {
                problems.add("ring batches must be between 1 and 65536, got " + ringBatches);
            }
            if (maxFrame < 64 || maxFrame > PacketBatch.LARGEST_FRAME)
            {
                problems.add("the largest frame must be between 64 and " + PacketBatch.LARGEST_FRAME + " bytes, got "
                    + maxFrame);
            }
            if (overlayNodes < 0 || overlayNodes > 245)
            {
                problems.add("--nodes must be between 0 (no overlay) and 245, got " + overlayNodes);
            }
            if (cacheSlots < 16)
            {
                problems.add("the conntrack cache needs at least 16 slots, got " + cacheSlots);
            }
            final int max = maxConntrack();
            if (max < 1)
            {
                problems.add("--max-conntrack must be at least 1");
            }
            final String chain = stages != null ? stages : overlayNodes > 0 ? StageChain.OVERLAY : StageChain.PLAIN;
            try
            {
                StageChain.check(chain, overlayNodes > 0);
            }
            catch (final IllegalArgumentException ex)
            {
                problems.add("--stages: " + ex.getMessage());
            }
            return problems;
        }

        private int maxConntrack()
        {
            return maxConntrack != null ? maxConntrack
                : ConntrackTimeouts.kubeProxyConntrackMax(Runtime.getRuntime().availableProcessors());
        }

        /** The configuration; IllegalArgumentException listing every bad value, one per line, otherwise. */
        public NodeConfig build()
        {
            final List<String> problems = problems();
            if (!problems.isEmpty())
            {
                throw new IllegalArgumentException(String.join("\n", problems));
            }
            return new NodeConfig(mode, scheduler, seed, workers, sockets != null ? sockets : workers, ringBatches,
                maxFrame, overflow, idle, overlayNodes, vxlan, encapsulation, stages, maxConntrack(), conntrackFile,
                cacheSlots, kubeProxy, nftables != null ? nftables : io.dpbench.nftables.NftablesSettings.defaults(kubeProxy));
        }
    }
}
