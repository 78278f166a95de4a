package io.dpbench.fuzz;

import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Ethernet frames: {@link PacketParser#parse} gives exactly one counted {@link Verdict}, never throws, never reads
 * past the frame (the frame is the whole of a buffer of exactly its length; Agrona's bounds checks are on). The
 * first input byte is a mode, the rest the frame: bit 0 rewrites the IPv4 and TCP/UDP checksums after mutation (so
 * mutations get past the checksum checks), bit 1 selects the parser that verifies L4 checksums.
 */
public final class FrameTarget implements FuzzTarget
{
    private static final FrameTarget INSTANCE = new FrameTarget();

    private final PacketParser parser = new PacketParser(false);
    private final PacketParser verifying = new PacketParser(true);
    private final ParsedPacket parsed = new ParsedPacket();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[0]);

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "frame";
    }

    @Override
    public void test(final byte[] input)
    {
        if (input.length == 0)
        {
            return;
        }
        final int mode = input[0];
        final byte[] bytes = java.util.Arrays.copyOfRange(input, 1, input.length);
        frame.wrap(bytes);
        if ((mode & 1) != 0)
        {
            ChecksumFixer.fixAll(frame, 0, bytes.length);
        }
        checkOneVerdict((mode & 2) != 0 ? verifying : parser, frame, bytes.length, parsed);
    }

    /** Parse the whole of {@code buffer} (of exactly {@code length} bytes); the verdict must be counted once. */
    static Verdict checkOneVerdict(final PacketParser parser, final UnsafeBuffer buffer, final int length,
        final ParsedPacket parsed)
    {
        if (buffer.capacity() != length)
        {
            throw new IllegalStateException("frame buffer of " + buffer.capacity() + " bytes for a " + length + "-byte frame");
        }
        final long before = parser.total();
        final Verdict verdict = parser.parse(buffer, 0, length, parsed);
        if (verdict == null)
        {
            throw new PropertyViolation("no verdict");
        }
        if (parser.total() != before + 1)
        {
            throw new PropertyViolation("verdict " + verdict + " counted " + (parser.total() - before) + " times");
        }
        if (verdict == Verdict.OK && (parsed.l4Offset < 0 || parsed.l4Offset + parsed.l4Length > length))
        {
            throw new PropertyViolation("ok frame with L4 at " + parsed.l4Offset + "+" + parsed.l4Length
                + " outside its " + length + " bytes");
        }
        return verdict;
    }
}
