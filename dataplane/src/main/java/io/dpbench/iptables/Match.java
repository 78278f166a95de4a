package io.dpbench.iptables;

import java.util.List;

/**
 * One match of a rule, parsed. The sealed family lists every match the engine evaluates; anything else is a parse
 * error. {@code invert} is iptables' {@code !}.
 */
public sealed interface Match
{
    /** -s / -d: address & mask == network. */
    record Address(boolean source, int network, int prefixLength, boolean invert) implements Match
    {
    }

    /** -p: IP protocol number (0 = all). */
    record ProtocolMatch(int protocol, boolean invert) implements Match
    {
    }

    /** -i / -o. A trailing '+' is a prefix wildcard, as in iptables. */
    record Interface(boolean input, String name, boolean invert) implements Match
    {
    }

    /** -m tcp|udp|sctp --sport/--dport (ranges inclusive; -1 = not given). */
    record Ports(String module, int sportLow, int sportHigh, boolean sportInvert, int dportLow, int dportHigh,
        boolean dportInvert) implements Match
    {
    }

    /** -m multiport --sports/--dports/--ports: inclusive ranges as pairs [low0, high0, low1, high1, ...]. */
    record Multiport(int direction, int[] ranges, boolean invert) implements Match
    {
        public static final int SOURCE = 1;
        public static final int DESTINATION = 2;
        public static final int EITHER = 3;
    }

    /** -m addrtype: bit sets of {@link AddressType} for source and destination (0 = not given). */
    record AddrType(int sourceTypes, boolean sourceInvert, int destinationTypes, boolean destinationInvert)
        implements Match
    {
    }

    /** -m mark --mark value[/mask]. */
    record Mark(int value, int mask, boolean invert) implements Match
    {
    }

    /** -m statistic --mode random --probability: the kernel's 31-bit threshold. */
    record StatisticRandom(long threshold, String probabilityText, boolean invert) implements Match
    {
    }

    /** -m statistic --mode nth --every n --packet p. */
    record StatisticNth(int every, int packet, boolean invert) implements Match
    {
    }

    /**
     * A module whose condition never holds for the traffic dpbench models, so the rule matches only if every one of
     * its options is negated: {@code -m physdev} (no packet crosses a bridge port here) and {@code -m ipvs} (the
     * iptables engine sees no IPVS connection state). {@code args} are the module's options as written.
     */
    record Constant(String module, List<String> args, boolean result) implements Match
    {
    }

    /** -m nfacct --nfacct-name NAME: accounting only, matches every packet. */
    record Nfacct(String name) implements Match
    {
    }

    /** -m comment --comment text (matches everything; kept for output and traces). */
    record Comment(String text) implements Match
    {
    }

    /** -m recent. */
    record Recent(String name, int command, boolean invert, int seconds, boolean reap, boolean rsource, int mask)
        implements Match
    {
        public static final int SET = 1;
        public static final int RCHECK = 2;
        public static final int UPDATE = 3;
        public static final int REMOVE = 4;
    }

    /** -m conntrack --ctstate: a bit set of {@link CtState}. */
    record Conntrack(int states, boolean invert) implements Match
    {
    }

    /** -m set --match-set NAME src|dst|src,dst (ipset; contents come from the IPVS mode's ipsets). */
    record IpSet(String name, List<Boolean> sourceFlags, boolean invert) implements Match
    {
    }
}
