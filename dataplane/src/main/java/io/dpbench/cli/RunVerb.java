package io.dpbench.cli;

import io.dpbench.verb.Verb;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.control.SyncReport;
import io.dpbench.control.SyncTotals;
import io.dpbench.model.ClusterModel;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.wire.WireAddresses;
import io.dpbench.wire.WireNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;


/** {@code dpbench run}: the node's dataplane as a network process, a userspace VTEP on a UDP socket (wire mode). */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    header = "Run the node's dataplane as a userspace VTEP: VXLAN over UDP in, through the pipeline, out to the VTEPs.",
    description = {
        "Node 0 of --nodes K listens on 127.0.1.0:PORT, or on --listen HOST:PORT (Netty epoll, batched receive;",
        "--sockets sockets with SO_REUSEPORT, one per worker by default, each read by its own thread) for VXLAN",
        "datagrams (the 8-byte header and the inner Ethernet frame), checks the header (I flag, reserved bits,",
        "--vni), and runs each inner frame through the pipeline (conntrack, iptables or IPVS on a new flow, NAT,",
        "route, encapsulation). A frame for a pod on node k leaves as a VXLAN datagram to 127.0.1.k:PORT; one for a",
        "pod of this node to 127.0.2.0:PORT. --reflect (or --null) sends every datagram back to its sender",
        "untouched: the host's UDP limit, for comparison. No copies: each frame is processed and sent in the",
        "receive buffer it arrived in (--copy-frames copies it in and out instead, the path to compare with).",
        "Counters every --interval seconds and at the end (kernel socket drops from /proc/net/udp, conntrack entries, the",
        "heap after the last GC; --json-lines prints each as a JSON line). SIGTERM (or",
        "--duration) stops it cleanly: receiving stops, the workers drain, the conntrack file is closed.",
        "",
        "Example: dpbench run --mode ipvs --services 1000 --nodes 8 --workers 1 --port 8472"
    })
public final class RunVerb implements Verb
{
    @Spec
    CommandSpec spec;




    @Option(names = "--nodes", paramLabel = "K", description = {"nodes of the overlay, this one is node 0 (default: 4, or as "
        + "many as a synthetic cluster's pods need, 200 a node)"})
    Integer nodesOption;


    @Option(names = "--sockets", paramLabel = "N", description = "UDP sockets on the port (SO_REUSEPORT), each read by its "
        + "own thread, a producer of its own rings to every worker (default: one per worker)")
    Integer sockets;

    @Option(names = "--port", paramLabel = "PORT", description = "the VTEPs' UDP port (default: 8472, or --listen's)")
    Integer portOption;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = {"where node 0 listens: a loopback address of its own "
        + "(default: its VTEP, 127.0.1.0) and the VTEPs' port,", "e.g. 127.0.0.1:8472 (the other nodes stay at 127.0.1.k:PORT)"})
    String listen;

    int port;

    @Option(names = "--vni", paramLabel = "VNI", defaultValue = "1", description = "VXLAN network identifier (default: ${DEFAULT-VALUE})")
    int vni;



    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "0", description = "stop after this long; 0 = run until SIGTERM (default: ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1", description = "print counters this often; 0 = only at the end (default: ${DEFAULT-VALUE})")
    int interval;

    @Option(names = {"--reflect", "--null"}, description = "no dataplane: send every datagram back to its sender (the host's UDP limit)")
    boolean reflect;

    @Option(names = "--copy-frames", description = "copy each received frame into the pipeline's batch and each sent frame into a "
        + "new buffer, instead of processing and sending the receive buffer itself (for comparison)")
    boolean copyFrames;

    @Option(names = "--watch", description = {"with --cluster FILE: re-read the file when it changes (as on SIGHUP) and "
        + "apply what changed", "to the running node (kube-proxy's sync: only the changed Services and endpoints; stale "
        + "UDP flows deleted)"})
    boolean watch;

    @Option(names = "--json", description = "print the final counters as one JSON object")
    boolean json;

    @Option(names = "--json-lines", description = "print every --interval's counters as one JSON object per line too "
        + "(instead of `run: {...}`; what `dpbench soak` samples)")
    boolean jsonLines;

    @Mixin
    ModeOptions modeOptions;

    @Mixin
    DataplaneOptions dataplane;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception
    {
        final int workers = dataplane.workers;
        if (workers < 1 || workers > 64)
        {
            throw new ParameterException(spec.commandLine(), "--workers must be between 1 and 64, got " + workers);
        }
        final int socketCount = sockets != null ? sockets : workers;
        if (socketCount < 1 || socketCount > 64)
        {
            throw new ParameterException(spec.commandLine(), "--sockets must be between 1 and 64, got " + socketCount);
        }
        String listenHost = "127.0.1.0";
        port = portOption != null ? portOption : 8472;
        if (listen != null)
        {
            final int colon = listen.lastIndexOf(':');
            final int listenPort;
            try
            {
                listenPort = Integer.parseInt(listen.substring(colon + 1));
            }
            catch (final RuntimeException ex)
            {
                throw new ParameterException(spec.commandLine(), "--listen: expected HOST:PORT, got '" + listen + "'");
            }
            if (colon <= 0)
            {
                throw new ParameterException(spec.commandLine(), "--listen: expected HOST:PORT, got '" + listen + "'");
            }
            if (portOption != null && portOption != listenPort)
            {
                throw new ParameterException(spec.commandLine(), "--listen's port " + listenPort + " and --port " + portOption
                    + " differ (every VTEP of the overlay uses one port)");
            }
            listenHost = listen.substring(0, colon);
            port = listenPort;
        }
        if (port < 1 || port > 65535)
        {
            throw new ParameterException(spec.commandLine(), (listen != null ? "--listen's port" : "--port")
                + " must be in 1..65535, got " + port);
        }
        if (vni < 0 || vni > 0xFF_FFFF)
        {
            throw new ParameterException(spec.commandLine(), "--vni must be in 0..16777215, got " + vni);
        }
        final int nodes = nodesOption != null ? nodesOption : cluster.nodesNeeded(4);
        if (duration < 0 || interval < 0 || nodes < 1 || nodes > 254)
        {
            throw new ParameterException(spec.commandLine(), "--duration and --interval must be 0 or more, --nodes 1..254");
        }
        final NodeConfig config;
        try
        {
            // the wire's node: rings deep as a NIC's, frames up to the wire's largest, a full ring drops (traffic
            // does not wait), workers that back off when idle (rx is Netty's event loop, asleep in epoll_wait); the
            // vxlan device's VNI is --vni; its encapsulation writes the UDP payload only (the VXLAN header and the
            // inner frame): the sockets' kernel writes the outer IP and UDP headers (to --port) and their checksum,
            // so dpbench computes no outer checksum (and rx checks no inner L4 checksum for one)
            config = NodeConfig.builder().mode(modeOptions.mode).scheduler(modeOptions.scheduler)
                .seed(dataplane.seed).workers(workers)
                .sockets(socketCount).overlayNodes(nodes)
                .vxlan(VxlanConfig.flannel().withVni(vni).withUdpChecksum(false))
                .encapsulation(WireNode.ENCAPSULATION)
                .stages("conntrack,route,encap,tx").ringBatches(WireNode.RING_BATCHES).maxFrame(WireNode.MAX_FRAME)
                .overflow(Pipeline.Overflow.DROP).idle(Pipeline.Idle.BACKOFF).maxConntrack(dataplane.maxConntrack)
                .conntrackFile(dataplane.conntrack).kubeProxy(node.toNodeConfig())
                .nftables(node.toNftablesSettings(node.toNodeConfig())).build();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final ClusterModel model = cluster.load(spec.commandLine().getErr(), nodes);
        final PrintWriter out = spec.commandLine().getOut();
        final WireAddresses addresses;
        try
        {
            addresses = new WireAddresses(OverlayTopology.generate(nodes), port, listenHost);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), "--listen: " + ex.getMessage());
        }
        try (Node running = Node.open(config, model))
        {
            final ConntrackTable table = running.table();
            syncTotals = running::syncTotals;
            staleRemoved = () ->
            {
                long sum = 0;
                for (int w = 0; w < workers; w++)
                {
                    sum += running.sync().staleFlowsRemoved(w);
                }
                return sum;
            };
            if (table.recovered())
            {
                spec.commandLine().getErr().println("run: " + dataplane.conntrack + ": recovered the table (its last writer did"
                    + " not close it, e.g. killed); its connections are kept");
            }
            final WireNode wire;
            try
            {
                wire = new WireNode(addresses, outputs -> running.start(outputs, WireNode::flushStage), vni, reflect,
                    socketCount, copyFrames);
            }
            catch (final IllegalStateException ex)
            {
                spec.commandLine().getErr().println("run: error: " + ex.getMessage());
                return 1;
            }
            final CountDownLatch stop = new CountDownLatch(1);
            final CountDownLatch stopped = new CountDownLatch(1);
            // SIGTERM: the JVM halts once its hooks return, so the hook waits for the clean stop below to finish
            final Thread hook = new Thread(() ->
            {
                stop.countDown();
                try
                {
                    stopped.await(20, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }, "dpbench-run-sigterm");
            Runtime.getRuntime().addShutdownHook(hook);
            try
            {
                out.println("run: node 0 listening on " + addresses.listen() + (reflect ? " (reflect)" : "") + ", "
                    + workers + " worker(s), " + socketCount + " socket(s), node k at 127.0.1.k:" + port + ", local pods at " + addresses.pods());
                out.flush();
                reload = new ClusterReload(cluster.file(), watch);
                allocatedAtStart = wire.allocatedBytes();
                final long end = duration > 0 ? System.nanoTime() + (long)(duration * 1e9) : Long.MAX_VALUE;
                long nextPrint = System.nanoTime() + interval * 1_000_000_000L;
                try
                {
                    while (System.nanoTime() < end)
                    {
                        final long waitNanos = Math.min(end, interval > 0 ? nextPrint : end) - System.nanoTime();
                        // short waits: a SIGHUP or a changed file is taken up within a fifth of a second
                        if (stop.await(Math.max(1, Math.min(waitNanos, 200_000_000L)), TimeUnit.NANOSECONDS))
                        {
                            break;
                        }
                        if (reload.reloadDue())
                        {
                            reload(running, nodes, out);
                        }
                        if (interval > 0 && System.nanoTime() >= nextPrint)
                        {
                            nextPrint += interval * 1_000_000_000L;
                            final Map<String, Object> now = counters(wire);
                            now.put("conntrack", connections(table));
                            now.put("heap-after-gc", HeapAfterGc.bytes());
                            out.println(jsonLines ? new ObjectMapper().writeValueAsString(now) : "run: " + now);
                            out.flush();
                        }
                    }
                }
                finally
                {
                    allocatedBeforeStop = wire.allocatedBytes(); // while the threads live (their counters go with them)
                    connectionsBeforeStop = connections(table);
                    datagramsBeforeStop = wire.received() + wire.sent();
                    wire.close();
                    try
                    {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    }
                    catch (final IllegalStateException ex)
                    {
                        // shutting down (SIGTERM): the hook has run
                    }
                }
                try
                {
                    final Map<String, Object> counters = counters(wire);
                    counters.put("conntrack", connectionsBeforeStop);
                    counters.put("heap-after-gc", HeapAfterGc.bytes());
                    out.println(json ? new ObjectMapper().writeValueAsString(counters) : "run: stopped: " + counters);
                    out.flush();
                }
                finally
                {
                    table.close(); // idempotent; closed here so that a SIGTERM's hook waits for it
                }
            }
            finally
            {
                stopped.countDown(); // whatever happened, a SIGTERM's hook stops waiting
            }
        }
        return 0;
    }

    private java.util.function.Supplier<SyncTotals> syncTotals;
    private java.util.function.LongSupplier staleRemoved;
    private ClusterReload reload;

    /**
     * Re-read the cluster file and apply what changed to the running node; a file that does not load (or rules that
     * do not compile) is reported and the node keeps its cluster.
     */
    private void reload(final Node running, final int nodes, final PrintWriter out)
    {
        try
        {
            final ClusterModel next = cluster.load(spec.commandLine().getErr(), nodes);
            final SyncReport report = running.apply(next);
            out.println("run: " + report.summary());
        }
        catch (final Exception ex)
        {
            out.println("run: " + cluster.file() + " not applied, the node keeps its cluster: " + ex.getMessage());
        }
        out.flush();
    }

    private long allocatedAtStart = -1;
    private long allocatedBeforeStop = -1;
    private long datagramsBeforeStop;
    private long connectionsBeforeStop = -1;

    /** Connections in the table; -1 once it is closed (on SIGTERM Chronicle's own shutdown hook may close it first). */
    private static long connections(final ConntrackTable table)
    {
        try
        {
            return table.primaryCount();
        }
        catch (final RuntimeException ex)
        {
            return -1;
        }
    }

    private Map<String, Object> counters(final WireNode wire)
    {
        final Map<String, Object> c = new LinkedHashMap<>();
        c.put("received", wire.received());
        c.put("sent", wire.sent());
        final long[] dropped = new long[DropReason.count()];
        if (wire.pipeline() != null)
        {
            // which path frames took: handed over and sent in the receive buffer, or copied
            c.put("rx-zero-copy", wire.rxZeroCopy());
            c.put("rx-copied", wire.rxCopied());
            c.put("tx-zero-copy", wire.txZeroCopy());
            c.put("tx-copied", wire.txCopied());
            c.put("held", wire.framesHeld());
            c.put("processed", wire.pipeline().processed());
            wire.pipeline().addDrops(dropped); // the workers' stages' and the pipeline's own
        }
        for (final DropReason r : DropReason.of(DropReason.Where.WIRE))
        {
            dropped[r.ordinal()] += wire.rxDrops(r);
        }
        dropped[DropReason.UNROUTABLE.ordinal()] += wire.unroutable();
        dropped[DropReason.TX_FULL.ordinal()] += wire.txFull();
        dropped[DropReason.TX_ERROR.ordinal()] += wire.txErrors();
        dropped[DropReason.KERNEL_SOCKET.ordinal()] += Math.max(0, wire.kernelDrops());
        final Map<String, Long> drops = DropCounters.labelled(dropped, new LinkedHashMap<>());
        if (syncTotals != null)
        {
            final SyncTotals t = syncTotals.get();
            if (t.syncs() > 0)
            {
                c.put("syncs", t.syncs());
                c.put("sync-last-ms", Math.round(t.lastNanos() / 1e4) / 100.0);
                c.put("sync-max-ms", Math.round(t.maxNanos() / 1e4) / 100.0);
                c.put("stale-udp-removed", staleRemoved.getAsLong());
            }
        }
        c.put("dropped", drops);
        final long allocated = allocatedBeforeStop >= 0 ? allocatedBeforeStop : wire.allocatedBytes();
        final long datagrams = allocatedBeforeStop >= 0 ? datagramsBeforeStop : wire.received() + wire.sent();
        if (allocatedAtStart >= 0 && allocated >= 0 && datagrams > 0)
        {
            // heap allocated by the node's threads (event loops and workers) per datagram received or sent, this run
            c.put("heap-bytes-per-datagram", Math.round(10.0 * (allocated - allocatedAtStart) / datagrams) / 10.0);
        }
        return c;
    }
}
