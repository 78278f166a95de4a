package io.dpbench.packet;

import java.nio.ByteOrder;

/**
 * VXLAN header (RFC 7348 section 5), carried in UDP to port 4789 (IANA) or 8472 (the Linux default, flannel's).
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * The I flag must be set for a valid VNI; the reserved fields are sent as zero and ignored on receipt.
 */
public final class VxlanFlyweight extends HeaderFlyweight<VxlanFlyweight>
{
    public static final int FLAGS_OFFSET = 0;
    public static final int VNI_OFFSET = 4;
    public static final int HEADER_LENGTH = 8;

    public static final int FLAG_VNI_VALID = 0x08;
    public static final int IANA_PORT = 4789;
    public static final int LINUX_DEFAULT_PORT = 8472;
    public static final int MAX_VNI = 0xFF_FFFF;

    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public boolean vniValid()
    {
        return (flags() & FLAG_VNI_VALID) != 0;
    }

    /** The 24-bit VXLAN network identifier. */
    public int vni()
    {
        return buffer.getInt(offset + VNI_OFFSET, ByteOrder.BIG_ENDIAN) >>> 8;
    }

    /** Write a whole header: I flag set, reserved bits zero, the given VNI. */
    public VxlanFlyweight set(final int vni)
    {
        buffer.putInt(offset + FLAGS_OFFSET, FLAG_VNI_VALID << 24, ByteOrder.BIG_ENDIAN);
        buffer.putInt(offset + VNI_OFFSET, (vni & MAX_VNI) << 8, ByteOrder.BIG_ENDIAN);
        return this;
    }
}
