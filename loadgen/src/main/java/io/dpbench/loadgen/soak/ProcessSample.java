package io.dpbench.loadgen.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A process's memory and file descriptors from /proc: resident set split as the kernel keeps it (RssAnon: heap, the
 * JVM's own memory and direct buffers; RssFile: mapped files, Chronicle Map's table among them; RssShmem), in KiB,
 * and the number of open descriptors. -1 where unreadable (the process is gone).
 */
record ProcessSample(long rssAnonKib, long rssFileKib, long rssShmemKib, long fds)
{
    static final ProcessSample NONE = new ProcessSample(-1, -1, -1, -1);

    static ProcessSample of(final long pid)
    {
        long anon = -1;
        long file = -1;
        long shmem = -1;
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8))
            {
                if (line.startsWith("RssAnon:"))
                {
                    anon = kib(line);
                }
                else if (line.startsWith("RssFile:"))
                {
                    file = kib(line);
                }
                else if (line.startsWith("RssShmem:"))
                {
                    shmem = kib(line);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            return NONE;
        }
        long fds;
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd")))
        {
            fds = s.count();
        }
        catch (final IOException | RuntimeException ex)
        {
            fds = -1;
        }
        return new ProcessSample(anon, file, shmem, fds);
    }

    /** "RssAnon:	  123456 kB" -> 123456. */
    private static long kib(final String line)
    {
        final String v = line.substring(line.indexOf(':') + 1).trim();
        return Long.parseLong(v.substring(0, v.indexOf(' ')));
    }
}
