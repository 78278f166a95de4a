package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;

/**
 * What every header flyweight has: the buffer it is wrapped over and the offset of its header there. Subclasses
 * read and write their fields in place (network byte order) and return themselves from setters, so calls chain:
 * {@code udp.wrap(buffer, at).sourcePort(p).length(n)}. Re-wrapping is free; nothing is copied or allocated.
 *
 * @param <T> the concrete flyweight, which {@link #wrap} and the setters return
 */
public abstract class HeaderFlyweight<T extends HeaderFlyweight<T>>
{
    MutableDirectBuffer buffer;
    int offset;

    HeaderFlyweight()
    {
    }

    /** Point this flyweight at the header that starts at {@code offset} in {@code buffer}. */
    public final T wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return self();
    }

    public final MutableDirectBuffer buffer()
    {
        return buffer;
    }

    public final int offset()
    {
        return offset;
    }

    @SuppressWarnings("unchecked")
    final T self()
    {
        return (T)this;
    }
}
