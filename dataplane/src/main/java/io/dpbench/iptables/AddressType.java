package io.dpbench.iptables;

/** -m addrtype types (the kernel's RTN_* classes) as bits. */
public final class AddressType
{
    public static final int UNSPEC = 1;
    public static final int UNICAST = 1 << 1;
    public static final int LOCAL = 1 << 2;
    public static final int BROADCAST = 1 << 3;
    public static final int ANYCAST = 1 << 4;
    public static final int MULTICAST = 1 << 5;
    public static final int BLACKHOLE = 1 << 6;
    public static final int UNREACHABLE = 1 << 7;
    public static final int PROHIBIT = 1 << 8;
    public static final int THROW = 1 << 9;
    public static final int NAT = 1 << 10;
    public static final int XRESOLVE = 1 << 11;

    private static final String[] NAMES = {"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
        "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"};

    private AddressType()
    {
    }

    /** "LOCAL" or "LOCAL,UNICAST" to bits; throws naming an unknown type. */
    public static int parse(final String text)
    {
        return NamedBits.parse(text, NAMES, "address type");
    }

    public static String toString(final int bits)
    {
        return NamedBits.format(bits, NAMES);
    }
}
