package io.dpbench.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When `run` re-reads its cluster file: on SIGHUP (kube-proxy re-syncs on its informers' events; a file's user sends
 * the signal), and with {@code --watch} whenever the file's modification time or size changes (polled; a rename
 * over the file counts). A synthetic cluster has nothing to re-read: SIGHUP is then ignored.
 */
final class ClusterReload
{
    private final Path file;
    private final boolean watch;
    private final AtomicBoolean signalled = new AtomicBoolean();
    private FileTime lastModified;
    private long lastSize = -1;

    ClusterReload(final Path file, final boolean watch)
    {
        this.file = file;
        this.watch = watch && file != null;
        if (file != null)
        {
            try
            {
                // sun.misc.Signal: the JDK's only way to take SIGHUP (jdk.unsupported, present in every JDK since 6)
                sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> signalled.set(true));
            }
            catch (final IllegalArgumentException ex)
            {
                // no SIGHUP on this platform (or the JVM keeps it): --watch still works
            }
            remember();
        }
    }

    /** Whether the file should be read again now (a SIGHUP came, or --watch saw it change); clears the signal. */
    boolean reloadDue()
    {
        if (file == null)
        {
            return false;
        }
        boolean due = signalled.getAndSet(false);
        if (watch && changed())
        {
            due = true;
        }
        return due;
    }

    private boolean changed()
    {
        final FileTime before = lastModified;
        final long sizeBefore = lastSize;
        remember();
        return lastModified != null && (!lastModified.equals(before) || lastSize != sizeBefore);
    }

    private void remember()
    {
        try
        {
            lastModified = Files.getLastModifiedTime(file);
            lastSize = Files.size(file);
        }
        catch (final IOException ex)
        {
            // the file is being replaced: look again at the next turn
        }
    }
}
