package io.dpbench.packet;

import java.io.IOException;

/** A pcap file that does not follow the format; the message names the file and the byte offset of the fault. */
public final class PcapFormatException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final long byteOffset;

    public PcapFormatException(final String file, final long byteOffset, final String problem)
    {
        super(file + ": at byte " + byteOffset + ": " + problem);
        this.byteOffset = byteOffset;
    }

    public long byteOffset()
    {
        return byteOffset;
    }
}
