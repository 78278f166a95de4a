package io.dpbench.loadgen.drive;

import io.dpbench.control.SyncReport;
import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.loadgen.workload.Popularity;
import io.dpbench.loadgen.workload.WorkloadSpec;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.VxlanConfig;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.IntHashSet;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The load generator: this thread plays every pod of the cluster against the node under test, in-process (straight
 * into the pipeline's rings, {@link InProcessTransport}) or over UDP against {@code dpbench run}
 * ({@link WireTransport}). Clients (pods of node 0 in-process, of node 1 over the wire) open TCP flows with a
 * handshake, exchange request/response packets and close with FIN, or send UDP requests; each flow makes
 * {@link WorkloadSpec#exchangesPerFlow} exchanges, then a new flow (new source port, a Service drawn by popularity)
 * takes its place. A request delivered to a backend is answered as that backend would (SYN-ACK, ACK, FIN-ACK) from
 * its node; a reply delivered to a client ends an exchange. Every packet carries a 17-byte tag (its send time, flow,
 * flow generation and direction), so the generator checks that a flow keeps one backend and that replies come back
 * from the Service's VIP:port, and measures latency: from the request's send time (in open loop its intended send
 * time, so that a stalled generator cannot hide queueing: coordinated omission) to the reply's arrival.
 * <p>
 * Open loop (a rate) drops at a full ring (counted); closed loop (rate 0) waits, with at most one exchange in flight
 * per flow. A flow whose reply does not come within 500 ms is counted as timed out and replaced. At the end the
 * generator stops, lets what is in flight come back, and checks the accounting: sent = received + counted drops.
 * <p>
 * A new flow's first request must reach a current endpoint of its Service ({@link #staleBackends()} counts those that
 * did not). The cluster may change during a run ({@link #clusterChanged}): in-process the generator's own node is
 * told (its {@link ClusterSync}), then its checks follow the new endpoints for flows whose first request leaves
 * afterwards; flows already under way may keep their old backends (TCP keeps its conntrack entry), and a UDP flow whose
 * backend went away may move to a current one ({@link #udpRebalanced()}: kube-proxy deletes such flows' entries). The
 * generator keeps the frontends it started with.
 */
public final class LoadGenerator
{
    /** Where a run's options come from. */
    public record Options(String mode, String scheduler, int workers, long durationNanos, long maxPackets,
        long ratePps, WorkloadSpec workload, long warmupNanos, int maxConntrack, java.net.InetSocketAddress target,
        boolean reflect)
    {
        /** In-process, no warm-up left out, kube-proxy's conntrack limit. */
        public Options(final String mode, final String scheduler, final int workers, final long durationNanos,
            final long maxPackets, final long ratePps, final WorkloadSpec workload)
        {
            this(mode, scheduler, workers, durationNanos, maxPackets, ratePps, workload, 0,
                ConntrackTimeouts.kubeProxyConntrackMax(Runtime.getRuntime().availableProcessors()), null, false);
        }
    }

    static final int TAG_LENGTH = 17;
    /**
     * Batches per worker ring: light traffic hands over small batches (an idle turn flushes), so the ring holds many
     * (256 x 64 frames of up to {@link #MAX_FRAME} bytes: ~28 MB per worker), like a NIC ring's thousands of
     * descriptors, so that a worker's pause of a few milliseconds (a conntrack reap, a GC) does not drop.
     */
    static final int RING_BATCHES = 256;
    /** The largest frame the generator sends or receives: 1464 + VXLAN's 50. */
    static final int MAX_FRAME = 1536;
    private static final int VXLAN_PORT = VxlanConfig.flannel().destinationPort();
    static final byte REQUEST = 1;
    static final byte REPLY = 2;
    /** The client's last ACK of a TCP close: no answer expected. */
    static final byte FINAL = 3;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int PSH_ACK = 0x18;
    static final int FIN_ACK = 0x11;
    static final int SYN_ACK = 0x12;
    static final long TIMEOUT_NANOS = 500_000_000L;
    static final int[] IMIX_SIZES = {80, 80, 80, 80, 80, 80, 80, 594, 594, 594, 594, 1464};

    private final Options options;
    private final WorkloadSpec spec;
    private final Consumer<String> progress;
    private final HistogramLogWriter log;

    // the cluster's frontends, by protocol
    private final int[] tcpVip;
    private final int[] tcpPort;
    private final int[] udpVip;
    private final int[] udpPort;
    private final Popularity tcpPopularity;
    private final Popularity udpPopularity;
    private final int[] clients;
    private final int[] clientNextPort;

    // flows, by slot
    private final int flows;
    private final boolean[] tcp;
    private final int[] target;
    private final int[] client;
    private final int[] clientPort;
    private final int[] generation;
    private final int[] exchanges;
    private final long[] awaitingSince;
    private final long[] backend;
    private final IntArrayQueue ready;

    private final SplittableRandom random;
    private final FrameBuilder builder = new FrameBuilder();
    private final byte[] payload = new byte[1500];
    private final UnsafeBuffer payloadBuffer = new UnsafeBuffer(payload);
    private final UnsafeBuffer send = new UnsafeBuffer(new byte[2048]);
    private final OverlayTopology topology;

    private final Transport transport;
    private final Transport.FrameHandler frames = this::onFrame;
    private final Recorder recorder = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private Histogram interval;

    private long sequence;
    private long sent;
    private long received;
    private long requests;
    private long newFlows;
    private long flowsCompleted;
    private long backendChanged;
    private long untranslated;
    private long late;
    private long timedOut;
    private long unexpected;
    /** Open loop: how far behind its schedule a request left at worst (no free flow, or a slow generator). */
    private long maxLagNanos;
    /** Set once the pipeline is closed: frames still coming out are counted, nothing more is sent. */
    private boolean closed;
    /** The bound is reached: replies still answered, no new exchanges. */
    private boolean draining;
    private boolean stopRequested;
    /** Room before each frame built for sending: its node's VXLAN encapsulation (in-process) goes there. */
    static final int HEADROOM = 64;

    // which backends a new flow may reach: the checks in force on this thread, and the newest told by any thread
    private final NodeConfig node;
    /** The in-process node's control path; null over the wire (the node is another process). */
    private final Object changeLock = new Object();
    private volatile BackendChecks told;
    private BackendChecks checks;
    /** The checks the generator's thread took up last (it writes, any thread reads): see {@link #awaitExpected}. */
    private volatile BackendChecks taken;
    /** UDP replies from an endpoint a cluster change removed, after the node deleted the flow's entry. */
    private long staleReplies;
    /** Bumped on this thread when new checks are taken up; a flow is checked when its first request left under them. */
    private int epoch;
    private final int[] flowEpoch;
    private long newFlowsChecked;
    private long staleBackends;
    private long udpRebalanced;
    private long clusterChanges;

    // control from other threads (a soak's driver): commands run on this generator's thread, between turns
    private final ManyToOneConcurrentArrayQueue<Runnable> commands = new ManyToOneConcurrentArrayQueue<>(64);
    private final java.util.function.Consumer<Runnable> runCommand = Runnable::run;
    /** Sending held (set by a command): nothing is sent, frames still come in and are counted; open loop skips its schedule. */
    private boolean held;
    /** A timed-out exchange is sent again on the same flow (a TCP retransmission) instead of the flow being replaced. */
    private boolean retransmit;
    private long retransmissions;
    // the bindings of flows established when marked (a kill): checked at their next request delivered to a backend
    private int[] markedGeneration;
    private long[] markedBackend;
    private long bindingsMarked;
    private long bindingsChecked;
    private long bindingsChanged;

    public LoadGenerator(final Options options, final Consumer<String> progress, final HistogramLogWriter log)
    {
        this.options = options;
        this.spec = options.workload();
        this.progress = progress;
        this.log = log;
        if (!"iptables".equals(options.mode()) && !"ipvs".equals(options.mode()) && !"nftables".equals(options.mode()))
        {
            throw new IllegalArgumentException("--mode: expected iptables or ipvs, got '" + options.mode() + "'");
        }
        if (options.workers() < 1 || options.workers() > 64)
        {
            throw new IllegalArgumentException("--workers must be between 1 and 64, got " + options.workers());
        }
        if (options.ratePps() < 0)
        {
            throw new IllegalArgumentException("--rate must be 0 (closed loop) or more packets per second, got " + options.ratePps());
        }
        if (options.durationNanos() <= 0 && options.maxPackets() <= 0)
        {
            throw new IllegalArgumentException("a run needs a bound: --duration or --packets above 0");
        }
        final ClusterModel model = SyntheticCluster.generate(spec.services(), spec.endpoints(), spec.seed(),
            spec.mix(), spec.nodes());
        node = NodeConfig.defaults();
        topology = OverlayTopology.generate(spec.nodes());

        // frontends and the clients (node 0's pod addresses that are not endpoints)
        final List<int[]> tcpTargets = new ArrayList<>();
        final List<int[]> udpTargets = new ArrayList<>();
        final IntHashSet endpointAddresses = new IntHashSet();
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(model, node);
        for (final Service service : model.services())
        {
            for (final ServicePort port : service.ports())
            {
                for (final ServicePortEndpoints.Info e : endpoints.all(service, port))
                {
                    endpointAddresses.add(Ipv4Address.parse(e.ip()));
                }
                if (service.hasClusterIP() && !endpoints.all(service, port).isEmpty())
                {
                    (port.protocol() == Protocol.UDP ? udpTargets : tcpTargets).add(
                        new int[]{Ipv4Address.parse(service.clusterIP()), port.port()});
                }
            }
        }
        if (spec.tcpShare() > 0 && tcpTargets.isEmpty() || spec.tcpShare() < 1 && udpTargets.isEmpty())
        {
            throw new IllegalArgumentException("the cluster has no " + (tcpTargets.isEmpty() ? "TCP" : "UDP")
                + " Service port with endpoints for --tcp-share " + spec.tcpShare() + "; raise --services");
        }
        tcpVip = tcpTargets.stream().mapToInt(t -> t[0]).toArray();
        tcpPort = tcpTargets.stream().mapToInt(t -> t[1]).toArray();
        udpVip = udpTargets.stream().mapToInt(t -> t[0]).toArray();
        udpPort = udpTargets.stream().mapToInt(t -> t[1]).toArray();
        tcpPopularity = tcpVip.length > 0 ? Popularity.zipf(tcpVip.length, spec.zipf()) : null;
        udpPopularity = udpVip.length > 0 ? Popularity.zipf(udpVip.length, spec.zipf()) : null;
        flows = spec.flows();
        tcp = new boolean[flows];
        target = new int[flows];
        client = new int[flows];
        clientPort = new int[flows];
        generation = new int[flows];
        exchanges = new int[flows];
        awaitingSince = new long[flows];
        backend = new long[flows];
        flowEpoch = new int[flows];
        ready = new IntArrayQueue(flows, -1);
        random = new SplittableRandom(spec.seed() * 31 + 7);

        // clients: pods of this node in-process, of node 1 over the wire (everything enters the node under test as VXLAN)
        final int clientNode = options.target() == null ? 0 : 1;
        final List<Integer> free = new ArrayList<>();
        for (int host = 2; host < 255; host++)
        {
            final int address = OverlayTopology.POD_NETWORK + (clientNode << 8) + host;
            if (!endpointAddresses.contains(address))
            {
                free.add(address);
            }
        }
        if (free.isEmpty())
        {
            throw new IllegalArgumentException("node " + clientNode + "'s pod network is full of endpoints: no client address left; "
                + "raise --nodes or lower --services/--endpoints");
        }
        clients = free.stream().mapToInt(Integer::intValue).toArray();
        clientNextPort = new int[clients.length];


        if (options.maxConntrack() < 1)
        {
            throw new IllegalArgumentException("--max-conntrack must be at least 1, got " + options.maxConntrack());
        }
        checks = checksFor(model);
        told = checks;
        taken = checks;
        try
        {
            // the node is another process in wire mode; in process, the node of these settings, whose workers
            // follow its cluster changes (its ClusterSync)
            transport = options.target() == null
                ? new InProcessTransport(model, io.dpbench.node.NodeConfig.builder().mode(options.mode())
                    .scheduler(options.scheduler()).seed(spec.seed()).workers(options.workers())
                    .overlayNodes(topology.nodes()).maxConntrack(options.maxConntrack()).kubeProxy(node).build(),
                    options.ratePps() > 0, spec.flows())
                : new WireTransport(options.target(), spec.nodes());
        }
        catch (final io.dpbench.model.RuleParseException ex)
        {
            throw new IllegalStateException("the rendered rules do not parse: " + ex.getMessage(), ex);
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        for (int i = 0; i < flows; i++)
        {
            startFlow(i);
        }
    }

    /**
     * A timed-out exchange is sent again on its flow (as TCP retransmits) rather than the flow replaced, so that flows
     * outlive an outage of the node. Call before {@link #run()}.
     */
    public LoadGenerator retransmitOnTimeout()
    {
        retransmit = true;
        return this;
    }

    /**
     * Run {@code command} on the generator's thread between two turns of {@link #run()} (within microseconds while it
     * runs; never once it has returned). Any thread; false when the queue of commands is full.
     */
    public boolean execute(final Runnable command)
    {
        return commands.offer(command);
    }

    /**
     * On the generator's thread (a command): end the run at the next turn, as if its bound was reached (what is in
     * flight still drains). For a driver that ends the run itself, after quiescing it with {@link #hold}.
     */
    public void stop()
    {
        stopRequested = true;
    }

    /** On the generator's thread (a command): hold sending (true) or resume it. */
    public void hold(final boolean hold)
    {
        held = hold;
    }

    /** On the generator's thread (a command): frames sent and received, drops counted here, exchanges retransmitted. */
    public long[] counters()
    {
        return new long[]{sent, received, transport.dropsSoFar(), requests, flowsCompleted, retransmissions};
    }

    /** On the generator's thread (a command): every drop counted on this side so far, by reason, and their total. */
    public long drops(final java.util.Map<String, Long> into)
    {
        return transport.drops(into);
    }

    /**
     * On the generator's thread (a command): remember each established flow's backend; the next request of each such
     * flow delivered to a backend is checked against it ({@link #bindingsChecked()}, {@link #bindingsChanged()}).
     */
    public void markBindings()
    {
        markedGeneration = generation.clone();
        markedBackend = backend.clone();
        bindingsMarked = java.util.Arrays.stream(markedBackend).filter(b -> b != -1).count();
        bindingsChecked = 0;
        bindingsChanged = 0;
    }

    /** Flows established when {@link #markBindings()} ran (read after {@link #run()} returned, or in a command). */
    public long bindingsMarked()
    {
        return bindingsMarked;
    }

    /** Marked flows whose next request reached a backend since. */
    public long bindingsChecked()
    {
        return bindingsChecked;
    }

    /** Marked flows whose next request reached another backend than before the mark: must be 0. */
    public long bindingsChanged()
    {
        return bindingsChanged;
    }

    public long retransmissions()
    {
        return retransmissions;
    }

    /**
     * Any thread, during or before {@link #run()}: the cluster is now {@code next}. In-process, the generator's node
     * applies it first (on the calling thread; its workers pick it up at their next new flow) and the sync's report is
     * returned; then the generator's checks follow {@code next} for every flow whose first request leaves after its
     * next turn. Over the wire, the node is another process: announce the change ({@link #expectClusterChange}, then
     * {@link #awaitExpected}), tell the node, wait for its sync, then call this; null is returned. Concurrent calls
     * are applied in turn.
     */
    public SyncReport clusterChanged(final ClusterModel next)
    {
        synchronized (changeLock)
        {
            final SyncReport report = transport instanceof InProcessTransport inProcess ? inProcess.clusterChanged(next) : null;
            expectCluster(next);
            return report;
        }
    }

    /**
     * Only the checks follow {@code next} (what {@link #clusterChanged} does over the wire); any thread. Over the
     * wire, call it once the node has synced to {@code next}, after {@link #expectClusterChange}: a flow whose first
     * request leaves after the generator's thread took the checks up must reach an endpoint of {@code next}.
     */
    void expectCluster(final ClusterModel next)
    {
        synchronized (changeLock)
        {
            told = checksFor(next); // a volatile write: the generator's thread takes the checks up at its next turn
        }
    }

    /**
     * Over the wire, before the node is told of {@code next} (any thread): until {@link #expectCluster expectCluster}
     * {@code (next)}, the node changes over at a moment the generator does not know, so a new flow may reach an
     * endpoint of the cluster before or of {@code next}, and a UDP flow whose endpoint {@code next} removes may move
     * to another ({@link #udpRebalanced()}: the node deleted its entry) or be answered from the old one untranslated
     * ({@link #staleReplies()}). Wait with {@link #awaitExpected} before telling the node: a flow that left before
     * the generator took this up is checked against the cluster before.
     */
    void expectClusterChange(final ClusterModel next)
    {
        synchronized (changeLock)
        {
            told = told.during(checksFor(next));
        }
    }

    /**
     * Any thread: wait until the generator's thread decides with the newest checks told ({@link #expectCluster},
     * {@link #expectClusterChange}), which it takes up at its next turn; false after {@code timeoutNanos} (or when
     * {@link #run()} has not started or has returned).
     */
    boolean awaitExpected(final long timeoutNanos) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeoutNanos;
        while (taken != told)
        {
            if (System.nanoTime() - deadline >= 0)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** New flows whose first request reached a backend since the checks in force when it left. */
    public long newFlowsChecked()
    {
        return newFlowsChecked;
    }

    /** Replies of UDP flows whose endpoint a cluster change removed, untranslated once the node deleted the flow. */
    public long staleReplies()
    {
        return staleReplies;
    }

    /** Of {@link #newFlowsChecked()}, those that reached a backend that was not an endpoint of their Service: must be 0. */
    public long staleBackends()
    {
        return staleBackends;
    }

    /** UDP flows whose request reached a new backend after their old one left the cluster (not a backend change). */
    public long udpRebalanced()
    {
        return udpRebalanced;
    }

    /** Cluster changes this generator's checks took up (a change announced with {@link #expectClusterChange} is two). */
    public long clusterChanges()
    {
        return clusterChanges;
    }

    /**
     * Per frontend of this generator, in its target order, the backends (address << 16 | port, sorted) a new flow to
     * it may reach under {@code model}: the endpoints kube-proxy's categorization gives cluster-IP traffic (the local
     * ones under internalTrafficPolicy Local), in both modes; and the backends a UDP flow may keep ({@code udpKept}:
     * a flow to any other had its endpoint removed, and the node deletes its entry). Immutable once built.
     */
    private record BackendChecks(long[][] tcp, long[][] udp, long[][] udpKept)
    {
        BackendChecks(final long[][] tcp, final long[][] udp)
        {
            this(tcp, udp, udp);
        }

        /** While a node changes over from these checks' cluster to {@code next}'s: a new flow may meet either. */
        BackendChecks during(final BackendChecks next)
        {
            return new BackendChecks(union(tcp, next.tcp), union(udp, next.udp), next.udpKept);
        }

        private static long[][] union(final long[][] a, final long[][] b)
        {
            final long[][] out = new long[a.length][];
            for (int i = 0; i < a.length; i++)
            {
                out[i] = java.util.stream.LongStream.concat(java.util.Arrays.stream(a[i]), java.util.Arrays.stream(b[i]))
                    .distinct().sorted().toArray();
            }
            return out;
        }
    }

    private BackendChecks checksFor(final ClusterModel model)
    {
        final java.util.Map<Long, long[]> byFrontend = new java.util.HashMap<>();
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(model, node);
        for (final Service service : model.services())
        {
            if (!service.hasClusterIP())
            {
                continue;
            }
            for (final ServicePort port : service.ports())
            {
                final ServicePortEndpoints.Categorized c = endpoints.categorize(service, port);
                final long[] allowed = (c.internalPolicyLocal() ? c.local() : c.cluster()).stream()
                    .mapToLong(e -> ((Ipv4Address.parse(e.ip()) & 0xFFFF_FFFFL) << 16) | e.port()).sorted().toArray();
                byFrontend.put(frontendKey(port.protocol().number(), Ipv4Address.parse(service.clusterIP()), port.port()),
                    allowed);
            }
        }
        final long[][] tcpChecks = new long[tcpVip.length][];
        for (int i = 0; i < tcpChecks.length; i++)
        {
            tcpChecks[i] = byFrontend.getOrDefault(frontendKey(6, tcpVip[i], tcpPort[i]), new long[0]);
        }
        final long[][] udpChecks = new long[udpVip.length][];
        for (int i = 0; i < udpChecks.length; i++)
        {
            udpChecks[i] = byFrontend.getOrDefault(frontendKey(17, udpVip[i], udpPort[i]), new long[0]);
        }
        return new BackendChecks(tcpChecks, udpChecks);
    }

    private static long frontendKey(final int protocol, final int address, final int port)
    {
        return ((long)protocol << 48) | ((address & 0xFFFF_FFFFL) << 16) | port;
    }

    /** Whether {@code key} (address << 16 | port) is a backend a new flow of {@code flow}'s Service may reach now. */
    private boolean allowed(final int flow, final long key)
    {
        final long[] backends = tcp[flow] ? checks.tcp()[target[flow]] : checks.udp()[target[flow]];
        return java.util.Arrays.binarySearch(backends, key) >= 0;
    }

    /** Whether UDP flow {@code flow} may keep backend {@code key}: not when a cluster change removed its endpoint. */
    private boolean udpKept(final int flow, final long key)
    {
        return java.util.Arrays.binarySearch(checks.udpKept()[target[flow]], key) >= 0;
    }

    private void startFlow(final int i)
    {
        tcp[i] = spec.tcpShare() >= 1 || spec.tcpShare() > 0 && random.nextDouble() < spec.tcpShare();
        target[i] = tcp[i] ? tcpPopularity.next(random) : udpPopularity.next(random);
        final int c = random.nextInt(clients.length);
        client[i] = clients[c];
        clientPort[i] = 32768 + clientNextPort[c];
        clientNextPort[c] = (clientNextPort[c] + 1) % 28232;
        generation[i]++;
        exchanges[i] = 0;
        awaitingSince[i] = 0;
        backend[i] = -1;
        flowEpoch[i] = -1;
        ready.addInt(i);
        newFlows++;
    }

    /** Run to the bound; returns the result (the pipeline is closed and every worker joined). */
    public LoadResult run()
    {
        final long start = System.nanoTime();
        final long rate = options.ratePps();
        final double period = rate > 0 ? 1e9 / rate : 0;
        long scheduled = 0;
        long nextSecond = start + 1_000_000_000L;
        long nextScan = start + 100_000_000L;
        long lastSent = 0;
        long lastReceived = 0;
        long lastMissed = 0;
        interval = recorder.getIntervalHistogram();
        try
        {
            while (true)
            {
                final long now = System.nanoTime();
                if (options.durationNanos() > 0 && now - start >= options.durationNanos()
                    || options.maxPackets() > 0 && requests >= options.maxPackets() || stopRequested)
                {
                    break;
                }
                final BackendChecks newest = told;
                if (newest != checks)
                {
                    checks = newest;
                    epoch++;
                    clusterChanges++;
                    taken = newest;
                }
                final long before = sent + received;
                transport.poll(frames, 256);
                if (!commands.isEmpty())
                {
                    commands.drain(runCommand, 16);
                }
                if (held)
                {
                    if (rate > 0)
                    {
                        scheduled = (long)((now - start) / period) + 1; // skipped, not sent late when resumed
                    }
                }
                else if (rate > 0)
                {
                    long intended = start + (long)(scheduled * period);
                    while (intended <= now && !ready.isEmpty())
                    {
                        maxLagNanos = Math.max(maxLagNanos, now - intended);
                        sendRequest(ready.pollInt(), intended);
                        scheduled++;
                        intended = start + (long)(scheduled * period);
                    }
                }
                else
                {
                    for (int n = 0; n < 64 && !ready.isEmpty(); n++)
                    {
                        sendRequest(ready.pollInt(), System.nanoTime());
                    }
                }
                if (sent + received == before)
                {
                    // an idle turn: hand over the partial batches, as a NIC driver's poll ends, so that light
                    // traffic is not held back until 64 frames have gathered
                    transport.idle();
                }
                if (now >= nextScan)
                {
                    nextScan = now + 100_000_000L;
                    expire(now);
                }
                if (now >= nextSecond)
                {
                    final long intervalStart = nextSecond - 1_000_000_000L;
                    nextSecond += 1_000_000_000L;
                    interval = recorder.getIntervalHistogram(interval);
                    if (intervalStart - start >= options.warmupNanos())
                    {
                        total.add(interval); // the summary leaves out the warm-up seconds (JIT, first conntrack inserts)
                    }
                    if (log != null)
                    {
                        log.outputIntervalHistogram(interval);
                    }
                    final long missed = transport.dropsSoFar();
                    progress.accept(String.format(java.util.Locale.ROOT,
                        "t=%3ds sent %,d/s received %,d/s dropped %,d latency p50 %s p99 %s flows done %,d",
                        (now - start) / 1_000_000_000L, sent - lastSent, received - lastReceived, missed - lastMissed,
                        micros(interval.getValueAtPercentile(50)), micros(interval.getValueAtPercentile(99)),
                        flowsCompleted));
                    lastSent = sent;
                    lastReceived = received;
                    lastMissed = missed;
                }
            }
            final long elapsed = System.nanoTime() - start;
            // stop sending new exchanges; what is in flight comes back (and is still answered) until 200 ms are quiet
            draining = true;
            transport.drain(frames, () -> sent, 200_000_000L);
            closed = true;
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
            if (log != null && interval.getTotalCount() > 0)
            {
                log.outputIntervalHistogram(interval);
            }
            return result(elapsed);
        }
        finally
        {
            transport.close();
        }
    }

    /** A frame the node sent out: to a backend (answer it) or to a client (an exchange ends). */
    private void onFrame(final MutableDirectBuffer buffer, final int frame, final int size)
    {
        received++;
        if (size < 14 + 20 + 8)
        {
            unexpected++;
            return;
        }
        final int ip = frame + 14;
        final int protocol = buffer.getByte(ip + 9) & 0xFF;
        final int l4 = ip + ((buffer.getByte(ip) & 0x0F) << 2);
        final int tag = l4 + (protocol == 6 ? ((buffer.getByte(l4 + 12) & 0xF0) >>> 2) : 8);
        if ((protocol != 6 && protocol != 17) || tag + TAG_LENGTH > frame + size)
        {
            unexpected++;
            return;
        }
        final long sentAt = buffer.getLong(tag);
        final int flow = buffer.getInt(tag + 8);
        final int gen = buffer.getInt(tag + 12);
        final byte direction = buffer.getByte(tag + 16);
        final int source = buffer.getInt(ip + 12, ByteOrder.BIG_ENDIAN);
        final int destination = buffer.getInt(ip + 16, ByteOrder.BIG_ENDIAN);
        final int sourcePort = buffer.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int destinationPort = buffer.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (flow < 0 || flow >= flows)
        {
            unexpected++;
            return;
        }
        if (options.reflect())
        {
            // the --reflect node sends each datagram back as it came: a round trip of the host's UDP stack only
            if (direction == REQUEST && gen == generation[flow] && awaitingSince[flow] != 0)
            {
                recorder.recordValue(Math.max(0, Math.min(System.nanoTime() - sentAt, 3_600_000_000_000L)));
                awaitingSince[flow] = 0;
                if (++exchanges[flow] >= spec.exchangesPerFlow())
                {
                    flowsCompleted++;
                    startFlow(flow);
                }
                else
                {
                    ready.addInt(flow);
                }
            }
            return;
        }
        if (direction == REQUEST || direction == FINAL)
        {
            // delivered to a backend: one backend per flow
            if (gen == generation[flow])
            {
                final long key = ((destination & 0xFFFF_FFFFL) << 16) | destinationPort;
                if (backend[flow] == -1)
                {
                    backend[flow] = key;
                    if (flowEpoch[flow] == epoch)
                    {
                        newFlowsChecked++; // its first request left under the checks in force
                        if (!allowed(flow, key))
                        {
                            staleBackends++;
                        }
                    }
                }
                else if (backend[flow] != key)
                {
                    if (!tcp[flow] && !udpKept(flow, backend[flow]) && allowed(flow, key))
                    {
                        udpRebalanced++; // its backend left: kube-proxy deleted its entry, the next datagram moved
                        backend[flow] = key;
                    }
                    else
                    {
                        backendChanged++;
                    }
                }
                if (markedBackend != null && markedGeneration[flow] == gen && markedBackend[flow] != -1)
                {
                    bindingsChecked++; // established when marked, its first request delivered since
                    if (markedBackend[flow] != key)
                    {
                        bindingsChanged++;
                    }
                    markedBackend[flow] = -1;
                }
            }
            if (direction == REQUEST)
            {
                final int flags = protocol == 6 ? buffer.getByte(l4 + 13) & 0x3F : 0;
                final int replyFlags = flags == SYN ? SYN_ACK : flags == FIN_ACK ? FIN_ACK : PSH_ACK;
                answer(protocol, destination, destinationPort, source, sourcePort, replyFlags, buffer, tag,
                    size - (tag - frame));
            }
            return;
        }
        if (direction != REPLY)
        {
            unexpected++;
            return;
        }
        // delivered to a client: from the Service's VIP:port, to the flow's own address and port
        final long now = System.nanoTime();
        if (gen != generation[flow] || awaitingSince[flow] == 0)
        {
            late++;
            return;
        }
        final int vip = tcp[flow] ? tcpVip[target[flow]] : udpVip[target[flow]];
        final int port = tcp[flow] ? tcpPort[target[flow]] : udpPort[target[flow]];
        if (source != vip || sourcePort != port || destination != client[flow] || destinationPort != clientPort[flow])
        {
            if (!tcp[flow] && backend[flow] != -1 && !udpKept(flow, backend[flow]))
            {
                // a UDP flow to an endpoint the cluster no longer has: the node deleted its conntrack entry (as
                // kube-proxy does), so the old backend's answer leaves untranslated, as on a real node
                staleReplies++;
            }
            else
            {
                untranslated++;
            }
        }
        recorder.recordValue(Math.max(0, Math.min(now - sentAt, 3_600_000_000_000L)));
        awaitingSince[flow] = 0;
        exchanges[flow]++;
        final int flags = protocol == 6 ? buffer.getByte(l4 + 13) & 0x3F : 0;
        if (tcp[flow] && flags == FIN_ACK)
        {
            sendFrame(flow, ACK, FINAL, now); // the last ACK of the close, then the flow is done
            flowsCompleted++;
            startFlow(flow);
        }
        else if (!tcp[flow] && exchanges[flow] >= spec.exchangesPerFlow())
        {
            flowsCompleted++;
            startFlow(flow);
        }
        else
        {
            ready.addInt(flow);
        }
    }

    /** The backend's answer, from its node (VXLAN from a remote node's VTEP, plain from this node). */
    private void answer(final int protocol, final int from, final int fromPort, final int to, final int toPort,
        final int flags, final MutableDirectBuffer request, final int tag, final int payloadLength)
    {
        request.getBytes(tag, payload, 0, payloadLength);
        payload[16] = REPLY;
        builder.addresses(from, to).payload(payload, payloadLength);
        if (protocol == 6)
        {
            builder.tcp(fromPort, toPort, flags);
        }
        else
        {
            builder.udp(fromPort, toPort);
        }
        final int node = (from - OverlayTopology.POD_NETWORK) >>> 8;
        submit(send, HEADROOM, builder.build(send, HEADROOM), node >= 0 && node < spec.nodes() ? node : 0);
    }

    private void sendRequest(final int flow, final long sentAt)
    {
        final int flags;
        if (!tcp[flow])
        {
            flags = 0;
        }
        else if (exchanges[flow] == 0)
        {
            flags = SYN;
        }
        else if (exchanges[flow] >= spec.exchangesPerFlow())
        {
            flags = FIN_ACK;
        }
        else
        {
            flags = PSH_ACK;
        }
        awaitingSince[flow] = System.nanoTime();
        requests++;
        if (flowEpoch[flow] == -1)
        {
            flowEpoch[flow] = epoch; // its first request: checked against the cluster in force now
        }
        sendFrame(flow, flags, REQUEST, sentAt);
    }

    private void sendFrame(final int flow, final int flags, final byte direction, final long sentAt)
    {
        final int size = spec.frameSize() == WorkloadSpec.IMIX ? IMIX_SIZES[random.nextInt(IMIX_SIZES.length)] : spec.frameSize();
        final int headers = 14 + 20 + (tcp[flow] ? 20 : 8);
        final int payloadLength = Math.max(TAG_LENGTH, size - headers);
        payloadBuffer.putLong(0, sentAt);
        payloadBuffer.putInt(8, flow);
        payloadBuffer.putInt(12, generation[flow]);
        payload[16] = direction;
        final int vip = tcp[flow] ? tcpVip[target[flow]] : udpVip[target[flow]];
        final int port = tcp[flow] ? tcpPort[target[flow]] : udpPort[target[flow]];
        builder.addresses(client[flow], vip).payload(payload, payloadLength);
        if (tcp[flow])
        {
            builder.tcp(clientPort[flow], port, flags);
        }
        else
        {
            builder.udp(clientPort[flow], port);
        }
        submit(send, HEADROOM, builder.build(send, HEADROOM), transport.clientNode());
    }

    /** A pod's frame (built {@link #HEADROOM} bytes into the send buffer, room for its node's encapsulation). */
    private void submit(final MutableDirectBuffer buffer, final int offset, final int length, final int node)
    {
        if (closed || held)
        {
            return; // the run is over, or sending is held: not sent, not counted
        }
        if (transport.send(buffer, offset, length, node))
        {
            sent++;
        }
    }

    /** Flows whose reply is overdue (dropped somewhere, counted there) are replaced. */
    private void expire(final long now)
    {
        for (int i = 0; i < flows; i++)
        {
            if (awaitingSince[i] != 0 && now - awaitingSince[i] > TIMEOUT_NANOS)
            {
                timedOut++;
                if (retransmit)
                {
                    retransmissions++;
                    awaitingSince[i] = 0;
                    ready.addInt(i); // the same request again, on the same flow
                }
                else
                {
                    startFlow(i);
                }
            }
        }
    }

    private LoadResult result(final long elapsedNanos)
    {
        final java.util.Map<String, Long> drops = new java.util.TreeMap<>();
        final long counted = transport.drops(drops);
        return new LoadResult(options, elapsedNanos, sent, received, requests, counted, drops, newFlows, flowsCompleted,
            backendChanged, untranslated, late, timedOut, unexpected, total.copy(), maxLagNanos);
    }

    static String micros(final long nanos)
    {
        return String.format(java.util.Locale.ROOT, "%.1f us", nanos / 1000.0);
    }
}
