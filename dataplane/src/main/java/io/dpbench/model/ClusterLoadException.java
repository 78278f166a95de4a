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
        super(oneLine(message));
    }

    public ClusterLoadException(final String message, final Throwable cause)
    {
        super(oneLine(message), cause);
    }

    private static String oneLine(final String message)
    {
        for (int i = 0; i < message.length(); i++)
        {
            final char c = message.charAt(i);
            if (c < 0x20 || c == 0x7f)
            {
                final StringBuilder out = new StringBuilder(message.length() + 8);
                for (int j = 0; j < message.length(); j++)
                {
                    final char d = message.charAt(j);
                    if (d < 0x20 || d == 0x7f)
                    {
                        out.append(d == '\n' ? "\\n" : d == '\r' ? "\\r" : d == '\t' ? "\\t"
                            : String.format("\\u%04x", (int)d));
                    }
                    else
                    {
                        out.append(d);
                    }
                }
                return out.toString();
            }
        }
        return message;
    }
}
