package io.dpbench.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Datagrams the kernel dropped on a UDP socket (its receive buffer was full): the {@code drops} column of
 * {@code /proc/net/udp} for the sockets bound to a local port (ISSUE-NOTES, issue 8), summed. -1 where it cannot
 * be read (not Linux).
 */
public final class SocketDrops
{
    private SocketDrops()
    {
    }

    /** The drops of the IPv4 sockets bound to exactly {@code address} (summed over SO_REUSEPORT siblings). */
    public static long read(final java.net.InetSocketAddress address)
    {
        final byte[] a = address.getAddress().getAddress();
        // /proc/net/udp prints the address as the host-order (little-endian here) int in hex, then the port
        final String local = String.format("%02X%02X%02X%02X:%04X", a[3] & 0xFF, a[2] & 0xFF, a[1] & 0xFF, a[0] & 0xFF,
            address.getPort());
        return readMatching(local, true);
    }

    /** The drops of every IPv4 socket bound to {@code port}, whatever its address. */
    public static long read(final int port)
    {
        return readMatching(String.format(":%04X", port), false);
    }

    private static long readMatching(final String match, final boolean exact)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(Path.of("/proc/net/udp"));
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
        long drops = 0;
        for (int i = 1; i < lines.size(); i++)
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
            final String[] f = lines.get(i).trim().split("\\s+");
            if (f.length >= 13 && (exact ? f[1].equals(match) : f[1].endsWith(match)))
            {
                drops += Long.parseLong(f[f.length - 1]);
            }
        }
        return drops;
    }
}
