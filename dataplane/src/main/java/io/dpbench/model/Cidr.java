package io.dpbench.model;

import io.dpbench.packet.Ipv4Address;

/** An IPv4 prefix: network address (host bits cleared) and length. */
public record Cidr(int network, int prefixLength)
{
    public Cidr
    {
        if (prefixLength < 0 || prefixLength > 32)
        {
            throw new IllegalArgumentException("prefix length " + prefixLength + " outside 0..32");
        }
        network &= mask(prefixLength);
    }

    public static int mask(final int prefixLength)
    {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    public int mask()
    {
        return mask(prefixLength);
    }

    public boolean contains(final int address)
    {
        return (address & mask()) == network;
    }

    /** "a.b.c.d/len" or "a.b.c.d" (a /32). */
    public static Cidr parse(final String text)
    {
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            return new Cidr(Ipv4Address.parse(text), 32);
        }
        final int length;
        try
        {
            length = Integer.parseInt(text.substring(slash + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("not a CIDR: '" + text + "'");
        }
        return new Cidr(Ipv4Address.parse(text.substring(0, slash)), length);
    }

    static Cidr parse(final String text, final String where) throws ClusterLoadException
    {
        try
        {
            return parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ClusterLoadException(where + ": " + ex.getMessage());
        }
    }

    @Override
    public String toString()
    {
        return Ipv4Address.toString(network) + "/" + prefixLength;
    }
}
