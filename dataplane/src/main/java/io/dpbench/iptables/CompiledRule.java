package io.dpbench.iptables;

/**
 * One rule in the packet-path form: the IP-header checks as primitive fields (checked first, as the kernel's
 * {@code ip_packet_match} does), then the match modules as an opcode list evaluated in rule order (order matters:
 * {@code -m statistic} draws a random number only when reached, {@code -m recent --set} has a side effect), then
 * the target. Immutable; shared by every {@link Classifier}.
 */
final class CompiledRule
{
    static final int OP_PORTS = 1;
    static final int OP_MULTIPORT = 2;
    static final int OP_ADDRTYPE = 3;
    static final int OP_MARK = 4;
    static final int OP_STATISTIC_RANDOM = 5;
    static final int OP_STATISTIC_NTH = 6;
    static final int OP_RECENT = 7;
    static final int OP_CONNTRACK = 8;
    static final int OP_IPSET = 9;
    static final int OP_CONSTANT_FALSE = 10;

    static final int T_NONE = 0;
    static final int T_JUMP = 1;
    static final int T_GOTO = 2;
    static final int T_ACCEPT = 3;
    static final int T_DROP = 4;
    static final int T_RETURN = 5;
    static final int T_REJECT = 6;
    static final int T_DNAT = 7;
    static final int T_SNAT = 8;
    static final int T_MASQUERADE = 9;
    static final int T_MARK = 10;

    /** Index of this rule in its chain, 1-based (as iptables -L --line-numbers). */
    int number;
    int chain;

    boolean hasSource;
    int sourceNetwork;
    int sourceMask;
    boolean sourceInvert;
    boolean hasDestination;
    int destinationNetwork;
    int destinationMask;
    boolean destinationInvert;
    int protocol;
    boolean protocolInvert;
    String inInterface;
    boolean inInterfaceInvert;
    String outInterface;
    boolean outInterfaceInvert;

    /** Opcodes in rule order, and a parallel index into the per-kind fields below. */
    int[] ops = new int[0];

    // ports (one -m tcp/udp/sctp per rule; kube-proxy never repeats it)
    int sportLow = -1;
    int sportHigh;
    boolean sportInvert;
    int dportLow = -1;
    int dportHigh;
    boolean dportInvert;
    // multiport
    int multiportDirection;
    int[] multiportRanges;
    boolean multiportInvert;
    // addrtype
    int sourceTypes;
    boolean sourceTypesInvert;
    int destinationTypes;
    boolean destinationTypesInvert;
    // mark
    int markValue;
    int markMask;
    boolean markInvert;
    // statistic
    long randomThreshold;
    boolean statisticInvert;
    int nthEvery;
    int nthPacket;
    int nthCounter;
    // recent
    int recentTable;
    int recentCommand;
    boolean recentInvert;
    long recentSecondsNanos;
    boolean recentRsource;
    int recentMask;
    // conntrack
    int ctStates;
    boolean ctInvert;
    // ipset
    int ipSet;
    boolean ipSetSource;
    boolean ipSetInvert;

    int target;
    int targetChain;
    int natAddress;
    int natPort;
    boolean randomFully;
    int xmarkValue;
    int xmarkMask;
    String rejectWith;

    /** The parsed rule, for traces and errors (never read on the packet path). */
    RuleSet.Rule source;
}
