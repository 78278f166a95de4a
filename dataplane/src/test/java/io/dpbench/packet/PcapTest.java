package io.dpbench.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PcapTest
{
    @TempDir
    Path dir;

    @Test
    void writtenFramesReadBackByteForByteWithTimestamps() throws IOException
    {
        final RandomFrames frames = new RandomFrames(3, false);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final Path file = dir.resolve("round.pcap");
        final byte[][] written = new byte[3000][];
        try (PcapWriter writer = PcapWriter.create(file))
        {
            for (int i = 0; i < written.length; i++)
            {
                final int length = frames.next(RandomFrames.TCP, buffer, 0);
                written[i] = new byte[length];
                buffer.getBytes(0, written[i]);
                writer.write(buffer, 0, length, 1_700_000_000_000_000_000L + i * 1_000L);
            }
            assertThat(writer.frames()).isEqualTo(written.length);
        }
        try (PcapReader reader = PcapReader.open(file))
        {
            assertThat(reader.nanosecondResolution()).isFalse();
            for (int i = 0; i < written.length; i++)
            {
                assertThat(reader.next()).isTrue();
                assertThat(reader.frameNumber()).isEqualTo(i + 1);
                final byte[] read = new byte[reader.frameLength()];
                reader.frame().getBytes(0, read);
                assertThat(read).isEqualTo(written[i]);
                assertThat(reader.timestampNanos()).isEqualTo(1_700_000_000_000_000_000L + i * 1_000L);
            }
            assertThat(reader.next()).isFalse();
        }
    }

    @Test
    void readsBigEndianNanosecondFiles() throws IOException
    {
        final ByteBuffer b = ByteBuffer.allocate(24 + 16 + 60).order(ByteOrder.BIG_ENDIAN);
        b.putInt(PcapReader.MAGIC_NANOS).putShort((short)2).putShort((short)4).putInt(0).putInt(0).putInt(65535).putInt(1);
        b.putInt(5).putInt(123_456_789).putInt(60).putInt(60);
        final byte[] frame = new byte[60];
        Arrays.fill(frame, (byte)0xAB);
        b.put(frame);
        final Path file = dir.resolve("be.pcap");
        Files.write(file, b.array());
        try (PcapReader reader = PcapReader.open(file))
        {
            assertThat(reader.nanosecondResolution()).isTrue();
            assertThat(reader.next()).isTrue();
            assertThat(reader.timestampNanos()).isEqualTo(5_123_456_789L);
            assertThat(reader.frameLength()).isEqualTo(60);
            assertThat(reader.frame().getByte(59)).isEqualTo((byte)0xAB);
            assertThat(reader.next()).isFalse();
        }
    }

    @Test
    void faultsNameTheByteOffset() throws IOException
    {
        final Path good = dir.resolve("good.pcap");
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[100]);
        try (PcapWriter writer = PcapWriter.create(good))
        {
            writer.write(buffer, 0, 60, 0);
            writer.write(buffer, 0, 70, 0);
        }
        final byte[] bytes = Files.readAllBytes(good);
        assertThat(bytes.length).isEqualTo(24 + 16 + 60 + 16 + 70);

        assertFault(Arrays.copyOf(bytes, 24 + 16 + 60 + 10), "at byte 100: record header cut short");
        assertFault(Arrays.copyOf(bytes, 24 + 16 + 60 + 16 + 69), "at byte 116: frame 2: file ends after 69 of its 70");
        assertFault(Arrays.copyOf(bytes, 10), "at byte 10: file too short");

        final byte[] badMagic = bytes.clone();
        badMagic[0] = 0;
        assertFault(badMagic, "at byte 0: not a pcap file");

        final byte[] pcapng = bytes.clone();
        ByteBuffer.wrap(pcapng).putInt(0, 0x0A0D0D0A);
        assertFault(pcapng, "pcapng");

        final byte[] linkType = bytes.clone();
        ByteBuffer.wrap(linkType).order(ByteOrder.LITTLE_ENDIAN).putInt(20, 113);
        assertFault(linkType, "at byte 20: link type 113 is not Ethernet");

        final byte[] huge = bytes.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8, 1_000_000);
        assertFault(huge, "at byte 32: frame 1: captured length 1000000 exceeds");
    }

    private void assertFault(final byte[] content, final String expected) throws IOException
    {
        final Path file = dir.resolve("bad.pcap");
        Files.write(file, content);
        assertThatThrownBy(() ->
        {
            try (PcapReader reader = PcapReader.open(file))
            {
                while (reader.next())
                {
                    // read through to the fault
                }
            }
        }).isInstanceOf(PcapFormatException.class).hasMessageContaining(expected).hasMessageContaining(file.toString());
    }
}
