package io.dpbench.conntrack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What dpbench checks about a conntrack table file before Chronicle Map opens it, so that a bad file or a busy one
 * fails at once with its name instead of blocking (Chronicle's recovery waits for an exclusive lock forever while
 * another process holds the map) or stalling (a header that never completed is waited on for 60 s):
 * <ul>
 *   <li>the header: Chronicle Map's self-bootstrapping header is an 8-byte checksum, a 4-byte size word whose top
 *   bit says "not complete", then the map's configuration as text starting with {@value #HEADER_TEXT}; a file that
 *   does not start so is named as damaged (or, when empty, as never written);</li>
 *   <li>the writer's lock: {@code FILE.lock}, beside the table, locked exclusively (non-blocking) by the one process
 *   that writes the table for as long as it holds it; its content says whether the last writer closed the table
 *   ({@value #CLEAN}) or died holding it ({@value #OPEN}), which decides whether Chronicle's recovery is needed.</li>
 * </ul>
 */
public final class TableFile implements AutoCloseable
{
    static final String HEADER_TEXT = "!net.openhft.chronicle.map.";
    static final String OPEN = "open";
    static final String CLEAN = "clean";
    private static final int NOT_COMPLETE = 0x8000_0000;

    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;
    private final String previousState;

    private TableFile(final Path lockFile, final FileChannel channel, final FileLock lock, final String previousState)
    {
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
        this.previousState = previousState;
    }

    /** A table that cannot be used as it is: damaged, not a table, or in use by another process. */
    public static final class TableFileException extends IOException
    {
        private static final long serialVersionUID = 1L;

        TableFileException(final String message)
        {
            super(message);
        }
    }

    /** The writer's lock file of a table. */
    public static Path lockFileOf(final Path table)
    {
        return table.resolveSibling(table.getFileName() + ".lock");
    }

    /**
     * Takes the writer's lock of {@code table}, or fails at once when another process holds it. Marks the table open
     * until {@link #close()}.
     */
    public static TableFile lockForWriting(final Path table) throws IOException
    {
        final Path lockFile = lockFileOf(table);
        final FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        try
        {
            FileLock lock;
            try
            {
                lock = channel.tryLock();
            }
            catch (final java.nio.channels.OverlappingFileLockException ex)
            {
                lock = null; // this process already writes it
            }
            if (lock == null)
            {
                throw new TableFileException(table + ": table in use by another process (its writer's lock "
                    + lockFile.getFileName() + " is held); stop that process or use another --conntrack file");
            }
            final ByteBuffer previous = ByteBuffer.allocate(16);
            channel.read(previous, 0);
            final String state = new String(previous.array(), 0, previous.position(), StandardCharsets.US_ASCII).strip();
            write(channel, OPEN);
            return new TableFile(lockFile, channel, lock, state);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /** True when the last writer closed the table: no recovery needed. */
    public boolean lastCloseClean()
    {
        return CLEAN.equals(previousState);
    }

    /** Releases the lock after a failed open, leaving the state as the last writer left it. */
    public void abandon() throws IOException
    {
        try
        {
            if (previousState.isEmpty())
            {
                channel.truncate(0);
            }
            else
            {
                write(channel, previousState);
            }
            lock.release();
        }
        finally
        {
            channel.close();
        }
    }

    /**
     * Checks that {@code table} is a Chronicle Map file whose header completed. Reads at most a few hundred bytes.
     *
     * @param mayBeEmpty true for a writer (an empty file becomes a new table); false for a reader
     */
    public static void checkHeader(final Path table, final boolean mayBeEmpty) throws IOException
    {
        if (!Files.exists(table))
        {
            throw new NoSuchFileException(table.toString());
        }
        final long size = Files.size(table);
        if (size == 0)
        {
            if (mayBeEmpty)
            {
                return;
            }
            throw new TableFileException(table + ": empty file, not a conntrack table (nothing was ever written to it)");
        }
        final ByteBuffer head = ByteBuffer.allocate(12 + HEADER_TEXT.length());
        try (FileChannel channel = FileChannel.open(table, StandardOpenOption.READ))
        {
            while (head.hasRemaining() && channel.read(head) > 0)
            {
                // read what there is
            }
        }
        if (head.position() < head.capacity())
        {
            throw new TableFileException(table + ": damaged: " + size + " bytes, shorter than a Chronicle Map header");
        }
        final int sizeWord = Integer.reverseBytes(head.getInt(8));
        final String text = new String(head.array(), 12, HEADER_TEXT.length(), StandardCharsets.US_ASCII);
        if (!HEADER_TEXT.equals(text))
        {
            throw new TableFileException(table + ": damaged or not a conntrack table: no Chronicle Map header at byte 12"
                + (sizeWord == 0 ? " (the header is zeros)" : ""));
        }
        if ((sizeWord & NOT_COMPLETE) != 0 || sizeWord == 0)
        {
            throw new TableFileException(table + ": damaged: the header was never completed (the process that created"
                + " the table died while writing it)");
        }
    }

    private static void write(final FileChannel channel, final String state) throws IOException
    {
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((state + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        channel.force(false);
    }

    /** Marks the table closed cleanly and releases the writer's lock. */
    @Override
    public void close() throws IOException
    {
        if (!channel.isOpen())
        {
            return; // closed before
        }
        // a thread with its interrupt flag set (a verb stopped by SIGTERM) would close the channel unwritten
        // (ClosedByInterruptException) and leave the table marked open: clear the flag for these few writes
        final boolean interrupted = Thread.interrupted();
        try
        {
            write(channel, CLEAN);
            lock.release();
        }
        finally
        {
            channel.close();
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString()
    {
        return lockFile.toString();
    }
}
