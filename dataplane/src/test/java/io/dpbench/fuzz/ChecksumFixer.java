package io.dpbench.fuzz;

import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.InternetChecksum;
import io.dpbench.packet.Ipv4Flyweight;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Makes mutated frames pass the checksum checks, so that mutations reach the code behind them (a fuzzer does not
 * find a valid 16-bit checksum by chance). Writes only inside the frame and only where the fields it trusts say
 * there is room; otherwise leaves the bytes as they are.
 */
final class ChecksumFixer
{
    private ChecksumFixer()
    {
    }

    /** Rewrite the IPv4 header checksum; returns the IPv4 header's offset, or -1 when there is no whole header. */
    static int fixIpv4(final MutableDirectBuffer b, final int offset, final int length)
    {
        final int ip = EthernetFlyweight.ipv4Offset(b, offset, length);
        final int end = offset + length;
        if (ip < 0 || ip + Ipv4Flyweight.MIN_HEADER_LENGTH > end)
        {
            return -1;
        }
        final int headerLength = (b.getByte(ip) & 0x0F) * 4;
        if (headerLength < Ipv4Flyweight.MIN_HEADER_LENGTH || ip + headerLength > end)
        {
            return -1;
        }
        b.putShort(ip + Ipv4Flyweight.CHECKSUM_OFFSET, (short)0);
        b.putShort(ip + Ipv4Flyweight.CHECKSUM_OFFSET, (short)InternetChecksum.compute(b, ip, headerLength),
            ByteOrder.BIG_ENDIAN);
        return ip;
    }

    /** Rewrite the IPv4 checksum and the TCP/UDP checksum (over the IPv4 total length, when it fits the frame). */
    static void fixAll(final MutableDirectBuffer b, final int offset, final int length)
    {
        final int ip = fixIpv4(b, offset, length);
        if (ip < 0)
        {
            return;
        }
        final int headerLength = (b.getByte(ip) & 0x0F) * 4;
        final int totalLength = b.getShort(ip + Ipv4Flyweight.TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int protocol = b.getByte(ip + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF;
        final int l4 = ip + headerLength;
        final int l4Length = totalLength - headerLength;
        final int checksumOffset = protocol == Ipv4Flyweight.PROTOCOL_TCP ? 16 : protocol == Ipv4Flyweight.PROTOCOL_UDP ? 6 : -1;
        if (checksumOffset < 0 || l4Length < checksumOffset + 2 || ip + totalLength > offset + length)
        {
            return;
        }
        b.putShort(l4 + checksumOffset, (short)0);
        final long pseudo = InternetChecksum.pseudoHeader(b.getInt(ip + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN),
            b.getInt(ip + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN), protocol, l4Length);
        int sum = InternetChecksum.finish(InternetChecksum.add(b, l4, l4Length, pseudo));
        if (sum == 0 && protocol == Ipv4Flyweight.PROTOCOL_UDP)
        {
            sum = 0xFFFF;
        }
        b.putShort(l4 + checksumOffset, (short)sum, ByteOrder.BIG_ENDIAN);
    }
}
