package io.dpbench.packet;

import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Streaming writer of classic libpcap files, Ethernet link type, little-endian, microsecond timestamps by default
 * (nanosecond on request). Records go through one reused direct buffer, flushed when full and on {@link #close()}.
 */
public final class PcapWriter implements AutoCloseable
{
    private static final int IO_BUFFER_LENGTH = 1 << 20;

    private final FileChannel channel;
    private final ByteBuffer io = ByteBuffer.allocateDirect(IO_BUFFER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final boolean nanos;
    private long frames;

    private PcapWriter(final Path path, final boolean nanos) throws IOException
    {
        this.nanos = nanos;
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
        io.putInt(nanos ? PcapReader.MAGIC_NANOS : PcapReader.MAGIC_MICROS);
        io.putShort((short)2);
        io.putShort((short)4);
        io.putInt(0);
        io.putInt(0);
        io.putInt(PcapReader.MAX_FRAME_LENGTH);
        io.putInt(PcapReader.LINKTYPE_ETHERNET);
    }

    public static PcapWriter create(final Path path) throws IOException
    {
        return new PcapWriter(path, false);
    }

    public static PcapWriter create(final Path path, final boolean nanosecondTimestamps) throws IOException
    {
        return new PcapWriter(path, nanosecondTimestamps);
    }

    /** Append one frame; its original length is its captured length. */
    public void write(final DirectBuffer buffer, final int offset, final int length, final long timestampNanos)
        throws IOException
    {
        write(buffer, offset, length, length, timestampNanos);
    }

    public void write(final DirectBuffer buffer, final int offset, final int length, final int originalLength,
        final long timestampNanos) throws IOException
    {
        if (length < 0 || length > PcapReader.MAX_FRAME_LENGTH)
        {
            throw new IllegalArgumentException("frame length " + length + " outside 0.." + PcapReader.MAX_FRAME_LENGTH);
        }
        if (io.remaining() < PcapReader.RECORD_HEADER_LENGTH + length)
        {
            flush();
        }
        final long seconds = timestampNanos / 1_000_000_000L;
        final long fraction = timestampNanos % 1_000_000_000L;
        io.putInt((int)seconds);
        io.putInt((int)(nanos ? fraction : fraction / 1_000L));
        io.putInt(length);
        io.putInt(Math.max(originalLength, length));
        buffer.getBytes(offset, io, io.position(), length);
        io.position(io.position() + length);
        frames++;
    }

    public long frames()
    {
        return frames;
    }

    public void flush() throws IOException
    {
        io.flip();
        while (io.hasRemaining())
        {
            channel.write(io);
        }
        io.clear();
    }

    @Override
    public void close() throws IOException
    {
        try
        {
            flush();
        }
        finally
        {
            channel.close();
        }
    }
}
