package io.dpbench.fuzz;

import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.PcapFormatException;
import io.dpbench.packet.PcapReader;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Classic pcap files: {@link PcapReader} reads every record or stops with one {@link PcapFormatException} whose byte
 * offset lies in the file; every frame read gets one verdict from {@link PacketParser} (as {@code replay} and
 * {@code inspect} do), read from a buffer of exactly the frame's captured length. The reader takes a file: each input
 * is written to one reused temporary file (in /dev/shm when there is one).
 */
public final class PcapTarget implements FuzzTarget
{
    private static final PcapTarget INSTANCE = new PcapTarget();

    private final PacketParser parser = new PacketParser(false);
    private final ParsedPacket parsed = new ParsedPacket();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[0]);
    private Path file;

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "pcap";
    }

    @Override
    public void test(final byte[] input)
    {
        try
        {
            final Path path = file();
            Files.write(path, input);
            try (PcapReader reader = PcapReader.open(path))
            {
                long frames = 0;
                while (reader.next())
                {
                    frames++;
                    final int length = reader.frameLength();
                    if (length < 0 || length > PcapReader.MAX_FRAME_LENGTH || reader.recordOffset() + 16 + length > input.length)
                    {
                        throw new PropertyViolation("frame " + frames + " of " + length + " bytes at record offset "
                            + reader.recordOffset() + " does not lie in the " + input.length + "-byte file");
                    }
                    frame.wrap(reader.frame(), 0, length);
                    FrameTarget.checkOneVerdict(parser, frame, length, parsed);
                }
            }
            catch (final PcapFormatException ex)
            {
                if (!FuzzTarget.oneLine(ex.getMessage()) || ex.byteOffset() < 0 || ex.byteOffset() > input.length)
                {
                    throw new PropertyViolation("error is not one line with an offset in the file (" + input.length
                        + " bytes): offset " + ex.byteOffset() + ": " + ex.getMessage(), ex);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("not a PcapFormatException", ex);
        }
    }

    private Path file() throws IOException
    {
        if (file == null)
        {
            final Path shm = Path.of("/dev/shm");
            file = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempFile(shm, "dpbench-fuzz-", ".pcap") : Files.createTempFile("dpbench-fuzz-", ".pcap");
            file.toFile().deleteOnExit();
        }
        return file;
    }
}
