package io.dpbench.conntrack;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over one conntrack entry's fixed-size value, the bytes Chronicle Map stores (no per-entry
 * serialization): the original and reply tuples (packed as {@link io.dpbench.packet.FlowKey} packs them; the reply
 * tuple carries the NAT binding, as in Linux where a DNATed connection's reply tuple starts at the backend), status
 * bits with the kernel's IPS_* values, protocol state, mark, expiry and creation times, packet and byte counters.
 * <pre>
 *  0  original addresses (8)      8  original ports+protocol (8)
 * 16  reply addresses (8)        24  reply ports+protocol (8)
 * 32  expiry, ms (8)             40  status IPS_* (4)   44 protocol state (4)
 * 48  mark (4)                   52  kind: 0 entry, 1 reply-direction index (4)
 * 56  original packets (8)       64  original bytes (8)
 * 72  reply packets (8)          80  reply bytes (8)
 * 88  created, ms (8)
 * </pre>
 * A reply-direction index record holds only the original tuple: the key of the entry it points to.
 */
public final class ConntrackRecord
{
    public static final int LENGTH = 96;

    /** nf_conntrack_common.h IPS_* bits. */
    public static final int IPS_EXPECTED = 1;
    public static final int IPS_SEEN_REPLY = 1 << 1;
    public static final int IPS_ASSURED = 1 << 2;
    public static final int IPS_CONFIRMED = 1 << 3;
    public static final int IPS_SRC_NAT = 1 << 4;
    public static final int IPS_DST_NAT = 1 << 5;

    public static final int KIND_ENTRY = 0;
    public static final int KIND_REPLY_INDEX = 1;

    private static final int ORIGINAL_ADDRESSES = 0;
    private static final int ORIGINAL_PORTS = 8;
    private static final int REPLY_ADDRESSES = 16;
    private static final int REPLY_PORTS = 24;
    private static final int EXPIRY = 32;
    private static final int STATUS = 40;
    private static final int STATE = 44;
    private static final int MARK = 48;
    private static final int KIND = 52;
    private static final int ORIGINAL_PACKETS = 56;
    private static final int ORIGINAL_BYTES = 64;
    private static final int REPLY_PACKETS = 72;
    private static final int REPLY_BYTES = 80;
    private static final int CREATED = 88;

    /** The record's own bytes; for a view, the staging copy handed to the map ({@link #bytes()}). */
    private final byte[] bytes = new byte[LENGTH];
    private final UnsafeBuffer buffer;
    /** Where the record starts in {@link #buffer}: 0 for a record of its own, the slot's offset for a view. */
    private int base;
    private final boolean view;

    public ConntrackRecord()
    {
        this.buffer = new UnsafeBuffer(bytes);
        this.view = false;
    }

    /**
     * A view of records laid out back to back in {@code records} (a worker's flow cache: one flat block, so that a
     * lookup touches the record's own cache lines and no object per connection); {@link #wrap} moves it.
     */
    ConntrackRecord(final UnsafeBuffer records)
    {
        this.buffer = records;
        this.view = true;
    }

    /** Point this view at the record starting at byte {@code offset} of its block. */
    ConntrackRecord wrap(final int offset)
    {
        base = offset;
        return this;
    }

    /**
     * The record's bytes as an array (what is stored in and read from the map). For a view, a copy taken now: the
     * map reads it; writes into it do not reach the view ({@link #readFrom} does that).
     */
    byte[] bytes()
    {
        if (view)
        {
            buffer.getBytes(base, bytes, 0, LENGTH);
        }
        return bytes;
    }

    /** For a view: take what the map wrote into {@link #bytes()}. */
    void readFromBytes()
    {
        if (view)
        {
            buffer.putBytes(base, bytes, 0, LENGTH);
        }
    }

    public ConntrackRecord clear()
    {
        buffer.setMemory(base, LENGTH, (byte)0);
        return this;
    }

    public long originalAddresses()
    {
        return buffer.getLong(base + ORIGINAL_ADDRESSES, ByteOrder.LITTLE_ENDIAN);
    }

    public long originalPorts()
    {
        return buffer.getLong(base + ORIGINAL_PORTS, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord original(final long addresses, final long portsAndProtocol)
    {
        buffer.putLong(base + ORIGINAL_ADDRESSES, addresses, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(base + ORIGINAL_PORTS, portsAndProtocol, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public long replyAddresses()
    {
        return buffer.getLong(base + REPLY_ADDRESSES, ByteOrder.LITTLE_ENDIAN);
    }

    public long replyPorts()
    {
        return buffer.getLong(base + REPLY_PORTS, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord reply(final long addresses, final long portsAndProtocol)
    {
        buffer.putLong(base + REPLY_ADDRESSES, addresses, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(base + REPLY_PORTS, portsAndProtocol, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public long expiryMillis()
    {
        return buffer.getLong(base + EXPIRY, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord expiryMillis(final long millis)
    {
        buffer.putLong(base + EXPIRY, millis, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public long createdMillis()
    {
        return buffer.getLong(base + CREATED, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord createdMillis(final long millis)
    {
        buffer.putLong(base + CREATED, millis, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int status()
    {
        return buffer.getInt(base + STATUS, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord status(final int status)
    {
        buffer.putInt(base + STATUS, status, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public boolean assured()
    {
        return (status() & IPS_ASSURED) != 0;
    }

    public int state()
    {
        return buffer.getInt(base + STATE, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord state(final int state)
    {
        buffer.putInt(base + STATE, state, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int mark()
    {
        return buffer.getInt(base + MARK, ByteOrder.LITTLE_ENDIAN);
    }

    public ConntrackRecord mark(final int mark)
    {
        buffer.putInt(base + MARK, mark, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int kind()
    {
        return buffer.getInt(base + KIND, ByteOrder.LITTLE_ENDIAN);
    }

    ConntrackRecord kind(final int kind)
    {
        buffer.putInt(base + KIND, kind, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public long originalPackets()
    {
        return buffer.getLong(base + ORIGINAL_PACKETS, ByteOrder.LITTLE_ENDIAN);
    }

    public long originalBytes()
    {
        return buffer.getLong(base + ORIGINAL_BYTES, ByteOrder.LITTLE_ENDIAN);
    }

    public long replyPackets()
    {
        return buffer.getLong(base + REPLY_PACKETS, ByteOrder.LITTLE_ENDIAN);
    }

    public long replyBytes()
    {
        return buffer.getLong(base + REPLY_BYTES, ByteOrder.LITTLE_ENDIAN);
    }

    /** Count one packet of {@code length} bytes in a direction (0 original, 1 reply). */
    public ConntrackRecord count(final int direction, final int length)
    {
        final int packets = base + (direction == 0 ? ORIGINAL_PACKETS : REPLY_PACKETS);
        final int octets = base + (direction == 0 ? ORIGINAL_BYTES : REPLY_BYTES);
        buffer.putLong(packets, buffer.getLong(packets, ByteOrder.LITTLE_ENDIAN) + 1, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(octets, buffer.getLong(octets, ByteOrder.LITTLE_ENDIAN) + length, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    void copyFrom(final ConntrackRecord other)
    {
        buffer.putBytes(base, other.buffer, other.base, LENGTH);
    }
}
