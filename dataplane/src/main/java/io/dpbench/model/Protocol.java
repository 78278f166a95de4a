package io.dpbench.model;

import java.util.Locale;

/** The L4 protocols a Service port can use, with their IP protocol numbers. */
public enum Protocol
{
    TCP(6), UDP(17), SCTP(132);

    private final int number;

    Protocol(final int number)
    {
        this.number = number;
    }

    public int number()
    {
        return number;
    }

    /** "tcp", "udp", "sctp": the form iptables and kube-proxy's chain-name hash use. */
    public String lowerCase()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Protocol ofNumber(final int number)
    {
        for (final Protocol p : values())
        {
            if (p.number == number)
            {
                return p;
            }
        }
        throw new IllegalArgumentException("no Service protocol with IP protocol number " + number);
    }

    /** Parse "TCP", "udp" ...; throws naming the text. */
    public static Protocol parse(final String text)
    {
        for (final Protocol p : values())
        {
            if (p.name().equalsIgnoreCase(text))
            {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol '" + text + "' (TCP, UDP or SCTP)");
    }
}
