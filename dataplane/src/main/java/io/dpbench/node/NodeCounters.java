package io.dpbench.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.pipeline.DecapStage;
import io.dpbench.pipeline.EncapStage;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.pipeline.StageChain;
import io.dpbench.pipeline.TxStage;
import io.dpbench.vxlan.OverlayForwarder;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One snapshot of every counter of a {@link Node}: frames in and out, new connections, drops by
 * {@link DropReason} (the workers' counts of what their stages dropped, and the pipeline's own), conntrack, the
 * workers' flow caches, the vxlan device and each worker's share. {@link #toMap} lays it out for reports, and
 * {@link #print} prints any such map as text or JSON: the one formatter of node counters.
 */
public record NodeCounters(
    long packetsIn,
    long packetsOut,
    long newFlows,
    long[] drops,
    long conntrackEntries,
    long conntrackEarlyDrops,
    long conntrackReaped,
    long conntrackInvalidPassed,
    long cacheHits,
    long cacheMisses,
    boolean overlay,
    long notEncapsulated,
    long[] forwarded,
    long decapsulated,
    long[] processedPerWorker)
{
    static NodeCounters of(final Node node)
    {
        final Pipeline pipeline = node.pipeline();
        long in = 0;
        long out = 0;
        long flows = 0;
        long early = 0;
        long reaped = 0;
        long invalidPassed = 0;
        long hits = 0;
        long misses = 0;
        for (final ConntrackNatEngine e : node.engines())
        {
            in += e.packetsIn();
            out += e.packetsOut();
            flows += e.newFlows();
            early += e.table().earlyDrops();
            reaped += e.reaped();
            invalidPassed += e.invalidPassed();
            hits += e.cache().hits();
            misses += e.cache().misses();
        }
        final long[] drops = new long[DropReason.count()];
        long local = 0;
        long decapsulated = 0;
        final long[] forwarded = new long[OverlayForwarder.Counter.values().length];
        long[] perWorker = new long[0];
        if (pipeline != null)
        {
            pipeline.addDrops(drops);
            in += pipeline.oversize(); // refused at rx: in, never out
            for (final StageChain chain : pipeline.chains())
            {
                final TxStage tx = chain.stage(TxStage.class);
                local += tx != null ? tx.sent() : 0;
                final EncapStage encap = chain.stage(EncapStage.class);
                for (final OverlayForwarder.Counter k : OverlayForwarder.Counter.values())
                {
                    forwarded[k.ordinal()] += encap != null ? encap.forwarder().count(k) : 0;
                }
                final DecapStage decap = chain.stage(DecapStage.class);
                decapsulated += decap != null ? decap.decapsulator().decapsulated() : 0;
            }
            perWorker = new long[pipeline.workers()];
            for (int w = 0; w < perWorker.length; w++)
            {
                perWorker[w] = pipeline.processed(w);
            }
        }
        long entries;
        try
        {
            entries = node.table().primaryCount();
        }
        catch (final RuntimeException ex)
        {
            entries = -1; // closed (on SIGTERM Chronicle's own hook may close it first)
        }
        return new NodeCounters(in, out, flows, drops, entries, early, reaped, invalidPassed, hits, misses, node.topology() != null,
            local, forwarded, decapsulated, perWorker);
    }

    public long drops(final DropReason reason)
    {
        return drops[reason.ordinal()];
    }

    /** Non-zero drops of the given places, by label, in catalogue order. */
    public Map<String, Long> dropped(final DropReason.Where... places)
    {
        final long[] selected = new long[drops.length];
        for (final DropReason r : DropReason.values())
        {
            for (final DropReason.Where w : places)
            {
                if (r.where() == w)
                {
                    selected[r.ordinal()] = drops[r.ordinal()];
                }
            }
        }
        return DropCounters.labelled(selected, new LinkedHashMap<>());
    }

    /**
     * The counters as reports print them: frames, new flows, drops of the packet path (the parser's, conntrack's,
     * rx's), conntrack and cache figures, the vxlan device's counters and drops (with an overlay), and each worker's
     * share (with several).
     */
    public Map<String, Object> toMap()
    {
        final Map<String, Object> c = new LinkedHashMap<>();
        c.put("packets_in", packetsIn);
        c.put("packets_out", packetsOut);
        c.put("new_flows", newFlows);
        c.put("dropped", dropped(DropReason.Where.PARSE, DropReason.Where.CONNTRACK, DropReason.Where.PIPELINE));
        c.put("conntrack_entries", conntrackEntries);
        c.put("conntrack_early_drops", conntrackEarlyDrops);
        c.put("conntrack_reaped", conntrackReaped);
        if (conntrackInvalidPassed > 0)
        {
            c.put("conntrack_invalid_passed", conntrackInvalidPassed); // nftables mode: INVALID, not dropped
        }
        c.put("cache_hits", cacheHits);
        c.put("cache_misses", cacheMisses);
        if (overlay)
        {
            c.put("overlay", overlayMap());
        }
        if (processedPerWorker.length > 1)
        {
            final List<Long> perWorker = new ArrayList<>();
            for (final long p : processedPerWorker)
            {
                perWorker.add(p);
            }
            c.put("workers", perWorker);
        }
        return c;
    }

    /** The vxlan device: what left unencapsulated, what the forwarder did and dropped, what was decapsulated. */
    private Map<String, Long> overlayMap()
    {
        final Map<String, Long> c = new LinkedHashMap<>();
        c.put("not_encapsulated", notEncapsulated); // to this node's pods, or outside the overlay
        for (final OverlayForwarder.Counter k : OverlayForwarder.Counter.values())
        {
            c.put(key(k.label()), forwarded[k.ordinal()]);
        }
        for (final DropReason r : DropReason.of(DropReason.Where.FORWARD))
        {
            c.put(key(r.localLabel()), drops[r.ordinal()]);
        }
        c.put("decapsulated", decapsulated);
        for (final DropReason r : DropReason.of(DropReason.Where.DECAP))
        {
            if (drops[r.ordinal()] > 0)
            {
                c.put("decap_drop_" + key(r.localLabel()), drops[r.ordinal()]);
            }
        }
        return c;
    }

    private static String key(final String label)
    {
        return label.replace('-', '_');
    }

    /** Print counters as one JSON object, or as text, one {@code name value} line each. */
    public static void print(final PrintWriter out, final Map<String, Object> counters, final boolean json)
    {
        if (json)
        {
            out.println(json(counters));
        }
        else
        {
            counters.forEach((k, v) -> out.printf("%-22s %s%n", k.replace('_', ' '), v));
        }
        out.flush();
    }

    /** Counters as one line of JSON. */
    public static String json(final Map<String, Object> counters)
    {
        try
        {
            return new ObjectMapper().writeValueAsString(counters);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
