package io.dpbench.pipeline;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link FrameLog}'s chunked storage: records that would cross a chunk's end start the next chunk, runs of one input
 * frame that span two chunks are read whole, and the logs of several workers come back in input order.
 */
final class FrameLogTest
{
    private record Out(long sequence, long time, byte[] bytes)
    {
    }

    @Test
    void framesComeBackInInputOrderAcrossChunkBoundaries() throws Exception
    {
        final Random random = new Random(17);
        final FrameLog[] logs = {new FrameLog(), new FrameLog(), new FrameLog()};
        final List<Out> expected = new ArrayList<>();
        long bytes = 0;
        for (long sequence = 0; sequence < 6_000; sequence++)
        {
            // an input frame yields 0-3 outputs, all from one worker (as a worker emits them)
            final FrameLog log = logs[random.nextInt(logs.length)];
            final int outputs = random.nextInt(4);
            for (int k = 0; k < outputs; k++)
            {
                // mostly small frames, some near the largest, so that chunk ends fall everywhere
                final int length = random.nextInt(10) == 0 ? 60_000 + random.nextInt(5_000) : 1 + random.nextInt(1_600);
                final byte[] frame = new byte[length];
                random.nextBytes(frame);
                final long time = sequence * 1_000 + k;
                log.frame(sequence, time, new UnsafeBuffer(frame), 0, length);
                expected.add(new Out(sequence, time, frame));
                bytes += length;
            }
        }
        // the test means something only if the logs span many chunks each
        assertEquals(true, bytes > 20L * FrameLog.CHUNK, "bytes logged: " + bytes);

        final List<Out> actual = new ArrayList<>();
        FrameLog.writeInOrder(logs, (time, buffer, offset, length) ->
        {
            final byte[] frame = new byte[length];
            buffer.getBytes(offset, frame);
            actual.add(new Out(-1, time, frame));
        });
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++)
        {
            assertEquals(expected.get(i).time(), actual.get(i).time(), "frame " + i);
            assertArrayEquals(expected.get(i).bytes(), actual.get(i).bytes(), "frame " + i);
        }
        assertEquals(expected.size(), logs[0].frames() + logs[1].frames() + logs[2].frames());
    }

    /** A chunk left with {@code slack} bytes after its last record: none, less than a header, a header, more. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 11, 12, 13, 100})
    void aRunGoesOnInTheNextChunkWhateverTheSlackLeft(final int slack) throws Exception
    {
        final FrameLog log = new FrameLog();
        final int big = 65_000;
        final List<Integer> lengths = new ArrayList<>();
        int used = 0;
        long sequence = 0;
        // fill the first chunk up to slack bytes before its end with records of one run, then go on in the next
        while (FrameLog.CHUNK - used > 12 + big + 12)
        {
            log.frame(sequence, 0, new UnsafeBuffer(new byte[big]), 0, big);
            lengths.add(big);
            used += 12 + big;
        }
        final int last = FrameLog.CHUNK - used - 12 - slack;
        for (final int length : new int[] {last, 5, 7})
        {
            log.frame(sequence, 0, new UnsafeBuffer(new byte[length]), 0, length);
            lengths.add(length);
        }
        final List<Integer> read = new ArrayList<>();
        FrameLog.writeInOrder(new FrameLog[] {log}, (time, buffer, offset, length) -> read.add(length));
        assertEquals(lengths, read);
    }
}
