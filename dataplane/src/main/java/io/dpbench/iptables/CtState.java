package io.dpbench.iptables;

/** -m conntrack --ctstate values as bits. A new flow's first packet is {@link #NEW}. */
public final class CtState
{
    public static final int INVALID = 1;
    public static final int NEW = 1 << 1;
    public static final int ESTABLISHED = 1 << 2;
    public static final int RELATED = 1 << 3;
    public static final int UNTRACKED = 1 << 4;
    public static final int SNAT = 1 << 5;
    public static final int DNAT = 1 << 6;

    private static final String[] NAMES = {"INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED", "SNAT", "DNAT"};

    private CtState()
    {
    }

    public static int parse(final String text)
    {
        return NamedBits.parse(text, NAMES, "conntrack state");
    }
}
