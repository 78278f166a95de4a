package io.dpbench.wire;

import io.dpbench.packet.DropReason;
import io.dpbench.vxlan.Encapsulation;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import java.util.function.IntFunction;

import io.dpbench.pipeline.FrameOutput;
import io.dpbench.pipeline.PacketBatch;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.pipeline.Stage;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node as a network process, a userspace VTEP (wire mode): it receives VXLAN datagrams (the 8-byte VXLAN header
 * and the inner Ethernet frame: the UDP payload a VTEP gets from its socket) on one UDP socket, Netty's native epoll
 * transport with batched receive (recvmmsg), validates the header (I flag, no reserved bits, its VNI), hands the
 * inner frame to the multi-worker {@link Pipeline}, and the workers send what leaves: a frame the overlay
 * encapsulated for another node (its encap stage writes just the UDP payload, the VXLAN header and the inner frame)
 * goes as it is to the VTEP address ({@link WireAddresses}) of the node the batch's next hop names; any other frame
 * is for a pod of this node and goes, with a VXLAN header, to the local pods' address. Which is which comes from the
 * stages ({@link FrameOutput#encapsulated} or {@link FrameOutput#frame}), never from the frame's bytes. Sends are
 * queued per frame and handed to the socket's event loop once per batch ({@link SocketTx}), which writes them and
 * flushes once (sendmmsg). In {@code reflect} mode (the physical limit for comparison) there is no pipeline: every
 * datagram goes back to its sender as it came.
 * <p>
 * <b>No copies.</b> The receive buffers leave {@value #RX_HEADROOM} bytes before every datagram
 * ({@link HeadroomRecvAllocator}); the pipeline is handed the received datagram's memory itself (a retained slice of
 * Netty's pooled buffer), rewrites it in place (NAT; the overlay's headers go where the received VXLAN header was),
 * and the worker sends a retained slice of that same memory; the worker gives its reference back after the batch.
 * Frames the stages made elsewhere (ICMP errors, fragments) are copied into a new buffer to be sent. With
 * {@code copyFrames} every frame is copied instead, into a batch slot at rx and into a new buffer at tx (for
 * comparison). Counters say which path each frame took.
 * <p>
 * Counters are read with {@link #counters}; {@link #close} stops receiving, drains the pipeline, flushes and closes
 * the socket.
 */
public final class WireNode implements AutoCloseable
{
    private final WireAddresses addresses;
    private final MultiThreadIoEventLoopGroup group;
    /** One socket per rx thread, all bound to the listen address with SO_REUSEPORT (the kernel spreads datagrams). */
    private final Channel[] channels;
    /** Per socket, the workers' sends on their way to its event loop. */
    private final SocketTx[] txs;
    private final Pipeline pipeline;
    private final boolean reflect;
    private final int vni;
    private final java.util.List<Receiver> receivers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong reflected = new AtomicLong();
    private final AtomicLong txErrors = new AtomicLong();
    private final java.util.List<WireOutput> outputs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long kernelDropsAtStart;
    private long kernelDropsAtClose = -1;
    private boolean closed;
    private final InetSocketAddress[] vteps;
    private final InetSocketAddress pods;
    private final boolean copyFrames;
    /** The threads that do the node's work: each socket's event loop, each worker. */
    private final long[] threadIds;
    /** References to received datagrams the workers have given back (any worker thread). */
    private final java.util.concurrent.atomic.LongAdder released = new java.util.concurrent.atomic.LongAdder();
    private final io.dpbench.pipeline.FrameRelease release = owner -> {
        ((ByteBuf)owner).release();
        released.increment();
    };

    /**
     * Bind {@code addresses.listen()} with {@code sockets} sockets on the port (SO_REUSEPORT), each read by its own
     * event loop thread, and start: {@code pipelines} starts the node's workers around the outputs it is given, one
     * per worker (it is not called in reflect mode, which needs no pipeline), with one rx producer per socket; each
     * worker's chain must end in this node's {@link #flushStage}, which flushes the worker's sends after each batch,
     * and its encap stage must write {@link #ENCAPSULATION} (the workers send what it wrote as it is).
     * {@code copyFrames} copies every frame at rx and tx instead of handing the receive buffer over.
     */
    public WireNode(final WireAddresses addresses, final PipelineFactory pipelines, final int vni,
        final boolean reflect, final int sockets, final boolean copyFrames) throws InterruptedException
    {
        if (sockets < 1 || sockets > 64)
        {
            throw new IllegalArgumentException("sockets must be between 1 and 64, got " + sockets);
        }
        if (!Epoll.isAvailable())
        {
            throw new IllegalStateException("Netty's native epoll transport is not available here: "
                + Epoll.unavailabilityCause());
        }
        this.addresses = addresses;
        this.vteps = new InetSocketAddress[addresses.topology().nodes()];
        for (int k = 0; k < vteps.length; k++)
        {
            vteps[k] = addresses.vtep(k);
        }
        this.pods = addresses.pods();
        this.reflect = reflect;
        this.vni = vni;
        this.copyFrames = copyFrames;
        this.group = new MultiThreadIoEventLoopGroup(sockets, EpollIoHandler.newFactory());
        // many small batches (rx hands over at the end of each receive burst) and a worker that backs off when idle:
        // rx is Netty's event loop, asleep in epoll_wait when idle, and the load often shares the machine
        this.channels = new Channel[sockets];
        this.txs = new SocketTx[sockets];
        for (int p = 0; p < sockets; p++)
        {
            txs[p] = new SocketTx(TX_QUEUE);
        }
        this.pipeline = reflect ? null : pipelines.start(w -> new WireOutput(w % sockets));
        // each datagram's slot in a receive burst: the largest datagram taken (VXLAN header and frame) plus the
        // headroom the next datagram finds in this slot's tail
        final int payload = MAX_DATAGRAM + RX_HEADROOM;
        // an IPv4 socket (Netty's default is dual-stack IPv6, which /proc/net/udp does not list)
        final Bootstrap b = new Bootstrap().group(group)
            .channelFactory(() -> new EpollDatagramChannel(io.netty.channel.socket.SocketProtocolFamily.INET))
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new io.netty.channel.WriteBufferWaterMark(8 << 20, 16 << 20))
            .option(EpollChannelOption.SO_REUSEPORT, true)
            .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, payload)
            .option(ChannelOption.SO_RCVBUF, 8 << 20)
            .option(ChannelOption.SO_SNDBUF, 8 << 20)
            .option(ChannelOption.AUTO_READ, false); // reading starts once this object is complete (below)
        try
        {
            for (int p = 0; p < sockets; p++)
            {
                // each socket its own receiver, on its own event loop: producer p of the pipeline
                final HeadroomRecvAllocator buffers = new HeadroomRecvAllocator(RX_HEADROOM, payload, 64);
                channels[p] = b.clone().option(ChannelOption.RCVBUF_ALLOCATOR, buffers)
                    .handler(new Receiver(p, buffers)).bind(addresses.listen()).sync().channel();
                txs[p].bind(channels[p]);
            }
        }
        catch (final Exception ex)
        {
            for (final Channel c : channels)
            {
                if (c != null)
                {
                    c.close();
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (pipeline != null)
            {
                pipeline.close();
            }
            throw new IllegalStateException("cannot listen on " + addresses.listen() + ": " + ex.getMessage(), ex);
        }
        this.kernelDropsAtStart = Math.max(0, SocketDrops.read(addresses.listen()));
        final long[] loops = new long[sockets];
        for (int p = 0; p < sockets; p++)
        {
            loops[p] = channels[p].eventLoop().submit(() -> Thread.currentThread().getId()).syncUninterruptibly().getNow();
        }
        final long[] work = pipeline != null ? pipeline.workerThreadIds() : new long[0];
        this.threadIds = java.util.stream.LongStream.concat(java.util.Arrays.stream(loops), java.util.Arrays.stream(work))
            .distinct().toArray();
        for (final Channel c : channels)
        {
            c.config().setAutoRead(true);
        }
    }

    /** Starts the node's workers, worker i sending through {@code outputs.apply(i)}. */
    @FunctionalInterface
    public interface PipelineFactory
    {
        Pipeline start(IntFunction<FrameOutput> outputs);
    }

    /**
     * What the encap stage of this node's workers must write (their node's configuration says so): the UDP payload,
     * the VXLAN header and the inner frame, which the workers send as it is; the kernel writes the IP and UDP headers.
     */
    public static final Encapsulation ENCAPSULATION = Encapsulation.UDP_PAYLOAD;
    /** The VXLAN header: what a UDP datagram between VTEPs carries before the inner frame. */
    private static final int VXLAN_HEADER = io.dpbench.packet.VxlanFlyweight.HEADER_LENGTH;
    /** Inner frames of up to 2 KiB (a 1500-byte MTU's frames with room; no jumbo frames in wire mode). */
    public static final int MAX_FRAME = 2048;
    /** The largest datagram taken: the VXLAN header and a frame of {@link #MAX_FRAME}; longer ones are dropped. */
    public static final int MAX_DATAGRAM = 8 + MAX_FRAME;
    /**
     * Room before each received datagram, a cache line: what encapsulating whole frames in place would need. The
     * encapsulation here writes the UDP payload only ({@link #ENCAPSULATION}: its VXLAN header takes the received
     * one's place), so nothing is written into this room any more; it stays with the receive buffers' layout
     * ({@link HeadroomRecvAllocator}) until that is simplified.
     */
    public static final int RX_HEADROOM = 64;
    /** Batches per worker ring: 256 x 64 slots of 2 KiB, ~35 MB per worker, a NIC ring's thousands of descriptors. */
    public static final int RING_BATCHES = 256;
    /** Datagrams queued per socket for its event loop to send: 64 batches' worth. */
    public static final int TX_QUEUE = 4096;

    /**
     * rx on one socket's event loop (producer {@code index} of the pipeline): validate the VXLAN header, hand the
     * inner frame over (or reflect the datagram). Its counters have one writer, this thread.
     */
    private final class Receiver extends SimpleChannelInboundHandler<DatagramPacket>
    {
        private final Pipeline.Rx rx;
        private final HeadroomRecvAllocator buffers;
        private final UnsafeBuffer rxView = new UnsafeBuffer(0, 0);
        /** This socket's vxlan device checks (per receiver: it keeps the last VNI it read). */
        private final VxlanDecapsulator vxlan = new VxlanDecapsulator(VxlanConfig.flannel().withVni(vni));
        private final byte[] rxCopy = new byte[MAX_DATAGRAM];
        private final AtomicLong received = new AtomicLong();
        /** Frames handed to the pipeline in the receive buffer (references taken), and copied into a batch slot. */
        private final AtomicLong zeroCopy = new AtomicLong();
        private final AtomicLong copied = new AtomicLong();
        private final AtomicLong[] drops = new AtomicLong[DropReason.count()];
        private long sequence;

        Receiver(final int index, final HeadroomRecvAllocator buffers)
        {
            this.buffers = buffers;
            this.rx = pipeline != null ? pipeline.rx(index) : null;
            for (int i = 0; i < drops.length; i++)
            {
                drops[i] = new AtomicLong();
            }
            receivers.add(this);
        }

        private void count(final DropReason reason)
        {
            drops[reason.ordinal()].lazySet(drops[reason.ordinal()].get() + 1);
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final DatagramPacket packet)
        {
            received.lazySet(received.get() + 1);
            final ByteBuf content = packet.content();
            if (reflect)
            {
                ctx.write(new DatagramPacket(content.retain(), packet.sender()));
                reflected.incrementAndGet();
                return;
            }
            final int length = content.readableBytes();
            if (length < 8 + 14)
            {
                count(DropReason.VXLAN_TRUNCATED);
                return;
            }
            if (length > MAX_DATAGRAM)
            {
                count(DropReason.VXLAN_OVERSIZE); // also a datagram the kernel cut to the receive slot (MSG_TRUNC)
                return;
            }
            final long address = content.hasMemoryAddress() ? content.memoryAddress() + content.readerIndex() : 0;
            if (address != 0)
            {
                rxView.wrap(address, length);
            }
            else
            {
                content.getBytes(content.readerIndex(), rxCopy, 0, length);
                rxView.wrap(rxCopy, 0, length);
            }
            // the vxlan device's own checks of the header (RFC 7348 flags, reserved bits, VNI; the frame's room)
            final DropReason bad = vxlan.checkVxlan(rxView, 0, length);
            if (bad != null)
            {
                count(bad == DropReason.DECAP_BAD_VXLAN_FLAGS ? DropReason.VXLAN_BAD_FLAGS
                    : bad == DropReason.DECAP_UNKNOWN_VNI ? DropReason.VXLAN_UNKNOWN_VNI : DropReason.VXLAN_TRUNCATED);
                return;
            }
            if (!copyFrames && address != 0 && buffers.owns(address))
            {
                // the frame stays where the kernel put it: the pipeline holds a reference until a worker is done
                content.retain();
                zeroCopy.lazySet(zeroCopy.get() + 1);
                rx.submitExternal(address + 8, RX_HEADROOM + 8, length - 8, content, release, System.nanoTime(),
                    sequence++);
                return;
            }
            copied.lazySet(copied.get() + 1);
            rx.submit(rxView, 8, length - 8, System.nanoTime(), sequence++);
        }

        /** A send that failed (written with the void promise, its failure comes here): counted. */
        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            txErrors.incrementAndGet();
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            if (reflect)
            {
                ctx.flush();
            }
            else
            {
                rx.flush(); // the end of a receive burst: hand over the partial batches
            }
        }
    }

    /**
     * A worker's tx: the frames its stages let out, as datagrams; the flush stage sends them after each batch. Owned
     * by the worker thread (writes from it are queued to the channel's event loop).
     */
    final class WireOutput implements FrameOutput
    {
        private final byte[] scratch = new byte[MAX_FRAME + 64];
        private final UnsafeBuffer header = new UnsafeBuffer(new byte[8]);
        private boolean pending;
        /** Written by this worker only (ordered stores), read by anyone. */
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong unroutable = new AtomicLong();
        private final AtomicLong txFull = new AtomicLong();
        /** Sends of the received memory itself, and sends copied into a new buffer. */
        private final AtomicLong zeroCopy = new AtomicLong();
        private final AtomicLong copied = new AtomicLong();

        /** The socket this worker sends on (bound after the chains are built: looked up when sending). */
        private final int socket;

        WireOutput(final int socket)
        {
            this.socket = socket;
            outputs.add(this);
            header.putInt(0, 0x0800_0000, ByteOrder.BIG_ENDIAN);
            header.putInt(4, vni << 8, ByteOrder.BIG_ENDIAN);
        }

        /** A frame that leaves as it is (no batch: none of the stages' frames), for a pod of this node. */
        @Override
        public void frame(final long seq, final long timestampNanos, final DirectBuffer buffer, final int offset,
            final int length)
        {
            send(null, pods, true, buffer, offset - VXLAN_HEADER, length + VXLAN_HEADER);
        }

        /**
         * A frame that leaves as it is (the tx stage's, or an ICMP error the encap stage answers a frame with): it is
         * for a pod of this node, and goes with this node's VXLAN header to the pods.
         */
        @Override
        public void frame(final PacketBatch batch, final int index, final DirectBuffer buffer, final int offset,
            final int length)
        {
            send(datagram(batch, index), pods, true, buffer, offset - VXLAN_HEADER, length + VXLAN_HEADER);
        }

        /**
         * A frame encapsulated for another node: the encap stage wrote the UDP payload ({@link #ENCAPSULATION}: the
         * VXLAN header and the inner frame), which goes as it is to the VTEP of the node the batch's next hop names
         * (the route stage's choice; the kernel adds IP and UDP). A next hop that is no other node's is unroutable.
         */
        @Override
        public void encapsulated(final PacketBatch batch, final int index, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final int node = batch.nextHop(index);
            send(datagram(batch, index), node > 0 && node < vteps.length ? vteps[node] : null, false, buffer, offset,
                length);
        }

        /** The received datagram frame {@code index} lies in (its owner), or null when frames are copied. */
        private ByteBuf datagram(final PacketBatch batch, final int index)
        {
            return copyFrames ? null : (ByteBuf)batch.owner(index);
        }

        /**
         * Send {@code [start, start + size)} of {@code buffer} to {@code to}; {@code withHeader}: its first 8 bytes
         * are this node's VXLAN header, written first (the frame itself starts after them). When the bytes lie in
         * the received datagram's memory ({@code datagram}, the frame's owner), a slice of it is sent; otherwise
         * they are copied into a new buffer.
         */
        private void send(final ByteBuf datagram, final InetSocketAddress to, final boolean withHeader,
            final DirectBuffer buffer, final int start, final int size)
        {
            if (to == null)
            {
                unroutable.lazySet(unroutable.get() + 1);
                return;
            }
            final SocketTx tx = txs[socket];
            if (!tx.channel().isWritable())
            {
                txFull.lazySet(txFull.get() + 1); // the socket's queue is over its high-water mark: drop, counted
                return;
            }
            ByteBuf out = null;
            if (datagram != null && buffer.byteArray() == null && start >= 0)
            {
                final long at = buffer.addressOffset() + start - datagram.memoryAddress();
                if (at >= 0 && at + size <= datagram.capacity())
                {
                    if (withHeader)
                    {
                        // the VXLAN header goes where the received one was (the frame's own headroom)
                        ((org.agrona.MutableDirectBuffer)buffer).putBytes(start, header, 0, VXLAN_HEADER);
                    }
                    out = datagram.retainedSlice((int)at, size);
                    zeroCopy.lazySet(zeroCopy.get() + 1);
                }
            }
            if (out == null)
            {
                if (withHeader)
                {
                    header.getBytes(0, scratch, 0, VXLAN_HEADER);
                    buffer.getBytes(start + VXLAN_HEADER, scratch, VXLAN_HEADER, size - VXLAN_HEADER);
                }
                else
                {
                    buffer.getBytes(start, scratch, 0, size);
                }
                out = PooledByteBufAllocator.DEFAULT.directBuffer(size);
                out.writeBytes(scratch, 0, size);
                copied.lazySet(copied.get() + 1);
            }
            if (!tx.offer(new DatagramPacket(out, to)))
            {
                out.release();
                txFull.lazySet(txFull.get() + 1); // the socket's tx queue is full: drop, counted
                return;
            }
            sent.lazySet(sent.get() + 1);
            pending = true;
        }

        void flush()
        {
            if (pending)
            {
                pending = false;
                txs[socket].schedule(); // one hand-over to the socket's event loop per batch
            }
        }
    }

    /** The last stage of each worker: flush the batch's sends (one sendmmsg burst). */
    public static Stage flushStage(final FrameOutput output)
    {
        final WireOutput wire = (WireOutput)output;
        return new Stage()
        {
            @Override
            public String name()
            {
                return "wire-flush";
            }

            @Override
            public void process(final PacketBatch batch)
            {
                wire.flush();
            }
        };
    }

    public Pipeline pipeline()
    {
        return pipeline;
    }

    /** Datagrams received, over every socket. */
    public long received()
    {
        return sum(receivers, r -> r.received);
    }

    /** Datagrams sent (or reflected). */
    public long sent()
    {
        return reflected.get() + sum(outputs, o -> o.sent);
    }

    /** A counter summed over the receivers or outputs (each counter has one writer; read from any thread). */
    private static <T> long sum(final java.util.List<T> owners, final java.util.function.Function<T, AtomicLong> counter)
    {
        long n = 0;
        for (final T o : owners)
        {
            n += counter.apply(o).get();
        }
        return n;
    }

    /** Frames handed to the pipeline in the receive buffer itself (no copy). */
    public long rxZeroCopy()
    {
        return sum(receivers, r -> r.zeroCopy);
    }

    /** Frames copied into a batch slot at rx. */
    public long rxCopied()
    {
        return sum(receivers, r -> r.copied);
    }

    /** Datagrams sent from the received memory (a slice of it), and sent from a copy. */
    public long txZeroCopy()
    {
        return sum(outputs, o -> o.zeroCopy);
    }

    public long txCopied()
    {
        return sum(outputs, o -> o.copied);
    }

    /** Received datagrams the pipeline still holds (handed over without a copy, not yet given back); 0 after close. */
    public long framesHeld()
    {
        return rxZeroCopy() - released.sum();
    }

    /**
     * Bytes of heap the node's threads (each socket's event loop, each worker) have allocated so far, from the JVM's
     * per-thread allocation counters; -1 where the JVM does not count them. Read it twice while the node runs and
     * divide by the datagrams in between to get the allocation per datagram.
     */
    public long allocatedBytes()
    {
        if (!(java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx)
            || !mx.isThreadAllocatedMemorySupported() || !mx.isThreadAllocatedMemoryEnabled())
        {
            return -1;
        }
        long sum = 0;
        for (final long id : threadIds)
        {
            sum += Math.max(0, mx.getThreadAllocatedBytes(id));
        }
        return sum;
    }

    /** Frames for an address that is no node's VTEP. */
    public long unroutable()
    {
        return sum(outputs, o -> o.unroutable);
    }

    /** Frames dropped because the socket's send queue was full. */
    public long txFull()
    {
        return sum(outputs, o -> o.txFull);
    }

    /** Sends that failed after they were queued. */
    public long txErrors()
    {
        return txErrors.get();
    }

    /** Datagrams the kernel dropped on this node's socket since it was bound (receive buffer full); -1 if unknown. */
    public long kernelDrops()
    {
        if (kernelDropsAtClose >= 0)
        {
            return kernelDropsAtClose;
        }
        final long now = SocketDrops.read(addresses.listen());
        return now < 0 ? -1 : now - kernelDropsAtStart;
    }

    public long rxDrops(final DropReason reason)
    {
        return sum(receivers, r -> r.drops[reason.ordinal()]);
    }

    public int localPort()
    {
        return ((InetSocketAddress)channels[0].localAddress()).getPort();
    }

    /** Send what the workers queued last, flush, read the kernel's drops, close the sockets. */
    private void finishSockets()
    {
        for (final SocketTx tx : txs)
        {
            tx.channel().eventLoop().submit(tx).syncUninterruptibly(); // what the workers queued last
        }
        for (final Channel c : channels)
        {
            c.flush();
        }
        kernelDropsAtClose = Math.max(0, kernelDrops()); // before the sockets (and their lines in /proc/net/udp) go
        for (final Channel c : channels)
        {
            c.close().syncUninterruptibly();
        }
    }

    /** Stop receiving, drain the workers (their last sends flushed), close the socket. Idempotent. */
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
            for (final Channel c : channels)
            {
                c.config().setAutoRead(false);
                c.eventLoop().submit(() -> { }).syncUninterruptibly(); // its rx has returned from its last read
            }
            if (pipeline != null)
            {
                for (int p = 0; p < channels.length; p++)
                {
                    final Pipeline.Rx rx = pipeline.rx(p);
                    channels[p].eventLoop().submit(rx::flush).syncUninterruptibly(); // from its own thread
                }
                try
                {
                    pipeline.close();
                }
                finally
                {
                    // also when a worker failed (close rethrows it): what the workers queued is still sent, so that
                    // the slices of received buffers it holds are released, and the sockets are closed
                    finishSockets();
                }
            }
            else
            {
                finishSockets();
            }
        }
        finally
        {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
