package io.dpbench.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output file written safely: to a temporary file beside it, renamed over the output only when the verb
 * succeeded, so that a failed run never leaves a cut file under the output's name nor destroys what was there. On
 * failure what was written is kept as {@code OUT.partial}, and the error says so. An output that is one of the
 * verb's inputs is refused before anything is written (the input would be replaced by the output).
 */
public final class OutputFile
{
    private final Path target;
    private final Path temp;
    private final long headerBytes;
    private boolean done;

    private OutputFile(final Path target, final Path temp, final long headerBytes)
    {
        this.target = target;
        this.temp = temp;
        this.headerBytes = headerBytes;
    }

    /**
     * As {@link #create(Path, String, long, Path...)}, for a verb: an output that is an input is a usage error.
     */
    public static OutputFile create(final picocli.CommandLine.Model.CommandSpec spec, final Path target,
        final String option, final long headerBytes, final Path... inputs) throws IOException
    {
        try
        {
            return create(target, option, headerBytes, inputs);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), ex.getMessage());
        }
    }

    /** A failure of the verb, with where the output written so far was kept. */
    public static final class PartialOutputException extends IOException
    {
        private static final long serialVersionUID = 1L;

        PartialOutputException(final String message, final Throwable cause)
        {
            super(message, cause);
        }
    }

    /**
     * @param option      the option that named the output, for the error message (e.g. "--out")
     * @param headerBytes what the writer puts in every file (a pcap's global header): a failed output no longer
     *                    than this holds nothing and is not kept
     * @param inputs      files the verb reads (null entries ignored): the output must be none of them
     * @throws IllegalArgumentException when the output is one of the inputs, or a directory
     */
    public static OutputFile create(final Path target, final String option, final long headerBytes,
        final Path... inputs) throws IOException
    {
        if (Files.isDirectory(target))
        {
            throw new IllegalArgumentException(option + " " + target + " is a directory, not a file");
        }
        for (final Path input : inputs)
        {
            if (input != null && sameFile(target, input))
            {
                throw new IllegalArgumentException(option + " " + target + " is also an input (" + input
                    + "): writing it would replace what is being read; choose another file");
            }
        }
        final Path dir = target.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir))
        {
            throw new java.nio.file.NoSuchFileException(dir.toString(), null, "the output's directory does not exist");
        }
        // a name of this process's own beside the output (a rename within one directory is atomic), made with the
        // umask's permissions like any other output
        final Path temp = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp);
        return new OutputFile(target, temp, headerBytes);
    }

    private static boolean sameFile(final Path a, final Path b) throws IOException
    {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize()))
        {
            return true;
        }
        return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    }

    /** Where the verb writes. */
    public Path temp()
    {
        return temp;
    }

    /** The output's name. */
    public Path target()
    {
        return target;
    }

    /** The verb succeeded: the output takes its name (atomically where the file system can). */
    public void commit() throws IOException
    {
        move(temp, target);
        done = true;
    }

    /**
     * The verb failed with {@code failure}: returns what to throw. A usage error is returned as it is (nothing kept);
     * otherwise what was written is kept as {@code OUT.partial} (replacing an older one), and the returned exception's
     * message is the failure's and says where the partial output is; the output's own name is left as it was.
     */
    public Exception fail(final Exception failure)
    {
        if (failure instanceof picocli.CommandLine.ParameterException)
        {
            discard();
            return failure;
        }
        return fail(failure, Main.describe(failure));
    }

    private PartialOutputException fail(final Throwable failure, final String failureText)
    {
        done = true;
        String where;
        try
        {
            if (Files.size(temp) > headerBytes)
            {
                final Path partial = target.resolveSibling(target.getFileName() + ".partial");
                move(temp, partial);
                where = "; what was written before it is kept in " + partial + " (" + target + " unchanged)";
            }
            else
            {
                Files.deleteIfExists(temp);
                where = "; nothing was written (" + target + " unchanged)";
            }
        }
        catch (final IOException ex)
        {
            where = "; the output so far is in " + temp + " (" + ex.getMessage() + ")";
        }
        return new PartialOutputException(failureText + where, failure);
    }

    /** Removes the temporary file if neither {@link #commit} nor {@link #fail} ran (a failure before writing). */
    public void discard()
    {
        if (!done)
        {
            done = true;
            try
            {
                Files.deleteIfExists(temp);
            }
            catch (final IOException ignored)
            {
                // best effort: a stray temporary file is named after the output and easy to spot
            }
        }
    }

    private static void move(final Path from, final Path to) throws IOException
    {
        try
        {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final AtomicMoveNotSupportedException ex)
        {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
