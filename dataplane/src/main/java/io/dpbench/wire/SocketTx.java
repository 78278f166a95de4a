package io.dpbench.wire;

import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import org.jctools.queues.MpscArrayQueue;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The sends of the workers on one socket, handed to its event loop a batch at a time. Netty runs a write from a
 * thread other than the channel's event loop as a task of its own (a queued task per datagram, and a wake-up of the
 * loop when it sleeps); here a worker offers its datagrams to a bounded lock-free queue (several workers may share
 * a socket) and, after each batch, schedules one drain, which writes everything queued and flushes once (one
 * sendmmsg burst). A full queue refuses the datagram: the caller drops and counts it, as a NIC's full tx ring does.
 */
final class SocketTx implements Runnable
{
    private final MpscArrayQueue<DatagramPacket> queue;
    /** Set while a drain is scheduled and has not yet started polling. */
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile Channel channel;

    SocketTx(final int capacity)
    {
        this.queue = new MpscArrayQueue<>(capacity);
    }

    void bind(final Channel c)
    {
        this.channel = c;
    }

    Channel channel()
    {
        return channel;
    }

    /** Queue a datagram (any thread); false when the queue is full (the datagram is still the caller's). */
    boolean offer(final DatagramPacket packet)
    {
        return queue.offer(packet);
    }

    /** Have the event loop send what is queued (any thread); at most one drain is pending at a time. */
    void schedule()
    {
        if (scheduled.compareAndSet(false, true))
        {
            channel.eventLoop().execute(this);
        }
    }

    /** The drain, on the event loop: everything queued, then one flush. */
    @Override
    public void run()
    {
        // cleared before polling: a datagram offered after the last poll below schedules a drain of its own
        scheduled.set(false);
        final Channel c = channel;
        boolean any = false;
        DatagramPacket packet;
        while ((packet = queue.poll()) != null)
        {
            c.write(packet, c.voidPromise());
            any = true;
        }
        if (any)
        {
            c.flush();
        }
    }

    /** Datagrams queued and not yet written. */
    int queued()
    {
        return queue.size();
    }
}
