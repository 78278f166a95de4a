package io.dpbench.node;

import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.RuleParseException;
import io.dpbench.pipeline.FlowSteering;
import io.dpbench.pipeline.FrameOutput;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.conntrack.ConntrackNatEngine;
import io.dpbench.pipeline.Stage;
import io.dpbench.pipeline.StageChain;
import io.dpbench.control.ClusterSync;
import io.dpbench.control.SyncReport;
import io.dpbench.control.SyncTotals;
import io.dpbench.vxlan.OverlayTopology;

import java.io.IOException;
import java.util.Arrays;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * One node, assembled in one place from a {@link NodeConfig} and a cluster: its conntrack table (in memory or in a
 * file; each worker its own view, so that it reaps only its own flows), the proxy mode's per-worker selectors, the
 * overlay topology, the flow steering, and, once an edge gives it the workers' outputs ({@link #start}), each
 * worker's conntrack/NAT engine and stage chain and the pipeline that runs them. Edges (pcap replay, the wire's
 * sockets, the load generator's rings) feed the pipeline's rx and take what the outputs receive; none of them
 * assembles a node itself. {@link #counters} reads every counter at once.
 */
public final class Node implements AutoCloseable
{
    private final NodeConfig config;
    private final ClusterModel cluster;
    private final ConntrackTable table;
    private final OverlayTopology topology;
    private final FlowSteering steering;
    /** The proxy mode's per-worker state and how cluster changes reach it (the control path). */
    private final ClusterSync sync;
    private ConntrackNatEngine[] engines;
    private Pipeline pipeline;
    private boolean closed;

    private Node(final NodeConfig config, final ClusterModel cluster, final ConntrackTable table,
        final ClusterSync sync)
    {
        this.config = config;
        this.cluster = cluster;
        this.table = table;
        this.sync = sync;
        this.topology = config.overlayNodes() > 0 ? OverlayTopology.generate(config.overlayNodes()) : null;
        // VXLAN for this node is steered (and parsed at rx) by its inner frame only where a decap stage will hand
        // conntrack that inner frame
        this.steering = FlowSteering.of(cluster, config.kubeProxy(), config.workers(),
            topology != null && config.decapsulates() ? topology.local().address() : 0, config.vxlan());
    }

    /**
     * Open a node: compile the proxy mode's rules for the cluster (RuleParseException if they do not compile) and
     * open its conntrack table (IOException: the file cannot be opened, or another process holds it).
     */
    public static Node open(final NodeConfig config, final ClusterModel cluster) throws IOException, RuleParseException
    {
        final ClusterSync sync;
        try
        {
            sync = new ClusterSync(config.mode(), config.scheduler(), config.seed(), config.kubeProxy(), config.nftables(),
                cluster, config.workers());
        }
        catch (final IllegalStateException ex)
        {
            if (ex.getCause() instanceof RuleParseException parse)
            {
                throw parse;
            }
            throw ex;
        }
        final ConntrackTable table = config.conntrackFile() != null
            ? ConntrackTable.persisted(config.conntrackFile(), config.maxConntrack())
            : ConntrackTable.inMemory(config.maxConntrack());
        return new Node(config, cluster, table, sync);
    }

    /** Start the workers, worker w sending what leaves through {@code outputs.apply(w)}. */
    public Pipeline start(final IntFunction<FrameOutput> outputs)
    {
        return start(outputs, null);
    }

    /**
     * As {@link #start(IntFunction)}, with one more stage at the end of every worker's chain, made for its output
     * (e.g. the wire's hand-over of what a batch sent).
     */
    public Pipeline start(final IntFunction<FrameOutput> outputs, final Function<FrameOutput, Stage> last)
    {
        if (pipeline != null)
        {
            throw new IllegalStateException("the node is running already");
        }
        final int workers = config.workers();
        engines = new ConntrackNatEngine[workers];
        pipeline = new Pipeline(steering, w ->
        {
            // the worker's selector follows the cluster's changes (picked up at its next new flow); its housekeeping
            // picks them up too and removes the UDP flows a change left stale, a few table segments at a time
            final int worker = w;
            engines[w] = new ConntrackNatEngine(sync.followingSelector(w), workers == 1 ? table : table.view(steering.owner(w)),
                ConntrackTimeouts.kubernetesNode(), config.cacheSlots()).natPorts(w, workers)
                .housekeeper((view, cache) ->
                {
                    sync.selector(worker);
                    if (sync.staleUdpPending(worker))
                    {
                        sync.cleanStaleUdp(worker, view, cache, STALE_UDP_SEGMENTS);
                    }
                });
            final FrameOutput output = outputs.apply(w);
            final StageChain chain = StageChain.build(config.stageChain(), engines[w], topology, config.vxlan(),
                config.encapsulation(), output);
            if (last == null)
            {
                return chain;
            }
            final Stage[] stages = chain.stages();
            final Stage[] all = Arrays.copyOf(stages, stages.length + 1);
            all[stages.length] = last.apply(output);
            return StageChain.of(all);
        }, config.ringBatches(), config.overflow(), config.maxFrame(), config.idle(), config.sockets());
        return pipeline;
    }

    /**
     * After the pipeline has stopped: write every change the workers' caches still hold through to the table and
     * set the table's clock to {@code nowMillis} (a replay's last packet), so that readers of the table see it whole.
     */
    public void settle(final long nowMillis)
    {
        for (final ConntrackNatEngine engine : engines)
        {
            engine.flush(nowMillis);
        }
        table.clock(nowMillis);
    }

    /** Table segments a worker's housekeeping looks at per turn for stale UDP flows (a turn each 100 ms). */
    static final int STALE_UDP_SEGMENTS = 8;

    /**
     * The cluster is now {@code next} (the control thread): the proxy mode's state is brought to it in kube-proxy's
     * manner (only what changed; see {@link ClusterSync#apply}), steering learns the new frontends and endpoints,
     * and the workers pick both up without stopping traffic. Returns what was done and how long it took.
     */
    public synchronized SyncReport apply(final ClusterModel next)
    {
        final SyncReport report = sync.apply(next);
        steering.update(next, config.kubeProxy());
        return report;
    }

    /** The control path's totals: syncs, their durations, what they changed. */
    public SyncTotals syncTotals()
    {
        return sync.totals();
    }

    /** The control path (its version, what each worker picked up). */
    public ClusterSync sync()
    {
        return sync;
    }

    /** Every counter of the node now (exact once the pipeline has stopped). */
    public NodeCounters counters()
    {
        return NodeCounters.of(this);
    }

    public NodeConfig config()
    {
        return config;
    }

    public ClusterModel cluster()
    {
        return cluster;
    }

    public ConntrackTable table()
    {
        return table;
    }

    /** The overlay, or null without one. */
    public OverlayTopology topology()
    {
        return topology;
    }

    public FlowSteering steering()
    {
        return steering;
    }

    /** The running pipeline (null before {@link #start}). */
    public Pipeline pipeline()
    {
        return pipeline;
    }

    /** Worker w's conntrack/NAT engine (after {@link #start}). */
    public ConntrackNatEngine engine(final int worker)
    {
        return engines[worker];
    }

    ConntrackNatEngine[] engines()
    {
        return engines == null ? new ConntrackNatEngine[0] : engines;
    }

    /** Stop the workers (if running) and close the conntrack table. Idempotent. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        try
        {
            if (pipeline != null)
            {
                pipeline.close();
            }
        }
        finally
        {
            table.close();
        }
    }
}
