package io.dpbench.model;

/** Bad cluster input; the message names the file, the object (kind namespace/name, item index) and the field. */
public final class ClusterLoadException extends Exception
{
    private static final long serialVersionUID = 1L;

    public ClusterLoadException(final String message)
    {
        super(message);
    }

    public ClusterLoadException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
