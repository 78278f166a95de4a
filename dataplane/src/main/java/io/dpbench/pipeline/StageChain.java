package io.dpbench.pipeline;

import io.dpbench.conntrack.ConntrackNatEngine;

import io.dpbench.vxlan.Encapsulation;
import io.dpbench.vxlan.OverlayForwarder;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;

import java.util.ArrayList;
import java.util.List;

/**
 * A worker's stages, assembled from a comma-separated list of names (configuration, not wiring): {@code decap}
 * ({@link DecapStage}), {@code conntrack} ({@link ConntrackNatStage}), {@code route} ({@link OverlayRouteStage}),
 * {@code encap} ({@link EncapStage}), {@code tx} ({@link TxStage}). The node's path is {@link #OVERLAY} with an overlay
 * and {@link #PLAIN} without. Each call builds new stage objects: one chain per worker, nothing shared.
 */
public final class StageChain
{
    public static final String PLAIN = "conntrack,tx";
    public static final String OVERLAY = "decap,conntrack,route,encap,tx";
    public static final List<String> NAMES = List.of("decap", "conntrack", "route", "encap", "tx");

    private final Stage[] stages;

    private StageChain(final Stage[] stages)
    {
        this.stages = stages;
    }

    /** A chain of the given stages, in order (stages of one's own, e.g. in tests and benchmarks). */
    public static StageChain of(final Stage... stages)
    {
        return new StageChain(stages.clone());
    }

    /**
     * Build the chain {@code spec} for one worker. {@code topology} may be null when no stage needs the overlay.
     * Throws IllegalArgumentException naming the problem: an unknown or repeated stage, an overlay stage without a
     * topology, encap without route before it, or a chain that does not end in tx (frames would vanish uncounted).
     */
    public static StageChain build(final String spec, final ConntrackNatEngine dataplane,
        final OverlayTopology topology, final FrameOutput output)
    {
        return build(spec, dataplane, topology, VxlanConfig.flannel(), output);
    }

    /**
     * Check a chain spec without building it: IllegalArgumentException naming the problem (see {@link #build}).
     * {@code overlay}: whether the node has an overlay topology.
     */
    public static void check(final String spec, final boolean overlay)
    {
        names(spec, overlay);
    }

    /** As {@link #build(String, ConntrackNatEngine, OverlayTopology, FrameOutput)}, with the vxlan device's settings. */
    public static StageChain build(final String spec, final ConntrackNatEngine dataplane,
        final OverlayTopology topology, final VxlanConfig vxlan, final FrameOutput output)
    {
        return build(spec, dataplane, topology, vxlan, Encapsulation.FRAME, output);
    }

    /**
     * As above, with what the encap stage writes: whole frames, or the UDP payload alone for an output that is a UDP
     * socket (wire mode).
     */
    public static StageChain build(final String spec, final ConntrackNatEngine dataplane,
        final OverlayTopology topology, final VxlanConfig vxlan, final Encapsulation encapsulation,
        final FrameOutput output)
    {
        final List<Stage> stages = new ArrayList<>();
        for (final String name : names(spec, topology != null))
        {
            switch (name)
            {
                case "decap" -> stages.add(new DecapStage(new VxlanDecapsulator(vxlan), topology.local().address()));
                case "conntrack" -> stages.add(new ConntrackNatStage(dataplane));
                case "route" -> stages.add(new OverlayRouteStage(topology));
                case "encap" -> stages.add(new EncapStage(new OverlayForwarder(
                    new VxlanEncapsulator(vxlan, topology.local(), encapsulation), topology.local()), topology,
                    output));
                default -> stages.add(new TxStage(output));
            }
        }
        return new StageChain(stages.toArray(new Stage[0]));
    }

    private static List<String> names(final String spec, final boolean overlay)
    {
        final List<String> seen = new ArrayList<>();
        for (final String raw : spec.split(","))
        {
            final String name = raw.trim();
            if (seen.contains(name))
            {
                throw new IllegalArgumentException("stage '" + name + "' appears twice in '" + spec + "'");
            }
            if (!NAMES.contains(name))
            {
                throw new IllegalArgumentException("unknown stage '" + name + "' in '" + spec + "' (known: "
                    + String.join(", ", NAMES) + ")");
            }
            if (!overlay && (name.equals("decap") || name.equals("route") || name.equals("encap")))
            {
                throw new IllegalArgumentException("stage '" + name + "' needs an overlay topology");
            }
            if (name.equals("encap") && !seen.contains("route"))
            {
                throw new IllegalArgumentException("stage 'encap' needs 'route' before it in '" + spec + "'");
            }
            seen.add(name);
        }
        if (!seen.get(seen.size() - 1).equals("tx"))
        {
            throw new IllegalArgumentException("the stage chain '" + spec + "' must end in tx");
        }
        return seen;
    }

    public void process(final PacketBatch batch)
    {
        for (final Stage stage : stages)
        {
            stage.process(batch);
        }
    }

    public Stage[] stages()
    {
        return stages.clone();
    }

    /** The first stage of this type, or null. */
    public <T extends Stage> T stage(final Class<T> type)
    {
        for (final Stage s : stages)
        {
            if (type.isInstance(s))
            {
                return type.cast(s);
            }
        }
        return null;
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Stage s : stages)
        {
            sb.append(sb.length() == 0 ? "" : " -> ").append(s.name());
        }
        return sb.toString();
    }
}
