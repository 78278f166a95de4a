package io.dpbench.packet;

/**
 * IPv4 addresses as {@code int} in network order (the first octet in the high byte), the form the flyweights
 * read and write. Parsing and printing are for the control plane and tools, never the packet path.
 */
public final class Ipv4Address
{
    private Ipv4Address()
    {
    }

    /** Parse a dotted quad; throws {@link IllegalArgumentException} naming the text when it is not one. */
    public static int parse(final CharSequence text)
    {
        int value = 0;
        int octet = -1;
        int dots = 0;
        for (int i = 0, n = text.length(); i < n; i++)
        {
            final char c = text.charAt(i);
            if (c >= '0' && c <= '9')
            {
                octet = (octet < 0 ? 0 : octet * 10) + (c - '0');
                if (octet > 255)
                {
                    throw new IllegalArgumentException("not an IPv4 address (octet > 255): '" + text + "'");
                }
            }
            else if (c == '.' && octet >= 0 && dots < 3)
            {
                value = (value << 8) | octet;
                octet = -1;
                dots++;
            }
            else
            {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
        }
        if (dots != 3 || octet < 0)
        {
            throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
        }
        return (value << 8) | octet;
    }

    public static String toString(final int address)
    {
        return (address >>> 24) + "." + (address >>> 16 & 0xFF) + "." + (address >>> 8 & 0xFF) + "." + (address & 0xFF);
    }
}
