package io.dpbench.pipeline;

import org.agrona.DirectBuffer;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A worker's output kept in memory for a replay: each frame with its input sequence number and time. Frames from one
 * input frame are emitted together, in order, by one worker, so {@link #writeInOrder} can put the outputs of all
 * workers back into input order: a replay's output is then the same whatever the number of workers, wherever the
 * per-flow outcomes are. Holds at most {@link #MAX_BYTES} (a replay larger than that per worker is refused with a
 * clear error).
 * <p>
 * The log is a list of fixed-size off-heap chunks, a record never split across two: growing it allocates one more
 * chunk and copies nothing. (A single buffer doubled in place zeroed and copied the whole log at every doubling:
 * measured, 15-19% of a worker's time in a replay of new connections, issue 17.) Positions are virtual: chunk index
 * times {@link #CHUNK} plus the offset in it; a chunk's unused tail is skipped by the reader.
 */
public final class FrameLog implements FrameOutput
{
    /** Bytes per chunk (1 MiB): larger than any record (12 bytes and a frame of at most 64 KiB). */
    static final int CHUNK_SHIFT = 20;
    static final int CHUNK = 1 << CHUNK_SHIFT;
    private static final int MASK = CHUNK - 1;
    private static final int HEADER = 12;
    /** Written as a record's length where a chunk's records end before its last {@link #HEADER} bytes. */
    private static final int END_OF_CHUNK = -1;

    public static final int MAX_BYTES = Integer.MAX_VALUE - CHUNK;

    /** Receives frames in input order. */
    @FunctionalInterface
    public interface Sink
    {
        void frame(long timestampNanos, DirectBuffer buffer, int offset, int length) throws IOException;
    }

    private final java.util.ArrayList<UnsafeBuffer> chunks = new java.util.ArrayList<>();
    /** Per input frame that yielded output: sequence << 32 | position of its first record. */
    private final LongArrayList firsts = new LongArrayList();
    private int position;
    private long lastSequence = -1;
    private long frames;

    @Override
    public void frame(final long sequence, final long timestampNanos, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (sequence < 0 || sequence > Integer.MAX_VALUE)
        {
            throw new IllegalStateException("replay output is ordered for the first 2^31 input frames; replay the capture in parts");
        }
        if (HEADER + length > CHUNK)
        {
            throw new IllegalStateException("a frame of " + length + " bytes is larger than a replay log record can be");
        }
        int at = position & MASK;
        if (at + HEADER + length > CHUNK)
        {
            if (CHUNK - at >= HEADER)
            {
                chunks.get(position >>> CHUNK_SHIFT).putInt(at + 8, END_OF_CHUNK);
            }
            position = (position & ~MASK) + CHUNK; // the next chunk
            at = 0;
        }
        if ((long)position + HEADER + length > MAX_BYTES)
        {
            throw new IllegalStateException("a worker's replay output passed 2 GiB: replay the capture in parts");
        }
        final int index = position >>> CHUNK_SHIFT;
        if (index == chunks.size())
        {
            chunks.add(new UnsafeBuffer(ByteBuffer.allocateDirect(CHUNK)));
        }
        if (sequence != lastSequence)
        {
            firsts.addLong((sequence << 32) | position);
            lastSequence = sequence;
        }
        final UnsafeBuffer chunk = chunks.get(index);
        chunk.putLong(at, timestampNanos);
        chunk.putInt(at + 8, length);
        chunk.putBytes(at + HEADER, buffer, offset, length);
        position += HEADER + length;
        frames++;
    }

    public long frames()
    {
        return frames;
    }

    /**
     * Write every log's frames to {@code sink} in input order (for one input frame, in the order they were emitted).
     * Sequences must be below 2^31 (a pcap of two billion frames).
     */
    public static void writeInOrder(final FrameLog[] logs, final Sink sink) throws IOException
    {
        final long[][] order = new long[logs.length][];
        final int[] at = new int[logs.length];
        for (int w = 0; w < logs.length; w++)
        {
            order[w] = logs[w].firsts.toLongArray();
            java.util.Arrays.sort(order[w]); // sequence first: a batch's stages emit out of order
        }
        while (true)
        {
            int best = -1;
            for (int w = 0; w < logs.length; w++)
            {
                if (at[w] < order[w].length && (best < 0 || order[w][at[w]] >>> 32 < order[best][at[best]] >>> 32))
                {
                    best = w;
                }
            }
            if (best < 0)
            {
                return;
            }
            final FrameLog log = logs[best];
            final int start = (int)order[best][at[best]];
            at[best]++;
            // the records of this input frame run from start to the next first record in emission order
            int p = start;
            final int end = log.endOfRun(start);
            while (p < end)
            {
                final UnsafeBuffer chunk = log.chunks.get(p >>> CHUNK_SHIFT);
                final int inChunk = p & MASK;
                final int length = CHUNK - inChunk < HEADER ? END_OF_CHUNK : chunk.getInt(inChunk + 8);
                if (length == END_OF_CHUNK)
                {
                    p = (p & ~MASK) + CHUNK; // the run goes on in the next chunk
                    continue;
                }
                sink.frame(chunk.getLong(inChunk), chunk, inChunk + HEADER, length);
                p += HEADER + length;
            }
        }
    }

    private int[] runEnds;

    /** Where the run of records starting at {@code start} ends: the next run's start, or the end of the log. */
    private int endOfRun(final int start)
    {
        if (runEnds == null)
        {
            final int n = firsts.size();
            final int[] starts = new int[n];
            for (int i = 0; i < n; i++)
            {
                starts[i] = (int)firsts.getLong(i);
            }
            runEnds = starts; // emission order: positions increase
        }
        int lo = 0;
        int hi = runEnds.length - 1;
        while (lo < hi) // the run whose start is {@code start}
        {
            final int mid = (lo + hi) >>> 1;
            if (runEnds[mid] < start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo + 1 < runEnds.length ? runEnds[lo + 1] : position;
    }
}
