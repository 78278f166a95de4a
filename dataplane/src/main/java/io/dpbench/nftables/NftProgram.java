package io.dpbench.nftables;

import io.dpbench.model.Cidr;
import io.dpbench.model.Protocol;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link NftRuleset} compiled once for evaluation: every chain an array of rules, every rule an array of
 * expressions evaluated left to right (a match that fails ends the rule; a verdict ends it too), named sets and maps
 * as {@link NftElementTable}s keyed by the packed concatenation of their key's parts, base chains grouped by hook in
 * priority order. Understands the expressions kube-proxy's nftables proxier writes (in either spelling, see
 * {@link NftRuleText}); any other rule is refused at compile time with its chain, its position and the word not
 * understood. Immutable after compilation; the per-worker state (dynamic sets, numgen's random numbers) lives in an
 * {@link NftEngine}.
 */
public final class NftProgram
{
    /** Hooks, in the order a packet meets them. */
    public static final int PREROUTING = 0;
    public static final int INPUT = 1;
    public static final int FORWARD = 2;
    public static final int OUTPUT = 3;
    public static final int POSTROUTING = 4;
    static final String[] HOOKS = {"prerouting", "input", "forward", "output", "postrouting"};

    /** Returned by an expression: the rule goes on with its next expression. */
    static final int NEXT = 0;
    /** Returned by an expression: the rule does not match (the chain goes on with its next rule). */
    static final int NO_MATCH = -1;

    /** A compiled rule: its flat code (see the opcodes below) and its text. */
    static final class Rule
    {
        final long[] code;
        final String text;

        Rule(final long[] code, final String text)
        {
            this.code = code;
            this.text = text;
        }
    }

    /** A named set or map: its elements, how its key is packed, and for a dynamic set its timeout. */
    static final class NamedSet
    {
        final String name;
        final int index;
        final KeyPart[] parts;
        final NftElementTable elements;
        final boolean dynamic;
        final long timeoutNanos;

        NamedSet(final String name, final int index, final KeyPart[] parts, final NftElementTable elements,
            final boolean dynamic, final long timeoutNanos)
        {
            this.name = name;
            this.index = index;
            this.parts = parts;
            this.elements = elements;
            this.dynamic = dynamic;
            this.timeoutNanos = timeoutNanos;
        }
    }

    /** The data types a key part can have, with their width in the packed key. */
    enum KeyPart
    {
        IPV4_ADDR(32), INET_PROTO(8), INET_SERVICE(16);

        final int bits;

        KeyPart(final int bits)
        {
            this.bits = bits;
        }

        static KeyPart of(final String type)
        {
            return switch (type)
            {
                case "ipv4_addr" -> IPV4_ADDR;
                case "inet_proto" -> INET_PROTO;
                case "inet_service" -> INET_SERVICE;
                default -> throw new IllegalArgumentException("key type '" + type
                    + "' (modelled: ipv4_addr, inet_proto, inet_service)");
            };
        }
    }

    /** The table compiled (the initial one: partial syncs change the program, not this). */
    final NftRuleset source;
    /** Per chain index: its name, and its rules (empty for a chain not present). Indices are never reused. */
    String[] chainNames;
    Rule[][] chains;
    /** Per chain index: its rules as one flat code array ({@link #flatten}), what the engine walks. */
    long[][] flat;
    int chainCount;
    /** Per hook, its base chains' indices by priority (base chains do not change after compilation). */
    final int[][] hookChains;
    /** Per set index: the set or map (null when deleted); indices are never reused. */
    NamedSet[] sets;
    int setCount;
    /**
     * The names' indices and the compiled rules by text: only in the master program that compiles (the control
     * thread's); a copy (a worker's) applies transactions the master resolved, by index.
     */
    private final Map<String, Integer> chainIndex;
    private final Map<String, Integer> setIndex;
    private final Map<String, Rule> compiledRules;

    private static final Rule[] NO_RULES = new Rule[0];

    private NftProgram(final NftRuleset source)
    {
        this.source = source;
        chainIndex = new HashMap<>();
        setIndex = new HashMap<>();
        compiledRules = new HashMap<>();
        // indices in the order the chains were added: a Service's chains (and their code) lie together
        final List<NftRuleset.Chain> list = new ArrayList<>(source.chainsInOrder());
        chainNames = new String[Math.max(16, list.size() * 2)];
        chains = new Rule[chainNames.length][];
        flat = new long[chainNames.length][];
        for (final NftRuleset.Chain c : list)
        {
            chainIndex(c.name);
        }
        sets = new NamedSet[Math.max(16, source.sets().size() * 2)];
        for (final NftRuleset.NamedSet s : source.sets())
        {
            addSet(compileSet(s, setCount));
        }
        hookChains = new int[HOOKS.length][];
        for (int h = 0; h < HOOKS.length; h++)
        {
            final String hook = HOOKS[h];
            hookChains[h] = list.stream().filter(c -> hook.equals(c.hook))
                .sorted(Comparator.comparingInt((NftRuleset.Chain c) -> c.priority))
                .mapToInt(c -> chainIndex.get(c.name)).toArray();
        }
    }

    /** A copy for another thread (a worker): its own chains array and element tables, the same compiled rules. */
    private NftProgram(final NftProgram master)
    {
        source = master.source;
        chainIndex = null;
        setIndex = null;
        compiledRules = null;
        chainNames = master.chainNames.clone();
        chains = master.chains.clone();
        flat = master.flat.clone();
        chainCount = master.chainCount;
        hookChains = master.hookChains;
        sets = new NamedSet[master.sets.length];
        for (int i = 0; i < master.setCount; i++)
        {
            final NamedSet s = master.sets[i];
            sets[i] = s == null ? null : new NamedSet(s.name, s.index, s.parts, s.elements.copy(), s.dynamic, s.timeoutNanos);
        }
        setCount = master.setCount;
    }

    /** A copy of this program for another thread, sharing nothing it changes (transactions are applied to each). */
    public NftProgram copy()
    {
        return new NftProgram(this);
    }

    /** The index of a chain, given one when it has none (master only). */
    int chainIndex(final String name)
    {
        final Integer existing = chainIndex.get(name);
        if (existing != null)
        {
            return existing;
        }
        final int index = chainCount;
        ensureChainCapacity(index + 1);
        chainNames[index] = name;
        chains[index] = NO_RULES;
        flat[index] = EMPTY_CHAIN;
        chainCount++;
        chainIndex.put(name, index);
        return index;
    }

    void ensureChainCapacity(final int n)
    {
        if (n > chainNames.length)
        {
            final int capacity = Math.max(n, chainNames.length * 2);
            chainNames = java.util.Arrays.copyOf(chainNames, capacity);
            chains = java.util.Arrays.copyOf(chains, capacity);
            flat = java.util.Arrays.copyOf(flat, capacity);
        }
    }

    void ensureSetCapacity(final int n)
    {
        if (n > sets.length)
        {
            sets = java.util.Arrays.copyOf(sets, Math.max(n, sets.length * 2));
        }
    }

    private void addSet(final NamedSet set)
    {
        ensureSetCapacity(set.index + 1);
        sets[set.index] = set;
        setCount = Math.max(setCount, set.index + 1);
        setIndex.put(set.name, set.index);
    }

    /** The compiled rule for a rule text, compiled once (master only). */
    Rule compiledRule(final String text)
    {
        Rule rule = compiledRules.get(text);
        if (rule == null)
        {
            rule = new Rule(compileRule(NftRuleText.words(NftRuleText.canonical(text))), text);
            compiledRules.put(text, rule);
        }
        return rule;
    }

    /**
     * Compile {@code ruleset}. Throws IllegalArgumentException naming the chain, the rule's position (1-based) and
     * what is not understood, or the set and its element.
     */
    public static NftProgram compile(final NftRuleset ruleset)
    {
        final NftProgram program = new NftProgram(ruleset);
        for (final NftRuleset.Chain chain : ruleset.chainsInOrder())
        {
            final Rule[] rules = new Rule[chain.rules.size()];
            for (int r = 0; r < rules.length; r++)
            {
                final String text = chain.rules.get(r).text();
                try
                {
                    rules[r] = program.compiledRule(text);
                }
                catch (final IllegalArgumentException ex)
                {
                    final int line = chain.rules.get(r).line();
                    throw new IllegalArgumentException((line > 0 ? "line " + line + ": " : "") + "chain " + chain.name
                        + ", rule " + (r + 1) + " ('" + text + "'): " + ex.getMessage(), ex);
                }
            }
            program.setRules(program.chainIndex.get(chain.name), rules);
        }
        program.refuseLoops();
        return program;
    }

    /**
     * The kernel refuses a ruleset whose jumps and gotos can lead back to a chain they left (nf_tables' loop check at
     * load): so does this compiler, naming the loop, so that a walk always ends.
     */
    private void refuseLoops()
    {
        final List<List<Integer>> edges = new ArrayList<>();
        for (int c = 0; c < chainCount; c++)
        {
            final List<Integer> to = new ArrayList<>();
            final long[] code = flat[c];
            final int n = (int)code[0];
            for (int r = 0; r < n; r++)
            {
                int pc = (int)code[1 + r];
                while (pc < code[2 + r])
                {
                    final int op = (int)code[pc];
                    switch (op)
                    {
                        case OP_VERDICT -> target(code[pc + 1], to);
                        case OP_NUMGEN ->
                        {
                            for (int k = 0; k < code[pc + 1]; k++)
                            {
                                target(code[pc + 2 + k], to);
                            }
                        }
                        case OP_VMAP -> sets[(int)code[pc + 1]].elements.forEachValue(v -> target(v, to));
                        default ->
                        {
                        }
                    }
                    pc += width(code, pc);
                }
            }
            edges.add(to);
        }
        final int[] state = new int[chainCount]; // 0 new, 1 on the path, 2 done
        final java.util.ArrayDeque<Integer> path = new java.util.ArrayDeque<>();
        for (int c = 0; c < chainCount; c++)
        {
            loopFrom(c, edges, state, path);
        }
    }

    private void loopFrom(final int chain, final List<List<Integer>> edges, final int[] state,
        final java.util.ArrayDeque<Integer> path)
    {
        if (state[chain] == 2)
        {
            return;
        }
        if (state[chain] == 1)
        {
            final StringBuilder loop = new StringBuilder();
            boolean in = false;
            for (final Integer c : path)
            {
                in |= c == chain;
                if (in)
                {
                    loop.append(chainNames[c]).append(" -> ");
                }
            }
            throw new IllegalArgumentException("chain " + chainNames[chain] + ": its jumps and gotos loop back to it ("
                + loop + chainNames[chain] + "); the kernel refuses such a ruleset");
        }
        state[chain] = 1;
        path.addLast(chain);
        for (final int next : edges.get(chain))
        {
            loopFrom(next, edges, state, path);
        }
        path.removeLast();
        state[chain] = 2;
    }

    private static void target(final long verdict, final List<Integer> to)
    {
        final long kind = verdict & NftEngine.KIND_MASK;
        if (verdict >= 0 && (kind == NftEngine.JUMP || kind == NftEngine.GOTO))
        {
            to.add((int)(verdict >>> NftEngine.CHAIN_SHIFT));
        }
    }

    /** How many longs the instruction at pc takes. */
    static int width(final long[] code, final int pc)
    {
        return switch ((int)code[pc])
        {
            case OP_CT_STATE, OP_FIB_LOCAL, OP_VERDICT -> 2;
            case OP_ADDR -> 4 + 2 * (int)code[pc + 3];
            case OP_ADDR_SET, OP_ADDR_DYNSET, OP_MARK_CMP, OP_UPDATE -> 4;
            case OP_L4PROTO, OP_MARK_SET, OP_DNAT -> 3;
            case OP_PORT -> 5;
            case OP_VMAP -> 3 + (int)code[pc + 2];
            case OP_NUMGEN -> 2 + (int)code[pc + 1];
            case OP_MASQUERADE -> 1;
            default -> throw new IllegalStateException("opcode " + code[pc]);
        };
    }

    public NftRuleset source()
    {
        return source;
    }

    /** The index of an existing chain (master only); compile errors name a missing one. */
    int chain(final String name)
    {
        final Integer i = chainIndex.get(name);
        if (i == null)
        {
            throw new IllegalArgumentException("no chain '" + name + "'");
        }
        return i;
    }

    /** An existing set or map (master only). */
    NamedSet set(final String name)
    {
        final Integer i = setIndex.get(name);
        if (i == null || sets[i] == null)
        {
            throw new IllegalArgumentException("no set or map '" + name + "'");
        }
        return sets[i];
    }

    /** The index of a set by name, or -1 (master only). */
    int setIndexOf(final String name)
    {
        final Integer i = setIndex.get(name);
        return i == null || sets[i] == null ? -1 : i;
    }

    /** Declare a set (a partial sync's affinity set), or find it; its index never changes (master only). */
    int declareSet(final String name, final String keyType, final List<String> flags, final long timeoutSeconds)
    {
        final Integer existing = setIndex.get(name);
        final int index = existing != null ? existing : setCount;
        final NftRuleset.NamedSet decl = new NftRuleset("ip", "x", null).addSet(name, keyType, flags, timeoutSeconds, null);
        final NamedSet s = compileSet(decl, index);
        addSet(s);
        return index;
    }

    /** Remove a set (master: the name keeps its index for a later declaration). */
    void removeSet(final int index)
    {
        sets[index] = null;
    }

    /** Install a set at an index the master chose (a copy replaying a transaction). */
    void installSet(final int index, final NamedSet master)
    {
        ensureSetCapacity(index + 1);
        sets[index] = new NamedSet(master.name, index, master.parts, new NftElementTable(16), master.dynamic,
            master.timeoutNanos);
        setCount = Math.max(setCount, index + 1);
    }

    /** A verdict value for a map element's verdict text (master only). */
    long verdictOf(final String value)
    {
        return verdictValue(value);
    }

    // ------------------------------------------------------------------------------------------------ sets

    private NamedSet compileSet(final NftRuleset.NamedSet s, final int index)
    {
        final String[] typeParts = s.keyType.split(" \\. ");
        final KeyPart[] parts = new KeyPart[typeParts.length];
        int bits = 0;
        for (int i = 0; i < parts.length; i++)
        {
            try
            {
                parts[i] = KeyPart.of(typeParts[i].trim());
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException((s.isMap() ? "map " : "set ") + s.name + ": " + ex.getMessage(), ex);
            }
            bits += parts[i].bits;
        }
        if (bits > 62)
        {
            throw new IllegalArgumentException("set " + s.name + ": a key of " + bits + " bits (at most 62 modelled)");
        }
        if (s.isMap() && !"verdict".equals(s.valueType))
        {
            throw new IllegalArgumentException("map " + s.name + ": values of type '" + s.valueType + "' (modelled: verdict)");
        }
        final NftElementTable table = new NftElementTable(Math.max(16, s.elements.size()));
        for (final NftRuleset.Element e : s.elements.values())
        {
            final long key;
            try
            {
                key = packKey(parts, e.key());
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException((s.isMap() ? "map " : "set ") + s.name + ", element '" + e.key() + "': "
                    + ex.getMessage(), ex);
            }
            table.put(key, s.isMap() ? verdictValue(e.value()) : Long.MAX_VALUE);
        }
        return new NamedSet(s.name, index, parts, table, s.flags.contains("dynamic") || s.timeoutSeconds > 0,
            s.timeoutSeconds * 1_000_000_000L);
    }

    /** A map element's verdict as the engine encodes verdicts; chains are resolved by name. */
    private long verdictValue(final String value)
    {
        final String[] w = value.trim().split("\\s+");
        return switch (w[0])
        {
            case "accept" -> NftEngine.ACCEPT;
            case "drop" -> NftEngine.DROP;
            case "return" -> NftEngine.RETURN;
            case "jump", "goto" ->
            {
                if (w.length != 2)
                {
                    throw new IllegalArgumentException("verdict '" + value + "' needs one chain name");
                }
                final Integer chain = chainIndex.get(w[1]);
                if (chain == null)
                {
                    throw new IllegalArgumentException("verdict '" + value + "': no chain '" + w[1] + "'");
                }
                yield (w[0].equals("jump") ? NftEngine.JUMP : NftEngine.GOTO) | (long)chain << NftEngine.CHAIN_SHIFT;
            }
            default -> throw new IllegalArgumentException("verdict '" + value + "' (modelled: accept, drop, return, jump C, goto C)");
        };
    }

    /** Pack an element key's text ("172.30.0.41 . tcp . 80") by the set's key parts. */
    static long packKey(final KeyPart[] parts, final String text)
    {
        final String[] values = text.split(" \\. ");
        if (values.length != parts.length)
        {
            throw new IllegalArgumentException(values.length + " key parts where the type has " + parts.length);
        }
        long key = 0;
        for (int i = 0; i < parts.length; i++)
        {
            final String v = values[i].trim();
            final long part = switch (parts[i])
            {
                case IPV4_ADDR -> Ipv4Address.parse(v) & 0xFFFF_FFFFL;
                case INET_PROTO -> protocol(v);
                case INET_SERVICE -> port(v);
            };
            key = key << parts[i].bits | part;
        }
        return key;
    }

    static int protocol(final String text)
    {
        return switch (text)
        {
            case "tcp" -> 6;
            case "udp" -> 17;
            case "sctp" -> 132;
            case "icmp" -> 1;
            default ->
            {
                final int n = number(text, "a protocol");
                if (n < 0 || n > 255)
                {
                    throw new IllegalArgumentException("protocol " + n + " outside 0..255");
                }
                yield n;
            }
        };
    }

    static int port(final String text)
    {
        final int n = number(text, "a port");
        if (n < 0 || n > 65535)
        {
            throw new IllegalArgumentException("port " + n + " outside 0..65535");
        }
        return n;
    }

    private static int number(final String text, final String what)
    {
        try
        {
            return Integer.parseInt(text);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("'" + text + "' is not " + what);
        }
    }

    // ------------------------------------------------------------------------------------------------ rules

    /**
     * Opcodes of the flat code a rule compiles to: each is followed by its operands, all longs, so that a chain's
     * rules are one array the engine walks (a few cache lines per chain, whatever the number of chains; no objects
     * or virtual calls per expression). Addresses are stored unsigned.
     */
    static final int OP_CT_STATE = 1;      // mask
    static final int OP_ADDR = 2;          // field negate n (network mask)*n
    static final int OP_ADDR_SET = 3;      // field negate set
    static final int OP_ADDR_DYNSET = 4;   // field negate set
    static final int OP_FIB_LOCAL = 5;     // field
    static final int OP_L4PROTO = 6;       // negate proto
    static final int OP_PORT = 7;          // field negate port proto(-1: any)
    static final int OP_MARK_CMP = 8;      // mask value equal
    static final int OP_MARK_SET = 9;      // xor(0|1) value
    static final int OP_VMAP = 10;         // set n field*n
    static final int OP_NUMGEN = 11;       // mod verdict*mod
    static final int OP_VERDICT = 12;      // verdict
    static final int OP_DNAT = 13;         // address port(-1: kept)
    static final int OP_MASQUERADE = 14;   //
    static final int OP_UPDATE = 15;       // field set timeoutNanos

    /** Packet fields an expression reads (operand values). */
    static final int F_SADDR = 0;
    static final int F_DADDR = 1;
    static final int F_L4PROTO = 2;
    static final int F_SPORT = 3;
    static final int F_DPORT = 4;

    /** A growable long array. */
    private static final class Code
    {
        long[] a = new long[16];
        int n;

        Code add(final long v)
        {
            if (n == a.length)
            {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
            return this;
        }

        long[] toArray()
        {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    private long[] compileRule(final List<String> w)
    {
        final Code code = new Code();
        int i = 0;
        while (i < w.size())
        {
            final String word = w.get(i);
            // a concatenation ending in a vmap lookup: FIELD [. FIELD]... vmap @map
            final int concatEnd = concatenation(w, i);
            if (concatEnd > i)
            {
                i = lookup(w, i, concatEnd, code);
                continue;
            }
            switch (word)
            {
                case "ip" ->
                {
                    final int field = addressField(w, i + 1);
                    i = addressMatch(w, i + 2, field, code);
                }
                case "ct" ->
                {
                    expectWord(w, i + 1, "state");
                    get(w, i + 2, "ct states");
                    int bits = 0;
                    int k = i + 2;
                    // "new" or "established,related" (the comma is a word of its own)
                    while (true)
                    {
                        bits |= ctState(w.get(k));
                        if (k + 2 < w.size() && w.get(k + 1).equals(","))
                        {
                            k += 2;
                            continue;
                        }
                        break;
                    }
                    code.add(OP_CT_STATE).add(bits);
                    i = k + 1;
                }
                case "fib" ->
                {
                    final String which = get(w, i + 1, "saddr or daddr");
                    expectWord(w, i + 2, "type");
                    expectWord(w, i + 3, "local");
                    if (!which.equals("saddr") && !which.equals("daddr"))
                    {
                        throw new IllegalArgumentException("fib " + which + " (modelled: fib saddr|daddr type local)");
                    }
                    code.add(OP_FIB_LOCAL).add(which.equals("saddr") ? F_SADDR : F_DADDR);
                    i += 4;
                }
                case "meta" ->
                {
                    final String what = get(w, i + 1, "l4proto or mark");
                    if (what.equals("l4proto"))
                    {
                        final boolean negate = "!=".equals(get(w, i + 2, "a protocol"));
                        final int proto = protocol(get(w, negate ? i + 3 : i + 2, "a protocol"));
                        code.add(OP_L4PROTO).add(negate ? 1 : 0).add(proto);
                        i += negate ? 4 : 3;
                    }
                    else if (what.equals("mark"))
                    {
                        i = mark(w, i + 2, code);
                    }
                    else
                    {
                        throw new IllegalArgumentException("meta " + what + " (modelled: meta l4proto, meta mark)");
                    }
                }
                case "tcp", "udp", "sctp", "th" ->
                {
                    final String dir = get(w, i + 1, "dport or sport");
                    if (!dir.equals("dport") && !dir.equals("sport"))
                    {
                        throw new IllegalArgumentException(word + " " + dir + " (modelled: dport, sport)");
                    }
                    final boolean negate = "!=".equals(get(w, i + 2, "a port"));
                    final int port = port(get(w, negate ? i + 3 : i + 2, "a port"));
                    code.add(OP_PORT).add(dir.equals("dport") ? F_DPORT : F_SPORT).add(negate ? 1 : 0).add(port)
                        .add(word.equals("th") ? -1 : protocol(word));
                    i += negate ? 4 : 3;
                }
                case "numgen" ->
                {
                    expectWord(w, i + 1, "random");
                    expectWord(w, i + 2, "mod");
                    final int mod = number(get(w, i + 3, "a modulus"), "a modulus");
                    if (mod < 1 || mod > 1 << 20)
                    {
                        throw new IllegalArgumentException("numgen mod " + mod + " outside 1.." + (1 << 20));
                    }
                    expectWord(w, i + 4, "vmap");
                    expectWord(w, i + 5, "{");
                    final long[] verdicts = new long[mod];
                    java.util.Arrays.fill(verdicts, -1);
                    int k = i + 6;
                    while (!get(w, k, "'}'").equals("}"))
                    {
                        if (w.get(k).equals(","))
                        {
                            k++;
                            continue;
                        }
                        final int index = number(w.get(k), "a numgen value");
                        expectWord(w, k + 1, ":");
                        final String verb = get(w, k + 2, "a verdict");
                        final boolean chained = verb.equals("goto") || verb.equals("jump");
                        final String verdict = chained ? verb + " " + get(w, k + 3, "a chain") : verb;
                        if (index < 0 || index >= mod)
                        {
                            throw new IllegalArgumentException("numgen value " + index + " outside 0.." + (mod - 1));
                        }
                        verdicts[index] = verdictValue(verdict);
                        k += chained ? 4 : 3;
                    }
                    code.add(OP_NUMGEN).add(mod);
                    for (final long v : verdicts)
                    {
                        code.add(v);
                    }
                    i = k + 1;
                }
                case "jump", "goto" ->
                {
                    final int chain = chain(get(w, i + 1, "a chain name"));
                    code.add(OP_VERDICT).add((word.equals("jump") ? NftEngine.JUMP : NftEngine.GOTO) | (long)chain << NftEngine.CHAIN_SHIFT);
                    i += 2;
                }
                case "accept" -> i = verdict(code, NftEngine.ACCEPT, i);
                case "drop" -> i = verdict(code, NftEngine.DROP, i);
                case "return" -> i = verdict(code, NftEngine.RETURN, i);
                case "reject" ->
                {
                    code.add(OP_VERDICT).add(NftEngine.REJECT);
                    i++;
                    if (i < w.size() && w.get(i).equals("with"))
                    {
                        i = w.size(); // the ICMP type it answers with: the verdict is REJECT whatever it is
                    }
                }
                case "counter" -> i++;
                case "dnat" ->
                {
                    int k = i + 1;
                    if ("ip".equals(get(w, k, "to")))
                    {
                        k++;
                    }
                    expectWord(w, k, "to");
                    final String target = get(w, k + 1, "ADDRESS[:PORT]");
                    final int colon = target.indexOf(':');
                    final int address = Ipv4Address.parse(colon < 0 ? target : target.substring(0, colon));
                    final int port = colon < 0 ? -1 : port(target.substring(colon + 1));
                    code.add(OP_DNAT).add(address & 0xFFFF_FFFFL).add(port);
                    i = k + 2;
                }
                case "masquerade" ->
                {
                    code.add(OP_MASQUERADE);
                    i++;
                    while (i < w.size() && (w.get(i).equals("fully-random") || w.get(i).equals("random")
                        || w.get(i).equals("persistent") || w.get(i).equals(",")))
                    {
                        i++;
                    }
                }
                case "update", "add" ->
                {
                    final String ref = get(w, i + 1, "@set");
                    if (!ref.startsWith("@"))
                    {
                        throw new IllegalArgumentException(word + " " + ref + " (expected @set)");
                    }
                    final NamedSet set = set(ref.substring(1));
                    if (!set.dynamic || set.parts.length != 1 || set.parts[0] != KeyPart.IPV4_ADDR)
                    {
                        throw new IllegalArgumentException(word + " @" + set.name + ": modelled for dynamic sets of ipv4_addr");
                    }
                    expectWord(w, i + 2, "{");
                    expectWord(w, i + 3, "ip");
                    final int field = addressField(w, i + 4);
                    expectWord(w, i + 5, "}");
                    code.add(OP_UPDATE).add(field).add(set.index).add(set.timeoutNanos);
                    i += 6;
                }
                default -> throw new IllegalArgumentException("'" + word + "' is not an expression this model knows");
            }
        }
        return code.toArray();
    }

    private static int verdict(final Code code, final int verdict, final int i)
    {
        code.add(OP_VERDICT).add(verdict);
        return i + 1;
    }

    private static String get(final List<String> w, final int i, final String what)
    {
        if (i >= w.size())
        {
            throw new IllegalArgumentException("the rule ends where " + what + " was expected");
        }
        return w.get(i);
    }

    private static void expectWord(final List<String> w, final int i, final String word)
    {
        final String found = get(w, i, "'" + word + "'");
        if (!found.equals(word))
        {
            throw new IllegalArgumentException("expected '" + word + "', found '" + found + "'");
        }
    }

    private static int ctState(final String name)
    {
        return switch (name)
        {
            case "new" -> NftPacket.CT_NEW;
            case "established" -> NftPacket.CT_ESTABLISHED;
            case "related" -> NftPacket.CT_RELATED;
            case "invalid" -> NftPacket.CT_INVALID;
            case "untracked" -> NftPacket.CT_UNTRACKED;
            default -> throw new IllegalArgumentException("ct state '" + name + "'");
        };
    }

    private static int addressField(final List<String> w, final int i)
    {
        final String which = get(w, i, "saddr or daddr");
        return switch (which)
        {
            case "saddr" -> F_SADDR;
            case "daddr" -> F_DADDR;
            default -> throw new IllegalArgumentException("ip " + which + " (modelled: ip saddr, ip daddr)");
        };
    }

    /** {@code [!=] ADDRESS|CIDR|{ a, b }|@set} after {@code ip saddr|daddr}. */
    private int addressMatch(final List<String> w, final int start, final int field, final Code code)
    {
        int i = start;
        final boolean negate = "!=".equals(get(w, i, "an address"));
        if (negate)
        {
            i++;
        }
        final String operand = get(w, i, "an address");
        if (operand.startsWith("@"))
        {
            final NamedSet set = set(operand.substring(1));
            if (set.parts.length != 1 || set.parts[0] != KeyPart.IPV4_ADDR)
            {
                throw new IllegalArgumentException("@" + set.name + " is not a set of ipv4_addr");
            }
            code.add(set.dynamic ? OP_ADDR_DYNSET : OP_ADDR_SET).add(field).add(negate ? 1 : 0).add(set.index);
            return i + 1;
        }
        final List<Cidr> cidrs = new ArrayList<>();
        if (operand.equals("{"))
        {
            i++;
            while (!get(w, i, "'}'").equals("}"))
            {
                if (!w.get(i).equals(","))
                {
                    cidrs.add(cidr(w.get(i)));
                }
                i++;
            }
        }
        else
        {
            cidrs.add(cidr(operand));
        }
        code.add(OP_ADDR).add(field).add(negate ? 1 : 0).add(cidrs.size());
        for (final Cidr c : cidrs)
        {
            code.add(c.network() & 0xFFFF_FFFFL).add(c.mask() & 0xFFFF_FFFFL);
        }
        return i + 1;
    }

    private static Cidr cidr(final String text)
    {
        try
        {
            return Cidr.parse(text.endsWith(",") ? text.substring(0, text.length() - 1) : text);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address or CIDR");
        }
    }

    /** {@code & M == V}, or {@code set meta mark | M} / {@code ^ M}, after {@code meta mark}. */
    private static int mark(final List<String> w, final int i, final Code code)
    {
        final String op = get(w, i, "& or set");
        if (op.equals("&"))
        {
            final long mask = Long.parseLong(NftRuleText.hex(get(w, i + 1, "a mask")).substring(2), 16);
            final String cmp = get(w, i + 2, "== or !=");
            final long value = Long.parseLong(NftRuleText.hex(get(w, i + 3, "a value")).substring(2), 16);
            if (!cmp.equals("==") && !cmp.equals("!="))
            {
                throw new IllegalArgumentException("meta mark & M " + cmp + " (modelled: ==, !=)");
            }
            code.add(OP_MARK_CMP).add(mask).add(value).add(cmp.equals("==") ? 1 : 0);
            return i + 4;
        }
        if (op.equals("set"))
        {
            expectWord(w, i + 1, "meta");
            expectWord(w, i + 2, "mark");
            final String operator = get(w, i + 3, "| or ^");
            final long value = Long.parseLong(NftRuleText.hex(get(w, i + 4, "a value")).substring(2), 16);
            if (!operator.equals("|") && !operator.equals("^"))
            {
                throw new IllegalArgumentException("meta mark set meta mark " + operator + " (modelled: |, ^)");
            }
            code.add(OP_MARK_SET).add(operator.equals("^") ? 1 : 0).add(value);
            return i + 5;
        }
        throw new IllegalArgumentException("meta mark " + op + " (modelled: & M == V, set meta mark | M, set meta mark ^ M)");
    }

    /** Where a concatenation of fields followed by {@code vmap} starts at i, the index of 'vmap'; else i. */
    private static int concatenation(final List<String> w, final int i)
    {
        int k = i;
        while (true)
        {
            final int width = fieldWidth(w, k);
            if (width == 0)
            {
                return i;
            }
            k += width;
            if (k < w.size() && w.get(k).equals("."))
            {
                k++;
                continue;
            }
            return k < w.size() && w.get(k).equals("vmap") ? k : i;
        }
    }

    /** How many words the field at k takes (ip daddr, meta l4proto, th dport ...), or 0 when none starts there. */
    private static int fieldWidth(final List<String> w, final int k)
    {
        if (k + 1 >= w.size())
        {
            return 0;
        }
        final String a = w.get(k);
        final String b = w.get(k + 1);
        if (a.equals("ip") && (b.equals("saddr") || b.equals("daddr"))
            || a.equals("meta") && b.equals("l4proto")
            || (a.equals("th") || a.equals("tcp") || a.equals("udp") || a.equals("sctp")) && (b.equals("dport") || b.equals("sport")))
        {
            return 2;
        }
        return 0;
    }

    /** {@code FIELD [. FIELD]... vmap @map}: one lookup, its verdict, or no match when the key is absent. */
    private int lookup(final List<String> w, final int start, final int vmapAt, final Code code)
    {
        final List<Integer> fields = new ArrayList<>();
        int k = start;
        while (k < vmapAt)
        {
            final String a = w.get(k);
            final String b = w.get(k + 1);
            fields.add(switch (a)
            {
                case "ip" -> b.equals("saddr") ? F_SADDR : F_DADDR;
                case "meta" -> F_L4PROTO;
                default -> b.equals("dport") ? F_DPORT : F_SPORT;
            });
            k += 2;
            if (k < vmapAt && w.get(k).equals("."))
            {
                k++;
            }
        }
        final String ref = get(w, vmapAt + 1, "@map");
        if (!ref.startsWith("@"))
        {
            throw new IllegalArgumentException("vmap " + ref + " (modelled: vmap @map after a concatenation)");
        }
        final NamedSet map = set(ref.substring(1));
        if (map.parts.length != fields.size())
        {
            throw new IllegalArgumentException("vmap @" + map.name + ": " + fields.size() + " fields for a key of "
                + map.parts.length);
        }
        code.add(OP_VMAP).add(map.index).add(fields.size());
        for (int f = 0; f < fields.size(); f++)
        {
            final int field = fields.get(f);
            final KeyPart expected = field == F_SADDR || field == F_DADDR ? KeyPart.IPV4_ADDR
                : field == F_L4PROTO ? KeyPart.INET_PROTO : KeyPart.INET_SERVICE;
            if (expected != map.parts[f])
            {
                throw new IllegalArgumentException("vmap @" + map.name + ": field " + (f + 1) + " is " + expected
                    + ", the map's key part is " + map.parts[f]);
            }
            code.add(field);
        }
        return vmapAt + 2;
    }

    /**
     * A chain's rules as one array, what the engine reads: {@code [n, start_0 .. start_n, code...]}, rule r's code
     * from {@code start_r} to {@code start_(r+1)} (absolute indices), so that running a chain touches one array (a
     * few cache lines) and no other object.
     */
    static final long[] EMPTY_CHAIN = {0, 2};

    static long[] flatten(final Rule[] rules)
    {
        if (rules.length == 0)
        {
            return EMPTY_CHAIN;
        }
        final int n = rules.length;
        int length = 2 + n;
        for (final Rule r : rules)
        {
            length += r.code.length;
        }
        final long[] flat = new long[length];
        flat[0] = n;
        int at = 2 + n;
        for (int i = 0; i < n; i++)
        {
            flat[1 + i] = at;
            System.arraycopy(rules[i].code, 0, flat, at, rules[i].code.length);
            at += rules[i].code.length;
        }
        flat[1 + n] = at;
        return flat;
    }

    /** Install a chain's rules (and its flat code). */
    void setRules(final int index, final Rule[] rules)
    {
        chains[index] = rules;
        flat[index] = flatten(rules);
    }
}
