package io.dpbench.iptables;

/** A rule's target, parsed. {@link None} is a rule without -j (it only counts). */
public sealed interface Target
{
    record None() implements Target
    {
    }

    /** -j CHAIN (user chain), or -g CHAIN when {@code goTo}. */
    record Jump(String chain, boolean goTo) implements Target
    {
    }

    record Accept() implements Target
    {
    }

    record Drop() implements Target
    {
    }

    record Return() implements Target
    {
    }

    record Reject(String with) implements Target
    {
    }

    /** DNAT --to-destination ip[:port]; port -1 keeps the original. */
    record Dnat(int address, int port) implements Target
    {
    }

    /** SNAT --to-source ip[:port]. */
    record Snat(int address, int port, boolean randomFully) implements Target
    {
    }

    record Masquerade(boolean randomFully) implements Target
    {
    }

    /** MARK: mark = (mark & ~mask) ^ value, the kernel's xmark form every MARK option reduces to. */
    record MarkTarget(int value, int mask) implements Target
    {
    }
}
