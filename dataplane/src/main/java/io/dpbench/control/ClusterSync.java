package io.dpbench.control;

import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.FlowCache;
import io.dpbench.conntrack.StaleUdpFlows;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.CompiledRules;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSelector;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.IpvsSelector;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.sched.Schedulers;
import io.dpbench.model.ClusterChange;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.RuleParseException;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A running node's control path: the workers' new-flow selectors over a cluster that changes. The control thread
 * {@link #apply applies} a new snapshot: the change is computed in kube-proxy's manner ({@link ClusterChange}), the
 * workers' new state is built on the control thread, and it is published to each worker with a release store and a
 * new {@link #version}. A worker checks {@link #version} between batches (an acquire load: a plain load on x86) and,
 * when it moved, takes its new selector with {@link #selector}, on its own thread. Nothing a worker reads is ever
 * changed by the control thread, and no one waits for anyone: the control thread never learns when a worker picked
 * a version up other than through {@link #pickedUpVersion}, and a worker that has not yet picked up keeps deciding
 * with its previous state, as a kernel's packet path finishes with the old rules while an iptables-restore commits.
 * <p>
 * iptables mode: kube-proxy rewrites the changed chains (and every KUBE-SERVICES rule) in one iptables-restore;
 * dpbench's chain engine compiles a whole rule set into packed arrays with resolved chain indices, so a sync renders
 * and compiles the whole set again (what kube-proxy's full sync does), and each worker gets a new classifier over it,
 * which takes over its predecessor's random generator and {@code -m recent} tables ({@link Classifier#continueFrom},
 * on the worker) so that ClientIP affinity survives, as xt_recent's tables survive a restore. Measured (1,000
 * Services of 4 endpoints, 4 workers, one endpoint change; control-thread CPU time, median): iptables 44 ms (the
 * render, parse and compile are 28.7 ms of it in IptablesSyncBenchmark's baseline), 303 ms at 10,000; IPVS 0.8 ms
 * with rr, 1.2 ms with mh, of which the O(N) diff of the two snapshots is 0.7 ms (15 ms at 10,000). The text of
 * kube-proxy's partial sync alone costs 3.9 ms at 1,000; compiling only the changed chains would need a chain engine
 * that patches rule and chain indices in place: not done.
 * <p>
 * IPVS mode: each worker owns its virtual services (their schedulers' state: rr's cursor, the lc family's counters,
 * persistence templates). A sync computes on the control thread, as kube-proxy's IPVS proxier does, the changes for
 * the changed Services only ({@link IpvsSync}): virtual services to add (built here, one per worker), to delete, to
 * replace (built here), and real servers to add and delete. Each worker replays them in order on its own tables when
 * it picks the version up: the unchanged virtual services, and the changed ones that keep their identity, keep their
 * scheduler state. A worker's share is O(changes): a table put or remove per virtual service, and per real server
 * the scheduler's own update (rr: ~50 ns; sh/dh/mh are replaced instead, so a worker never rebuilds a table).
 * <p>
 * nftables mode: as kube-proxy's nftables proxier, a sync is partial ({@link io.dpbench.nftables.NftPartialSync}): the
 * changed Services' chains are flushed and refilled, their map elements added, replaced or deleted, in one
 * transaction resolved on the control thread's master program (new chains get their indices, rules are compiled once)
 * and replayed by each worker on its own copy of the program, by index: O(changes). The engine keeps its program, so
 * ClientIP affinity (its dynamic sets) survives every sync.
 * <p>
 * UDP: when kube-proxy would clean conntrack ({@link ClusterChange#conntrackCleanupRequired}), the sync carries the
 * stale-flow targets; each worker removes its own stale flows from its table view and its flow cache with
 * {@link #cleanStaleUdp}, a bounded number of map segments at a time. TCP flows to removed endpoints are left to
 * expire, as kube-proxy leaves them.
 * <p>
 * A worker should look at {@link #version} between batches even when idle: what was published for it waits in its
 * chain until it does (IPVS changes must all be replayed; of iptables rule sets only the newest is used).
 * <p>
 * Threads: {@link #apply} on one control thread at a time (it is synchronized; workers never take its lock);
 * {@link #selector}, {@link #followingSelector}'s selector and {@link #cleanStaleUdp} for worker w only on worker w's
 * thread (or before the workers start); the rest on any thread.
 */
public final class ClusterSync
{
    private static final VarHandle VERSION;

    static
    {
        try
        {
            VERSION = MethodHandles.lookup().findVarHandle(ClusterSync.class, "version", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** What only worker w's thread reads and writes, after construction. */
    private static final class WorkerState
    {
        Handover applied;
        NewFlowSelector selector;
        /** iptables mode: the classifier behind {@link #selector}. */
        Classifier classifier;
        /** IPVS mode: the proxier behind {@link #selector}, whose tables this worker owns. */
        IpvsProxier proxier;
        /** nftables mode: the engine behind {@link #selector} (its affinity sets are this worker's). */
        io.dpbench.nftables.NftEngine nftEngine;
        /** The newest UDP cleanup not yet finished, and the next map segment it will look at. */
        StaleUdpFlows cleanup;
        int cleanupSegment;
    }

    private final String mode;
    private final long seed;
    private final NodeConfig node;
    private final int workers;
    private final int masqueradeAddress;
    private final WorkerState[] states;
    /** Control thread only: each worker's last link. */
    private final Handover[] tails;
    private final IpvsSync ipvs;
    private final io.dpbench.nftables.NftablesSettings nftables;
    /** nftables mode: the control thread's partial sync and its master program; null otherwise. */
    private final io.dpbench.nftables.NftPartialSync nftSync;
    /** Published per worker by that worker (release): the version it decides with, and the stale flows it removed. */
    private final AtomicLongArray pickedUp;
    private final AtomicLongArray staleRemoved;
    @SuppressWarnings("unused") // through VERSION
    private long version;
    private volatile ClusterModel model;
    private volatile SyncTotals totals = SyncTotals.NONE;
    private volatile SyncReport lastReport;
    /** Control thread only: the endpoints of {@link #model}, reused by the next diff. */
    private ServicePortEndpoints endpoints;

    /**
     * The workers' selectors over {@code initial}, as the verbs have built them so far: iptables mode compiles the
     * rules once and gives worker w a classifier seeded {@code seed + w}; IPVS mode gives each worker its own virtual
     * services with {@code scheduler}. Throws IllegalArgumentException for an unknown mode ("mode: ...") or scheduler
     * ("scheduler: ...").
     */
    public ClusterSync(final String mode, final String scheduler, final long seed, final NodeConfig node,
        final ClusterModel initial, final int workers)
    {
        this(mode, scheduler, seed, node, io.dpbench.nftables.NftablesSettings.defaults(node), initial, workers);
    }

    /** As above, with nftables mode's own settings. */
    public ClusterSync(final String mode, final String scheduler, final long seed, final NodeConfig node,
        final io.dpbench.nftables.NftablesSettings nftables, final ClusterModel initial, final int workers)
    {
        if (!"iptables".equals(mode) && !"ipvs".equals(mode) && !"nftables".equals(mode))
        {
            throw new IllegalArgumentException("mode: expected iptables, ipvs or nftables, got '" + mode + "'");
        }
        this.nftables = nftables;
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        this.mode = mode;
        this.seed = seed;
        this.node = node;
        this.workers = workers;
        this.masqueradeAddress = Ipv4Address.parse(node.primaryNodeIP());
        this.model = initial;
        this.endpoints = ServicePortEndpoints.of(initial, node);
        states = new WorkerState[workers];
        tails = new Handover[workers];
        pickedUp = new AtomicLongArray(workers);
        staleRemoved = new AtomicLongArray(workers);
        if ("ipvs".equals(mode))
        {
            try
            {
                Schedulers.create(scheduler, SchedulerFlags.NONE);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("scheduler: " + ex.getMessage(), ex);
            }
            ipvs = new IpvsSync(node, scheduler, initial, endpoints);
        }
        else
        {
            ipvs = null;
        }
        final boolean nft = "nftables".equals(mode);
        final CompiledRules compiled = ipvs == null && !nft ? compile(initial) : null;
        nftSync = nft ? new io.dpbench.nftables.NftPartialSync(initial, node, nftables) : null;
        for (int w = 0; w < workers; w++)
        {
            final WorkerState s = new WorkerState();
            if (nft)
            {
                // each worker its own copy of the program: transactions change it in place on the worker's thread
                s.nftEngine = new io.dpbench.nftables.NftEngine(nftSync.master().copy(), node.nodeIPs(), seed + w);
                s.selector = new io.dpbench.nftables.NftablesSelector(s.nftEngine, masqueradeAddress);
            }
            else if (ipvs == null)
            {
                s.classifier = new Classifier(compiled, seed + w, masqueradeAddress);
                s.selector = new IptablesSelector(s.classifier);
            }
            else
            {
                s.proxier = IpvsSync.initialProxier(node, scheduler, initial);
                s.selector = new IpvsSelector(s.proxier);
            }
            s.applied = new Handover(0, null, null, new IpvsChange[0], null);
            tails[w] = s.applied;
            states[w] = s;
        }
    }

    private CompiledRules compile(final ClusterModel cluster)
    {
        final String restore = KubeProxyRenderer.render(cluster, node, KubeProxyRenderer.Options.production());
        try
        {
            return ChainEngine.compile(NodeRules.assemble(restore, "rendered"), "rendered", node.nodeIPs(),
                IpSets.EMPTY);
        }
        catch (final RuleParseException ex)
        {
            throw new IllegalStateException("the rendered rules do not parse: " + ex.getMessage(), ex);
        }
    }

    public String mode()
    {
        return mode;
    }

    public int workers()
    {
        return workers;
    }

    /** The latest published version (acquire): 0 until the first apply that changed something. */
    public long version()
    {
        return (long)VERSION.getAcquire(this);
    }

    /** The cluster of the latest apply. */
    public ClusterModel model()
    {
        return model;
    }

    /** What every apply so far amounted to. */
    public SyncTotals totals()
    {
        return totals;
    }

    /** The latest apply's report, or null before the first. */
    public SyncReport lastReport()
    {
        return lastReport;
    }

    /** The version worker {@code w} last picked up (any thread; it moves when the worker calls {@link #selector}). */
    public long pickedUpVersion(final int worker)
    {
        return pickedUp.get(worker);
    }

    /** Stale UDP connections worker {@code w} has removed from its table view so far (any thread). */
    public long staleFlowsRemoved(final int worker)
    {
        return staleRemoved.get(worker);
    }

    /**
     * On worker {@code w}'s thread (or before the workers start): its selector for the latest version, picking up
     * every sync published since its last call: IPVS changes are replayed on its own tables, iptables mode's newest
     * classifier takes over the previous one's state, a UDP cleanup is queued for {@link #cleanStaleUdp}. The
     * selector returned is the one to use until {@link #version} moves again. Cheap when nothing was published: one
     * acquire load. Never waits.
     */
    public NewFlowSelector selector(final int worker)
    {
        final WorkerState s = states[worker];
        Handover at = s.applied;
        Handover link = at.next();
        if (link == null)
        {
            return s.selector;
        }
        Handover newestRules = null;
        do
        {
            for (final IpvsChange c : link.ipvs)
            {
                c.applyTo(s.proxier);
            }
            if (link.nftTransaction != null)
            {
                link.nftTransaction.applyTo(s.nftEngine.program()); // every transaction, in order, on this copy
            }
            if (link.classifier != null)
            {
                newestRules = link; // the ones before it were never used: skipped
            }
            if (link.staleUdp != null)
            {
                // kube-proxy reconciles against the current state, so the newest cleanup replaces an unfinished one
                s.cleanup = link.staleUdp;
                s.cleanupSegment = 0;
            }
            at = link;
            link = at.next();
        }
        while (link != null);
        if (newestRules != null)
        {
            s.classifier = newestRules.classifier.continueFrom(s.classifier);
            s.selector = newestRules.selector;
        }
        s.applied = at;
        pickedUp.lazySet(worker, at.version);
        return s.selector;
    }

    /**
     * A selector for worker {@code w} that picks new versions up by itself: each decision first compares
     * {@link #version} with the one it has (an acquire load per new flow), for a pipeline that cannot check between
     * batches. Used only on worker w's thread; it does not run the UDP cleanup ({@link #cleanStaleUdp} does).
     */
    public NewFlowSelector followingSelector(final int worker)
    {
        return new NewFlowSelector()
        {
            private long seen = -1;
            private NewFlowSelector current;

            @Override
            public void select(final int protocol, final int sourceAddress, final int sourcePort,
                final int destinationAddress, final int destinationPort, final long nowNanos,
                final NewFlowDecision out)
            {
                final long v = version();
                if (v != seen)
                {
                    current = selector(worker);
                    seen = v;
                }
                current.select(protocol, sourceAddress, sourcePort, destinationAddress, destinationPort, nowNanos,
                    out);
            }

            @Override
            public String mode()
            {
                return mode;
            }
        };
    }

    /** On worker {@code w}'s thread: whether a UDP cleanup it picked up is unfinished. */
    public boolean staleUdpPending(final int worker)
    {
        return states[worker].cleanup != null;
    }

    /**
     * On worker {@code w}'s thread, after {@link #selector}: go on with the UDP cleanup it picked up, looking at up to
     * {@code segments} map segments of its table view ({@link ConntrackTable#segments} make a full pass), removing
     * the stale connections it owns from the view and from its flow cache (null: none). The cache is cleaned when the
     * pass starts and again when it ends, since a stale connection read back from the table before its segment was
     * reached may have been cached again. Returns how many connections were removed from the table.
     */
    public int cleanStaleUdp(final int worker, final ConntrackTable view, final FlowCache cache, final int segments)
    {
        final WorkerState s = states[worker];
        final StaleUdpFlows stale = s.cleanup;
        if (stale == null || segments < 1)
        {
            return 0;
        }
        if (s.cleanupSegment == 0 && cache != null)
        {
            cache.invalidate(stale);
        }
        final int total = view.segments();
        final int n = Math.min(segments, total - s.cleanupSegment);
        final int removed = view.removeStale(stale, s.cleanupSegment, n);
        s.cleanupSegment += n;
        if (s.cleanupSegment >= total)
        {
            if (cache != null)
            {
                cache.invalidate(stale);
            }
            s.cleanup = null;
            s.cleanupSegment = 0;
        }
        if (removed > 0)
        {
            staleRemoved.lazySet(worker, staleRemoved.get(worker) + removed);
        }
        return removed;
    }

    /**
     * On the control thread: bring every worker to {@code next}. Computes the change, builds the workers' new state
     * (see the class comment), publishes it with a new version and returns what was done. When nothing changed,
     * nothing is published and the version stays. Throws (and publishes nothing) when the model cannot be programmed,
     * e.g. an address that does not parse.
     */
    public synchronized SyncReport apply(final ClusterModel next)
    {
        final long start = System.nanoTime();
        final ServicePortEndpoints nextEndpoints = ServicePortEndpoints.of(next, node);
        final ClusterChange change = ClusterChange.between(model, endpoints, next, nextEndpoints);
        final long diffed = System.nanoTime();
        final long current = (long)VERSION.getOpaque(this);
        long published = current;
        StaleUdpFlows stale = null;
        String work = "nothing to do";
        if (!change.isEmpty())
        {
            stale = staleUdpFlows(change);
            final Handover[] links = new Handover[workers];
            published = current + 1;
            if (nftSync != null)
            {
                final io.dpbench.nftables.NftTransaction tx = nftSync.sync(
                    io.dpbench.nftables.NftPartialSync.changedServices(next, change.changedServices()));
                for (int w = 0; w < workers; w++)
                {
                    links[w] = new Handover(published, null, null, new IpvsChange[0], stale).nftables(tx);
                }
                work = "nftables: partial sync of " + change.changedServices().size() + " Services, " + tx.size()
                    + " operations";
            }
            else if (ipvs == null)
            {
                final CompiledRules compiled = compile(next);
                for (int w = 0; w < workers; w++)
                {
                    final Classifier c = new Classifier(compiled, seed + w, masqueradeAddress);
                    links[w] = new Handover(published, c, new IptablesSelector(c), new IpvsChange[0], stale);
                }
                work = "iptables: " + compiled.ruleCount() + " rules compiled";
            }
            else
            {
                final IpvsSync.Plan plan = ipvs.plan(change, next, nextEndpoints, workers);
                for (int w = 0; w < workers; w++)
                {
                    links[w] = new Handover(published, null, null, plan.perWorker()[w], stale);
                }
                work = "ipvs: virtual services +" + plan.servicesAdded() + " -" + plan.servicesRemoved() + " ~"
                    + plan.servicesReplaced() + ", real servers +" + plan.serversAdded() + " -"
                    + plan.serversRemoved();
            }
            for (int w = 0; w < workers; w++)
            {
                tails[w].append(links[w]);
                tails[w] = links[w];
            }
            VERSION.setRelease(this, published);
        }
        model = next;
        endpoints = nextEndpoints;
        final long duration = System.nanoTime() - start;
        final SyncTotals t = totals.plus(change, duration, stale != null);
        totals = t;
        final SyncReport report = new SyncReport(published, mode, duration, diffed - start, change, work, stale, t);
        lastReport = report;
        return report;
    }

    /** cleanup.go's filters as one {@link StaleUdpFlows}, or null when the sync requires no cleanup. */
    private static StaleUdpFlows staleUdpFlows(final ClusterChange change)
    {
        if (!change.conntrackCleanupRequired() || change.udpConntrackTargets().isEmpty())
        {
            return null;
        }
        final StaleUdpFlows.Builder b = StaleUdpFlows.builder();
        for (final ClusterChange.UdpConntrackTarget t : change.udpConntrackTargets())
        {
            final int[] serving = t.servingIPs().stream().mapToInt(Ipv4Address::parse).toArray();
            for (final String ip : t.frontendIPs())
            {
                b.frontend(Ipv4Address.parse(ip), t.port(), serving);
            }
            if (t.nodePort() != 0)
            {
                b.nodePort(t.nodePort(), serving);
            }
        }
        return b.build();
    }
}
