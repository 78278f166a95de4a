package io.dpbench.nftables;

import io.dpbench.packet.Ipv4Address;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Walks a new flow's first packet through a compiled {@link NftProgram} as netfilter's nf_tables does: at each hook
 * its base chains in priority order (an arriving packet meets prerouting, then input when its destination, DNATed
 * or not, is a local address, else forward, then postrouting; a packet from this node meets output, then
 * postrouting), every chain's rules in order, jump/goto/return with a bounded stack, verdict maps by one hash lookup,
 * {@code numgen random} from this engine's own seeded generator. {@code accept} ends a base chain (the next base
 * chain of the hook still runs); drop and reject end the walk; a NAT statement is terminal for its chain.
 * One engine per worker: its dynamic sets (ClientIP affinity) and random numbers are its own. Allocation-free.
 */
public final class NftEngine
{
    public static final int ACCEPT = 1;
    public static final int DROP = 2;
    public static final int REJECT = 3;
    static final int RETURN = 4;
    static final int JUMP = 5;
    static final int GOTO = 6;
    static final int KIND_MASK = 0xF;
    static final int CHAIN_SHIFT = 4;
    /** The kernel's NFT_JUMP_STACK_SIZE. */
    static final int STACK = 16;

    /** Told of every rule that decided something while a packet walks (trace). */
    public interface Listener
    {
        void rule(String chain, int index, String text, String outcome);
    }

    /** Chooses numgen's value (trace follows every one). */
    public interface Chooser
    {
        int choose(int modulus);
    }

    private final NftProgram program;
    private final int[] localAddresses;
    private final SplittableRandom random;
    private final int[] stackChains = new int[STACK];
    private final int[] stackRules = new int[STACK];
    private Listener listener;
    private Chooser chooser;

    public NftEngine(final NftProgram program, final List<String> nodeIPs, final long seed)
    {
        this.program = program;
        localAddresses = nodeIPs.stream().mapToInt(Ipv4Address::parse).toArray();
        random = new SplittableRandom(seed);
    }

    public NftEngine listener(final Listener value)
    {
        listener = value;
        return this;
    }

    public NftEngine chooser(final Chooser value)
    {
        chooser = value;
        return this;
    }

    public NftProgram program()
    {
        return program;
    }

    /** The element table of set {@code index} in this engine's program (its own copy). */
    NftElementTable table(final int index)
    {
        return program.sets[index].elements;
    }

    int numgen(final int modulus)
    {
        return chooser != null ? chooser.choose(modulus) : random.nextInt(modulus);
    }

    /** A node address or loopback: what {@code fib ... type local} matches. */
    boolean isLocal(final int address)
    {
        if ((address >>> 24) == 127)
        {
            return true;
        }
        for (final int a : localAddresses)
        {
            if (a == address)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The packet's fate: {@link NftPacket#verdict} ACCEPT, DROP or REJECT, with its DNAT and masquerade.
     * {@link NftPacket#locallyOriginated} is set from its source address.
     */
    public void classify(final NftPacket p)
    {
        p.locallyOriginated = isLocal(p.sourceAddress);
        final int first = p.locallyOriginated ? NftProgram.OUTPUT : NftProgram.PREROUTING;
        if (!hook(p, first))
        {
            return;
        }
        if (!p.locallyOriginated)
        {
            final int daddr = p.dnat ? p.dnatAddress : p.destinationAddress;
            if (!hook(p, isLocal(daddr) ? NftProgram.INPUT : NftProgram.FORWARD))
            {
                return;
            }
        }
        hook(p, NftProgram.POSTROUTING);
    }

    /** Run a hook's base chains; false when the packet was dropped or rejected. */
    private boolean hook(final NftPacket p, final int hook)
    {
        for (final int chain : program.hookChains[hook])
        {
            final int verdict = runBaseChain(p, chain);
            if (verdict == DROP || verdict == REJECT)
            {
                p.verdict = verdict;
                return false;
            }
        }
        return true;
    }

    /**
     * Evaluate one base chain with the fields a rule of this hook sees: filter chains after DNAT see the translated
     * destination (the nat chain at -100 ran before the filter chain at 0).
     */
    private int runBaseChain(final NftPacket p, final int base)
    {
        final int savedAddress = p.destinationAddress;
        final int savedPort = p.destinationPort;
        if (p.dnat)
        {
            p.destinationAddress = p.dnatAddress;
            if (p.dnatPort >= 0)
            {
                p.destinationPort = p.dnatPort;
            }
        }
        try
        {
            return walk(p, base);
        }
        finally
        {
            p.destinationAddress = savedAddress;
            p.destinationPort = savedPort;
        }
    }

    private int walk(final NftPacket p, final int base)
    {
        int depth = 0;
        int chain = base;
        int rule = 0;
        long[] code = program.flat[chain];
        while (true)
        {
            if (rule >= code[0])
            {
                // end of a chain: back to the caller of a jump, or the base chain's policy (accept)
                if (depth == 0)
                {
                    return ACCEPT;
                }
                depth--;
                chain = stackChains[depth];
                rule = stackRules[depth];
                code = program.flat[chain];
                continue;
            }
            p.rulesEvaluated++;
            final int outcome = evaluate(p, code, (int)code[1 + rule], (int)code[2 + rule]);
            if (outcome == NftProgram.NO_MATCH)
            {
                rule++;
                continue;
            }
            if (listener != null)
            {
                listener.rule(program.chainNames[chain], rule + 1, program.chains[chain][rule].text, describe(outcome, p));
            }
            final int kind = outcome & KIND_MASK;
            switch (kind)
            {
                case NftProgram.NEXT ->
                {
                    rule++;
                }
                case ACCEPT, DROP, REJECT ->
                {
                    return kind;
                }
                case RETURN ->
                {
                    if (depth == 0)
                    {
                        return ACCEPT;
                    }
                    depth--;
                    chain = stackChains[depth];
                    rule = stackRules[depth];
                    code = program.flat[chain];
                }
                case JUMP, GOTO ->
                {
                    if (kind == JUMP)
                    {
                        if (depth == STACK)
                        {
                            return DROP; // the kernel refuses such a ruleset at load; never loop here
                        }
                        stackChains[depth] = chain;
                        stackRules[depth] = rule + 1;
                        depth++;
                    }
                    chain = outcome >>> CHAIN_SHIFT;
                    rule = 0;
                    code = program.flat[chain];
                }
                default -> throw new IllegalStateException("verdict " + outcome);
            }
        }
    }

    private static long field(final NftPacket p, final long field)
    {
        return switch ((int)field)
        {
            case NftProgram.F_SADDR -> p.sourceAddress & 0xFFFF_FFFFL;
            case NftProgram.F_DADDR -> p.destinationAddress & 0xFFFF_FFFFL;
            case NftProgram.F_L4PROTO -> p.protocol;
            case NftProgram.F_SPORT -> p.sourcePort;
            default -> p.destinationPort;
        };
    }

    /**
     * One rule's code from {@code pc} to {@code end}: {@link NftProgram#NO_MATCH} when a match fails, a verdict when
     * one is reached, {@link NftProgram#NEXT} when the rule ran to its end (statements only).
     */
    private int evaluate(final NftPacket p, final long[] c, final int from, final int end)
    {
        int pc = from;
        while (pc < end)
        {
            switch ((int)c[pc])
            {
                case NftProgram.OP_CT_STATE ->
                {
                    if ((p.ctState & c[pc + 1]) == 0)
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 2;
                }
                case NftProgram.OP_ADDR ->
                {
                    final long address = field(p, c[pc + 1]);
                    final int n = (int)c[pc + 3];
                    boolean in = false;
                    for (int k = 0; k < n && !in; k++)
                    {
                        in = (address & c[pc + 5 + 2 * k]) == c[pc + 4 + 2 * k];
                    }
                    if (in == (c[pc + 2] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 4 + 2 * n;
                }
                case NftProgram.OP_ADDR_SET ->
                {
                    final boolean in = table((int)c[pc + 3]).contains(field(p, c[pc + 1]));
                    if (in == (c[pc + 2] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 4;
                }
                case NftProgram.OP_ADDR_DYNSET ->
                {
                    final boolean in = table((int)c[pc + 3]).get(field(p, c[pc + 1]), 0) > p.nowNanos;
                    if (in == (c[pc + 2] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 4;
                }
                case NftProgram.OP_FIB_LOCAL ->
                {
                    if (!isLocal(c[pc + 1] == NftProgram.F_SADDR ? p.sourceAddress : p.destinationAddress))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 2;
                }
                case NftProgram.OP_L4PROTO ->
                {
                    if ((p.protocol == c[pc + 2]) == (c[pc + 1] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 3;
                }
                case NftProgram.OP_PORT ->
                {
                    final long proto = c[pc + 4];
                    final boolean equal = field(p, c[pc + 1]) == c[pc + 3];
                    if (proto >= 0 && p.protocol != proto || equal == (c[pc + 2] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 5;
                }
                case NftProgram.OP_MARK_CMP ->
                {
                    if (((p.mark & c[pc + 1]) == c[pc + 2]) != (c[pc + 3] != 0))
                    {
                        return NftProgram.NO_MATCH;
                    }
                    pc += 4;
                }
                case NftProgram.OP_MARK_SET ->
                {
                    p.mark = c[pc + 1] != 0 ? p.mark ^ (int)c[pc + 2] : p.mark | (int)c[pc + 2];
                    pc += 3;
                }
                case NftProgram.OP_VMAP ->
                {
                    final int n = (int)c[pc + 2];
                    long key = 0;
                    for (int k = 0; k < n; k++)
                    {
                        final long f = c[pc + 3 + k];
                        final int bits = f == NftProgram.F_SADDR || f == NftProgram.F_DADDR ? 32 : f == NftProgram.F_L4PROTO ? 8 : 16;
                        key = key << bits | field(p, f);
                    }
                    final long verdict = table((int)c[pc + 1]).get(key, -1);
                    return verdict < 0 ? NftProgram.NO_MATCH : (int)verdict;
                }
                case NftProgram.OP_NUMGEN ->
                {
                    final long verdict = c[pc + 2 + numgen((int)c[pc + 1])];
                    return verdict < 0 ? NftProgram.NO_MATCH : (int)verdict;
                }
                case NftProgram.OP_VERDICT ->
                {
                    return (int)c[pc + 1];
                }
                case NftProgram.OP_DNAT ->
                {
                    p.dnat = true;
                    p.dnatAddress = (int)c[pc + 1];
                    p.dnatPort = (int)c[pc + 2];
                    return ACCEPT; // NAT statements are terminal
                }
                case NftProgram.OP_MASQUERADE ->
                {
                    p.masquerade = true;
                    return ACCEPT;
                }
                case NftProgram.OP_UPDATE ->
                {
                    final long timeout = c[pc + 3];
                    table((int)c[pc + 2]).put(field(p, c[pc + 1]), timeout > 0 ? p.nowNanos + timeout : Long.MAX_VALUE);
                    pc += 4;
                }
                default -> throw new IllegalStateException("opcode " + c[pc] + " at " + pc);
            }
        }
        return NftProgram.NEXT;
    }

    private String describe(final int outcome, final NftPacket p)
    {
        final int kind = outcome & KIND_MASK;
        return switch (kind)
        {
            case NftProgram.NEXT -> "";
            case ACCEPT -> p.dnat ? "dnat to " + Ipv4Address.toString(p.dnatAddress) + (p.dnatPort >= 0 ? ":" + p.dnatPort : "")
                : p.masquerade ? "masquerade" : "accept";
            case DROP -> "drop";
            case REJECT -> "reject";
            case RETURN -> "return";
            case JUMP -> "jump " + program.chainNames[outcome >>> CHAIN_SHIFT];
            case GOTO -> "goto " + program.chainNames[outcome >>> CHAIN_SHIFT];
            default -> "verdict " + outcome;
        };
    }
}
