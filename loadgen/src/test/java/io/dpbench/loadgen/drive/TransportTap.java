package io.dpbench.loadgen.drive;

import org.agrona.MutableDirectBuffer;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * For tests: sees every datagram the node under test sent to a {@link LoadGenerator}'s {@link WireTransport}, as the
 * generator receives it, and can make the generator run one exchange at a time. The generator builds its transport
 * itself, so the tap replaces its {@code transport} field by reflection with a wrapper around it; install it before
 * {@link LoadGenerator#run()}. (If the field is renamed, this fails with a clear message rather than seeing nothing.)
 * <p>
 * <b>One exchange at a time.</b> With several flows in flight, the order in which replies come back decides which
 * flow makes the generator's next seeded random draws (frame sizes, the next flow's Service and client), so what it
 * sends depends on timing. In this mode, a client's request (tag direction {@link LoadGenerator#REQUEST}) is held in
 * {@link #send} while an earlier request has not had its reply: the tap receives for the generator (its own handler,
 * re-entered on its own thread) until that reply has been handled, then sends. Every draw then happens at a point
 * fixed by the sequence of events, not by the clock: the generator's closed loop draws the next request's size,
 * then the previous exchange's reply is handled, then the request leaves. The generator's 500 ms time-out is the one
 * clock left ({@link LoadResult#timedOut()} must stay 0 for a run to be reproducible).
 */
public final class TransportTap implements Transport
{
    private static final long WAIT_NANOS = 20_000_000_000L;

    private final Transport inner;
    private final Consumer<byte[]> datagrams;
    private final boolean oneAtATime;
    private FrameHandler handler;
    private int outstanding;
    private long waits;

    private TransportTap(final Transport inner, final Consumer<byte[]> datagrams, final boolean oneAtATime)
    {
        this.inner = inner;
        this.datagrams = datagrams;
        this.oneAtATime = oneAtATime;
    }

    /**
     * Every datagram the generator receives from now on goes to {@code datagrams} (on its thread) as its UDP payload:
     * the VXLAN header and the inner frame; one that is not a VXLAN frame of the overlay comes as an empty array (the
     * transport does not pass its bytes on).
     */
    public static TransportTap install(final LoadGenerator generator, final Consumer<byte[]> datagrams,
        final boolean oneExchangeAtATime)
    {
        try
        {
            final Field field = LoadGenerator.class.getDeclaredField("transport");
            field.setAccessible(true);
            final Transport transport = (Transport)field.get(generator);
            if (!(transport instanceof WireTransport))
            {
                throw new IllegalStateException("the generator's transport is " + transport.getClass().getName()
                    + ", not WireTransport: give it a wire target");
            }
            final TransportTap tap = new TransportTap(transport, datagrams, oneExchangeAtATime);
            field.set(generator, tap);
            return tap;
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new IllegalStateException("cannot tap LoadGenerator's transport (its field 'transport' changed?): " + ex, ex);
        }
    }

    /** Requests that had to wait for the previous exchange (one-at-a-time mode). */
    public long waits()
    {
        return waits;
    }

    /**
     * The generator's tag direction ({@link LoadGenerator#REQUEST}, {@link LoadGenerator#REPLY},
     * {@link LoadGenerator#FINAL}) of the Ethernet frame at {@code frame} in {@code d}, or -1 when it has none.
     */
    public static int direction(final byte[] d, final int frame)
    {
        final int ip = frame + 14;
        if (d.length < ip + 20 || (d[ip] & 0xF0) != 0x40)
        {
            return -1;
        }
        final int protocol = d[ip + 9] & 0xFF;
        final int l4 = ip + (d[ip] & 0x0F) * 4;
        if ((protocol != 6 && protocol != 17) || d.length < l4 + 20)
        {
            return -1;
        }
        final int tag = l4 + (protocol == 6 ? ((d[l4 + 12] & 0xF0) >>> 2) : 8);
        return d.length >= tag + LoadGenerator.TAG_LENGTH ? d[tag + 16] : -1;
    }

    private FrameHandler tapped(final FrameHandler generatorHandler)
    {
        return (buffer, offset, length) ->
        {
            final byte[] d;
            if (length == 0 || offset < 8)
            {
                d = new byte[0];
            }
            else
            {
                d = new byte[8 + length];
                buffer.getBytes(offset - 8, d); // WireTransport hands the frame after the VXLAN header it checked
            }
            datagrams.accept(d);
            generatorHandler.frame(buffer, offset, length);
            if (direction(d, 8) == LoadGenerator.REPLY)
            {
                outstanding--; // handled: the exchange is over
            }
        };
    }

    @Override
    public boolean send(final MutableDirectBuffer buffer, final int offset, final int length, final int node)
    {
        if (!oneAtATime)
        {
            return inner.send(buffer, offset, length, node);
        }
        final byte[] frame = new byte[length]; // the generator's send buffer is reused by what it handles meanwhile
        buffer.getBytes(offset, frame);
        if (direction(frame, 0) == LoadGenerator.REQUEST)
        {
            if (outstanding > 0)
            {
                waits++;
                final long deadline = System.nanoTime() + WAIT_NANOS;
                while (outstanding > 0)
                {
                    if (System.nanoTime() > deadline)
                    {
                        throw new IllegalStateException("no reply for 20 s to the exchange in flight");
                    }
                    if (handler == null || inner.poll(tapped(handler), 16) == 0)
                    {
                        Thread.onSpinWait();
                    }
                }
            }
            outstanding++;
        }
        return inner.send(new org.agrona.concurrent.UnsafeBuffer(frame), 0, length, node);
    }

    @Override
    public int poll(final FrameHandler generatorHandler, final int limit)
    {
        handler = generatorHandler;
        return inner.poll(tapped(generatorHandler), limit);
    }

    @Override
    public void idle()
    {
        inner.idle();
    }

    @Override
    public void drain(final FrameHandler generatorHandler, final LongSupplier sent, final long quietNanos)
    {
        inner.drain(tapped(generatorHandler), sent, quietNanos);
    }

    @Override
    public long dropsSoFar()
    {
        return inner.dropsSoFar();
    }

    @Override
    public long drops(final Map<String, Long> into)
    {
        return inner.drops(into);
    }

    @Override
    public int clientNode()
    {
        return inner.clientNode();
    }

    @Override
    public void close()
    {
        inner.close();
    }
}
