package io.dpbench.iptables;

import java.util.Locale;

/** A comma-separated list of names (case-insensitive) as a bit set, bit i for names[i]; for --ctstate, --dst-type. */
final class NamedBits
{
    private NamedBits()
    {
    }

    static int parse(final String text, final String[] names, final String what)
    {
        int bits = 0;
        for (final String part : text.split(","))
        {
            int bit = -1;
            for (int i = 0; i < names.length; i++)
            {
                if (names[i].equals(part.toUpperCase(Locale.ROOT)))
                {
                    bit = 1 << i;
                }
            }
            if (bit < 0)
            {
                throw new IllegalArgumentException("unknown " + what + " '" + part + "'");
            }
            bits |= bit;
        }
        return bits;
    }

    static String format(final int bits, final String[] names)
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.length; i++)
        {
            if ((bits & (1 << i)) != 0)
            {
                sb.append(sb.length() == 0 ? "" : ",").append(names[i]);
            }
        }
        return sb.toString();
    }
}
