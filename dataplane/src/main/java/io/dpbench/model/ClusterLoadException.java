package io.dpbench.model;

/**
 * Bad cluster input; the message names the file, the object (kind namespace/name, item index) and the field. It is
 * always one line: values quoted from the input have their line breaks and other control characters escaped.
 */
public final class ClusterLoadException extends Exception
{
    private static final long serialVersionUID = 1L;

    public ClusterLoadException(final String message)
    {
        super(KubernetesNames.oneLine(message));
    }

    public ClusterLoadException(final String message, final Throwable cause)
    {
        super(KubernetesNames.oneLine(message), cause);
    }
}
