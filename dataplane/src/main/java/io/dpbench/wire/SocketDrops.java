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

    public static long read(final int port)
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
        final String suffix = String.format(":%04X", port);
        long drops = 0;
        for (int i = 1; i < lines.size(); i++)
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
            final String[] f = lines.get(i).trim().split("\\s+");
            if (f.length >= 13 && f[1].endsWith(suffix))
            {
                drops += Long.parseLong(f[f.length - 1]);
            }
        }
        return drops;
    }
}
