package io.dpbench.packet;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Streaming reader of classic libpcap files (not pcapng) with the Ethernet link type: either byte order, micro- or
 * nanosecond timestamps. Each {@link #next()} copies one frame into a reused off-heap buffer, so reading allocates
 * nothing per frame and memory does not grow with the file.
 * <p>
 * Faults are {@link PcapFormatException}s naming the byte offset: a bad magic number, a link type other than
 * Ethernet, a record header cut short, a captured length above the 262144-byte maximum libpcap and Wireshark accept,
 * or a record whose bytes end before its captured length.
 */
public final class PcapReader implements AutoCloseable
{
    public static final int MAGIC_MICROS = 0xA1B2_C3D4;
    public static final int MAGIC_NANOS = 0xA1B2_3C4D;
    public static final int LINKTYPE_ETHERNET = 1;
    public static final int GLOBAL_HEADER_LENGTH = 24;
    public static final int RECORD_HEADER_LENGTH = 16;
    /** Largest captured length accepted (libpcap's MAXIMUM_SNAPLEN). */
    public static final int MAX_FRAME_LENGTH = 262_144;

    private static final int IO_BUFFER_LENGTH = 1 << 20;

    private final String name;
    private final FileChannel channel;
    private final ByteBuffer io = ByteBuffer.allocateDirect(IO_BUFFER_LENGTH);
    private final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_FRAME_LENGTH));
    private final boolean nanos;
    private final int snapLength;
    private final int linkType;
    private boolean eof;
    private long consumed;

    private long recordOffset;
    private long frameNumber;
    private int frameLength;
    private int originalLength;
    private long timestampNanos;

    private PcapReader(final Path path) throws IOException
    {
        name = path.toString();
        channel = FileChannel.open(path, StandardOpenOption.READ);
        try
        {
            io.limit(0);
            if (!fill(GLOBAL_HEADER_LENGTH))
            {
                throw new PcapFormatException(name, io.remaining(), "file too short for a pcap global header (24 bytes)");
            }
            final int magicBigEndian = io.order(ByteOrder.BIG_ENDIAN).getInt(io.position());
            if (magicBigEndian == MAGIC_MICROS || magicBigEndian == MAGIC_NANOS)
            {
                io.order(ByteOrder.BIG_ENDIAN);
            }
            else if (Integer.reverseBytes(magicBigEndian) == MAGIC_MICROS
                || Integer.reverseBytes(magicBigEndian) == MAGIC_NANOS)
            {
                io.order(ByteOrder.LITTLE_ENDIAN);
            }
            else if (magicBigEndian == 0x0A0D_0D0A)
            {
                throw new PcapFormatException(name, 0, "this is a pcapng file; convert it with "
                    + "'editcap -F pcap IN OUT' (dpbench reads classic pcap)");
            }
            else
            {
                throw new PcapFormatException(name, 0, String.format("not a pcap file (magic 0x%08x)", magicBigEndian));
            }
            final int magic = io.getInt();
            nanos = magic == MAGIC_NANOS;
            io.getShort(); // version major
            io.getShort(); // version minor
            io.getInt(); // thiszone
            io.getInt(); // sigfigs
            snapLength = io.getInt();
            linkType = io.getInt() & 0x0FFF_FFFF; // upper bits: FCS length flags
            consumed = GLOBAL_HEADER_LENGTH;
            if (linkType != LINKTYPE_ETHERNET)
            {
                throw new PcapFormatException(name, 20, "link type " + linkType + " is not Ethernet (1)");
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    public static PcapReader open(final Path path) throws IOException
    {
        return new PcapReader(path);
    }

    /**
     * Read the next record. Returns false at the end of the file (a clean end: no partial record); throws
     * {@link PcapFormatException} for a partial or malformed record.
     */
    public boolean next() throws IOException
    {
        recordOffset = consumed;
        if (!fill(RECORD_HEADER_LENGTH))
        {
            if (io.remaining() == 0)
            {
                return false;
            }
            throw new PcapFormatException(name, recordOffset, "record header cut short (" + io.remaining()
                + " of 16 bytes) after frame " + frameNumber);
        }
        final long seconds = io.getInt() & 0xFFFF_FFFFL;
        final long fraction = io.getInt() & 0xFFFF_FFFFL;
        final int captured = io.getInt();
        final int original = io.getInt();
        if (captured < 0 || captured > MAX_FRAME_LENGTH)
        {
            throw new PcapFormatException(name, recordOffset + 8, "frame " + (frameNumber + 1) + ": captured length "
                + (captured & 0xFFFF_FFFFL) + " exceeds the maximum " + MAX_FRAME_LENGTH);
        }
        if (!fill(captured))
        {
            throw new PcapFormatException(name, recordOffset + RECORD_HEADER_LENGTH, "frame " + (frameNumber + 1)
                + ": file ends after " + io.remaining() + " of its " + captured + " captured bytes");
        }
        frame.putBytes(0, io, io.position(), captured);
        io.position(io.position() + captured);
        consumed += RECORD_HEADER_LENGTH + captured;
        frameNumber++;
        frameLength = captured;
        originalLength = Math.max(original, captured);
        timestampNanos = seconds * 1_000_000_000L + (nanos ? fraction : fraction * 1_000L);
        return true;
    }

    /** Frame bytes start at index 0 of this buffer; valid until the next {@link #next()}. */
    public MutableDirectBuffer frame()
    {
        return frame;
    }

    public int frameLength()
    {
        return frameLength;
    }

    public int originalLength()
    {
        return originalLength;
    }

    public long timestampNanos()
    {
        return timestampNanos;
    }

    /** 1-based number of the frame last read, as Wireshark numbers frames. */
    public long frameNumber()
    {
        return frameNumber;
    }

    /** Byte offset in the file of the last record's header. */
    public long recordOffset()
    {
        return recordOffset;
    }

    public boolean nanosecondResolution()
    {
        return nanos;
    }

    public int snapLength()
    {
        return snapLength;
    }

    public String name()
    {
        return name;
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }

    /** Make at least {@code n} bytes readable in {@link #io}; false when the file ends first. */
    private boolean fill(final int n) throws IOException
    {
        if (io.remaining() >= n)
        {
            return true;
        }
        if (eof)
        {
            return false;
        }
        io.compact();
        try
        {
            while (io.position() < n)
            {
                if (channel.read(io) < 0)
                {
                    eof = true;
                    break;
                }
            }
        }
        finally
        {
            io.flip();
        }
        return io.remaining() >= n;
    }
}
