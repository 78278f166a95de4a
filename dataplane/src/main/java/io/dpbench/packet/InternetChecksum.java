package io.dpbench.packet;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 * <p>
 * Sums are carried as {@code long} ones'-complement accumulators that have not been folded yet, so several ranges
 * (a pseudo-header and a segment, say) can be added before one {@link #fold(long)}. Summing 32-bit big-endian words
 * and folding gives the same result as summing 16-bit words (RFC 1071 section 2(B)), and halves the loads.
 * <p>
 * Incremental updates use RFC 1624 equation 3, {@code HC' = ~(~HC + ~m + m')}, the form Linux's
 * {@code csum_replace2/4} implement: unlike equation 2 of RFC 1141 it never produces the -0 (0xFFFF) checksum
 * that full recomputation cannot produce.
 */
public final class InternetChecksum
{
    private InternetChecksum()
    {
    }

    /**
     * Add the bytes {@code [offset, offset + length)} to {@code sum} as big-endian 16-bit words; an odd last byte is
     * padded with a zero byte, as RFC 1071 says.
     */
    public static long add(final DirectBuffer buffer, final int offset, final int length, final long sum)
    {
        int i = offset;
        final int end = offset + length;
        // the bulk as native-order 64-bit loads, summed as 32-bit halves: the ones'-complement sum does not depend
        // on byte order (RFC 1071 2(B)), so the little-endian sum, folded and byte-swapped once, is the big-endian one
        final int end8 = offset + (length & ~7);
        if (i < end8)
        {
            long nativeSum = 0;
            while (i < end8)
            {
                final long v = buffer.getLong(i, ByteOrder.nativeOrder());
                nativeSum += (v & 0xFFFF_FFFFL) + (v >>> 32);
                i += 8;
            }
            final int folded = fold(nativeSum);
            return addTail(buffer, i, end, sum + (ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? folded
                : Integer.reverseBytes(folded) >>> 16));
        }
        return addTail(buffer, i, end, sum);
    }

    /** Fewer than 8 bytes left (or none): 32-, 16- and 8-bit big-endian steps. */
    private static long addTail(final DirectBuffer buffer, final int from, final int end, final long sum)
    {
        long acc = sum;
        int i = from;
        while (i + 4 <= end)
        {
            acc += buffer.getInt(i, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (i + 2 <= end)
        {
            acc += buffer.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            i += 2;
        }
        if (i < end)
        {
            acc += (buffer.getByte(i) & 0xFF) << 8;
        }
        return acc;
    }

    /** Sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 793, RFC 768). */
    public static long pseudoHeader(final int sourceAddress, final int destinationAddress, final int protocol,
        final int l4Length)
    {
        return (sourceAddress & 0xFFFF_FFFFL) + (destinationAddress & 0xFFFF_FFFFL) + protocol + l4Length;
    }

    /** Fold a ones'-complement accumulator to 16 bits, end-around carry included. */
    public static int fold(final long sum)
    {
        long s = sum;
        while ((s >>> 16) != 0)
        {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int)s;
    }

    /** The checksum field value for an accumulated sum: the ones' complement of the folded sum. */
    public static int finish(final long sum)
    {
        return ~fold(sum) & 0xFFFF;
    }

    /** Checksum of a range with nothing else added (the IPv4 header, an ICMP message). */
    public static int compute(final DirectBuffer buffer, final int offset, final int length)
    {
        return finish(add(buffer, offset, length, 0));
    }

    /** RFC 1624 eqn. 3 for one 16-bit word that changed from {@code oldWord} to {@code newWord}. */
    public static int update16(final int checksum, final int oldWord, final int newWord)
    {
        final long sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return ~fold(sum) & 0xFFFF;
    }

    /** RFC 1624 eqn. 3 for a 32-bit field (an IPv4 address): both of its 16-bit words. */
    public static int update32(final int checksum, final int oldValue, final int newValue)
    {
        final long sum = (~checksum & 0xFFFF)
            + (~oldValue >>> 16 & 0xFFFF) + (~oldValue & 0xFFFF)
            + (newValue >>> 16 & 0xFFFF) + (newValue & 0xFFFF);
        return ~fold(sum) & 0xFFFF;
    }
}
