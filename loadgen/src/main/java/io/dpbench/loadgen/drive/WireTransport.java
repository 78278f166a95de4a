package io.dpbench.loadgen.drive;

import io.dpbench.wire.SocketDrops;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.Map;

/**
 * The node over UDP: {@code dpbench run} at {@code target} (node 0's VTEP). This side plays every other node's VTEP
 * (a socket on 127.0.1.k for k = 1..K-1) and node 0's pods (127.0.2.0), all on the target's port (ISSUE-NOTES,
 * issue 8: loopback only). A pod's frame leaves as a VXLAN datagram (I flag, VNI 1) from its node's socket; what
 * arrives on any socket is a frame the node delivered. Clients are pods of node 1 (everything enters the node under
 * test over VXLAN). Kernel socket drops (/proc/net/udp) on these sockets and on the target's are counted drops; the
 * node's own counted drops are in its counters ({@code dpbench run --json}).
 */
final class WireTransport implements Transport
{
    private final InetSocketAddress target;
    private final DatagramChannel[] sockets;
    private final ByteBuffer out = ByteBuffer.allocateDirect(2048);
    private final ByteBuffer in = ByteBuffer.allocateDirect(65536);
    private final UnsafeBuffer inView = new UnsafeBuffer(in);
    private long refused;
    private final long[] dropsAtStart;

    /** Node k's VTEP (k > 0) or node 0's pods (k = 0), on the target's port. */
    private InetSocketAddress address(final int k)
    {
        return new InetSocketAddress(k == 0 ? "127.0.2.0" : "127.0.1." + k, target.getPort());
    }

    WireTransport(final InetSocketAddress target, final int nodes)
    {
        if (nodes < 2)
        {
            throw new IllegalArgumentException("wire mode needs --nodes 2 or more (clients are pods of node 1)");
        }
        this.target = target;
        sockets = new DatagramChannel[nodes];
        dropsAtStart = new long[nodes];
        try
        {
            for (int k = 0; k < nodes; k++)
            {
                final DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
                c.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 8 << 20);
                c.bind(address(k));
                c.configureBlocking(false);
                sockets[k] = c;
                dropsAtStart[k] = Math.max(0, SocketDrops.read(address(k)));
            }
        }
        catch (final IOException ex)
        {
            close();
            throw new IllegalArgumentException("cannot bind the nodes' sockets on port " + target.getPort() + ": "
                + ex.getMessage(), ex);
        }
    }

    @Override
    public int clientNode()
    {
        return 1;
    }

    @Override
    public boolean send(final MutableDirectBuffer buffer, final int offset, final int length, final int node)
    {
        out.clear();
        out.putInt(0x0800_0000).putInt(1 << 8);
        buffer.getBytes(offset, out, 8, length);
        out.limit(8 + length).position(0);
        try
        {
            if (sockets[node].send(out, target) == 0)
            {
                refused++; // the socket's send buffer is full: not sent, counted
            }
            return true;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public int poll(final FrameHandler handler, final int limit)
    {
        int n = 0;
        try
        {
            for (final DatagramChannel c : sockets)
            {
                for (int i = 0; i < limit; i++)
                {
                    in.clear();
                    if (c.receive(in) == null)
                    {
                        break;
                    }
                    final int length = in.position();
                    n++;
                    if (length < 8 + 14 || (inView.getByte(0) & 0xFF) != 0x08
                        || (inView.getInt(4, ByteOrder.BIG_ENDIAN) >>> 8) != 1)
                    {
                        handler.frame(inView, 0, 0); // received but not a frame of ours
                        continue;
                    }
                    handler.frame(inView, 8, length - 8);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return n;
    }

    @Override
    public void idle()
    {
    }

    @Override
    public void drain(final FrameHandler handler, final java.util.function.LongSupplier sent, final long quietNanos)
    {
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < quietNanos)
        {
            if (poll(handler, 256) > 0)
            {
                quietSince = System.nanoTime();
            }
            else
            {
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public long dropsSoFar()
    {
        return refused;
    }

    @Override
    public long drops(final Map<String, Long> into)
    {
        long kernel = 0;
        for (int k = 0; k < sockets.length; k++)
        {
            kernel += Math.max(0, SocketDrops.read(address(k)) - dropsAtStart[k]); // ours only: the node counts its own
        }
        if (kernel > 0)
        {
            into.put("kernel-socket", kernel);
        }
        if (refused > 0)
        {
            into.put("send-buffer-full", refused);
        }
        return kernel + refused;
    }

    @Override
    public void close()
    {
        for (final DatagramChannel c : sockets)
        {
            if (c != null)
            {
                try
                {
                    c.close();
                }
                catch (final IOException ex)
                {
                    // closing: nothing left to do
                }
            }
        }
    }
}
