package io.dpbench.loadgen.drive;

import io.dpbench.model.ClusterModel;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;


/**
 * The node in this process: the generator's thread is the pipeline's rx; frames from pods on other nodes are
 * VXLAN-encapsulated as their node's flannel.1 would; what the workers send out comes back over one
 * single-producer single-consumer ring per worker (Agrona's OneToOneRingBuffer; a full ring drops and counts, never
 * blocking a worker) and is decapsulated when it went to another node.
 */
final class InProcessTransport implements Transport
{
    /**
     * Batches per worker ring: light traffic hands over small batches (an idle turn flushes), so the ring holds many
     * (256 x 64 frames of up to {@link #MAX_FRAME} bytes: ~28 MB per worker), like a NIC ring's thousands of
     * descriptors, so that a worker's pause of a few milliseconds (a conntrack reap, a GC) does not drop.
     */
    static final int RING_BATCHES = 256;
    /** The largest frame the generator sends or receives: 1464 + VXLAN's 50. */
    static final int MAX_FRAME = 1536;
    private static final int VXLAN_PORT = VxlanConfig.flannel().destinationPort();

    private final Node node;
    private final Pipeline pipeline;
    private final OneToOneRingBuffer[] returns;
    private final AtomicLong[] returnDrops;
    private final VxlanEncapsulator[] fromNode;
    private final RemoteVtep toUs;
    private final VxlanDecapsulator decapsulator = new VxlanDecapsulator(VxlanConfig.flannel());
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[2048]);
    private final MessageHandler reader = this::onMessage;
    private FrameHandler handler;
    private long sequence;
    private boolean closed;
    private long unexpected;

    /**
     * The node of {@code config} (an overlay of which this node is node 0; workers, mode, conntrack size) over
     * {@code model}; {@link #RING_BATCHES} batches per worker ring and frames of up to {@link #MAX_FRAME} bytes are
     * this transport's own, as is a full ring's policy: dropped in open loop, waited for in closed loop.
     */
    InProcessTransport(final ClusterModel model, final NodeConfig config, final boolean openLoop, final int flows)
        throws java.io.IOException, io.dpbench.model.RuleParseException
    {
        node = Node.open(NodeConfig.builder().mode(config.mode()).scheduler(config.scheduler()).seed(config.seed())
            .workers(config.workers()).overlayNodes(config.overlayNodes()).maxConntrack(config.maxConntrack())
            .kubeProxy(config.kubeProxy()).ringBatches(RING_BATCHES).maxFrame(MAX_FRAME)
            .overflow(openLoop ? Pipeline.Overflow.DROP : Pipeline.Overflow.WAIT).build(), model);
        final OverlayTopology topology = node.topology();
        fromNode = new VxlanEncapsulator[topology.nodes()];
        for (int k = 1; k < topology.nodes(); k++)
        {
            final RemoteVtep r = topology.remote(k);
            fromNode[k] = new VxlanEncapsulator(VxlanConfig.flannel(),
                new LocalVtep(r.address(), r.underlayMac(), r.vtepMac(), OverlayTopology.POD_NETWORK + (k << 8) + 1));
        }
        toUs = new RemoteVtep(topology.local().address(), topology.local().underlayMac(), topology.local().vtepMac());
        final int workers = config.workers();
        returns = new OneToOneRingBuffer[workers];
        returnDrops = new AtomicLong[workers];
        // room for every flow's request and reply at the largest frame, 1 MiB to 64 MiB per worker
        final int ringBytes = Integer.highestOneBit((int)Math.min(1L << 25, Math.max(1L << 20, flows * 2L * 1600))) * 2;
        for (int w = 0; w < workers; w++)
        {
            returns[w] = new OneToOneRingBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                ringBytes + RingBufferDescriptor.TRAILER_LENGTH, 64)));
            returnDrops[w] = new AtomicLong();
        }
        pipeline = node.start(w ->
        {
            final OneToOneRingBuffer ring = returns[w];
            final AtomicLong drops = returnDrops[w];
            return (seq, t, buffer, offset, length) ->
            {
                if (!ring.write(1, buffer, offset, length))
                {
                    drops.lazySet(drops.get() + 1);
                }
            };
        });
    }

    /** The cluster changed: the node applies it (the caller's thread; see {@link Node#apply}). */
    io.dpbench.control.SyncReport clusterChanged(final ClusterModel next)
    {
        return node.apply(next);
    }

    @Override
    public int clientNode()
    {
        return 0;
    }

    @Override
    public boolean send(final MutableDirectBuffer buffer, final int offset, final int length, final int node)
    {
        if (closed)
        {
            return false;
        }
        if (node > 0 && node < fromNode.length)
        {
            // the pod's node encapsulates it to us (its headroom: offset must leave VxlanConfig.OVERHEAD bytes)
            final VxlanEncapsulator encap = fromNode[node];
            final int start = encap.encapsulate(buffer, offset + 14, length - 14, toUs, encap.sourcePortFor(buffer, offset + 14));
            pipeline.submit(buffer, start, length + VxlanConfig.OVERHEAD, System.nanoTime(), sequence++);
        }
        else
        {
            pipeline.submit(buffer, offset, length, System.nanoTime(), sequence++);
        }
        return true;
    }

    @Override
    public int poll(final FrameHandler frames, final int limit)
    {
        handler = frames;
        int n = 0;
        for (final OneToOneRingBuffer ring : returns)
        {
            n += ring.read(reader, limit);
        }
        return n;
    }

    private void onMessage(final int type, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (length > 50 && (buffer.getByte(index + 23) & 0xFF) == 17
            && (buffer.getShort(index + 36, ByteOrder.BIG_ENDIAN) & 0xFFFF) == VXLAN_PORT)
        {
            final int inner = decapsulator.decapsulate(buffer, index, length);
            if (inner < 0)
            {
                unexpected++;
                handler.frame(scratch, 0, 0); // still a frame out: counted as received, unreadable
                return;
            }
            handler.frame(buffer, inner, decapsulator.innerLength());
            return;
        }
        handler.frame(buffer, index, length);
    }

    @Override
    public void idle()
    {
        pipeline.rx(0).flushIdle(); // a busy worker's batch keeps filling; the generator's next idle turn retries
    }

    @Override
    public void drain(final FrameHandler frames, final java.util.function.LongSupplier sent, final long quietNanos)
    {
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < quietNanos)
        {
            pipeline.flush();
            if (poll(frames, 256) > 0)
            {
                quietSince = System.nanoTime();
            }
            else if (pipeline.processed() + pipeline.rxMissedTotal() + pipeline.oversize() >= sent.getAsLong())
            {
                quietSince = Math.min(quietSince, System.nanoTime() - quietNanos + 20_000_000L); // 20 ms more
            }
            Thread.onSpinWait();
        }
        pipeline.close();
        closed = true;
        poll(frames, Integer.MAX_VALUE); // what the last batches sent
    }

    @Override
    public long dropsSoFar()
    {
        return pipeline.rxMissedTotal();
    }

    @Override
    public long drops(final Map<String, Long> into)
    {
        final long[] dropped = new long[DropReason.count()];
        pipeline.addDrops(dropped); // every stage's drops and the pipeline's own (rx-missed: a ring full)
        DropCounters.labelled(dropped, into);
        long total = 0;
        for (final long d : dropped)
        {
            total += d;
        }
        long returned = 0;
        for (final AtomicLong a : returnDrops)
        {
            returned += a.get();
        }
        total += put(into, "return-ring-full", returned);
        return total;
    }

    private static long put(final Map<String, Long> into, final String key, final long value)
    {
        if (value > 0)
        {
            into.put(key, value);
        }
        return value;
    }

    long unexpected()
    {
        return unexpected;
    }

    @Override
    public void close()
    {
        try
        {
            pipeline.close();
        }
        finally
        {
            node.close();
        }
    }
}
