package io.dpbench.nftables;

import java.util.ArrayList;
import java.util.List;

/**
 * One partial sync of kube-proxy's nftables table: what its proxier sends for a change ({@link #text()}, in nft's
 * transaction syntax: {@code add chain} + {@code flush chain} for every chain of a changed Service, its rules, the map
 * elements added, replaced and deleted, stale chains flushed now and deleted by a later sync, affinity sets), and the
 * same operations for dpbench's dataplane. Built on the control thread by {@link NftPartialSync}; {@link #resolve}
 * applies it to the master program there (giving new chains and sets their indices and compiling the rules once);
 * every worker then {@link #applyTo applies} the resolved operations to its own program copy, by index: O(change),
 * whatever the number of Services.
 */
public final class NftTransaction
{
    /** One operation, in order. */
    private sealed interface Op permits ChainOp, RuleOp, ElementOp, SetOp
    {
    }

    /** add + flush (kube-proxy's ensureChain), flush only (a stale chain), or delete. */
    private static final class ChainOp implements Op
    {
        static final int ENSURE = 0;
        static final int FLUSH = 1;
        static final int DELETE = 2;
        final int kind;
        final String name;
        int index = -1;

        ChainOp(final int kind, final String name)
        {
            this.kind = kind;
            this.name = name;
        }
    }

    private static final class RuleOp implements Op
    {
        final String chain;
        final String text;
        final String comment;
        int index = -1;
        NftProgram.Rule compiled;

        RuleOp(final String chain, final String text, final String comment)
        {
            this.chain = chain;
            this.text = text;
            this.comment = comment;
        }
    }

    private static final class ElementOp implements Op
    {
        final boolean add;
        final String set;
        final String key;
        final String value;
        final String comment;
        int index = -1;
        long packedKey;
        long packedValue;

        ElementOp(final boolean add, final String set, final String key, final String value, final String comment)
        {
            this.add = add;
            this.set = set;
            this.key = key;
            this.value = value;
            this.comment = comment;
        }
    }

    /** An affinity set added (with its declaration) or deleted. */
    private static final class SetOp implements Op
    {
        final boolean add;
        final String name;
        final long timeoutSeconds;
        int index = -1;
        NftProgram.NamedSet declared;

        SetOp(final boolean add, final String name, final long timeoutSeconds)
        {
            this.add = add;
            this.name = name;
            this.timeoutSeconds = timeoutSeconds;
        }
    }

    private final List<Op> ops = new ArrayList<>();
    private boolean resolved;

    void ensureChain(final String name)
    {
        ops.add(new ChainOp(ChainOp.ENSURE, name));
    }

    void flushChain(final String name)
    {
        ops.add(new ChainOp(ChainOp.FLUSH, name));
    }

    void deleteChain(final String name)
    {
        ops.add(new ChainOp(ChainOp.DELETE, name));
    }

    void addRule(final String chain, final String text, final String comment)
    {
        ops.add(new RuleOp(chain, text, comment));
    }

    void addElement(final String set, final String key, final String value, final String comment)
    {
        ops.add(new ElementOp(true, set, key, value, comment));
    }

    void deleteElement(final String set, final String key)
    {
        ops.add(new ElementOp(false, set, key, null, null));
    }

    void addAffinitySet(final String name, final long timeoutSeconds)
    {
        ops.add(new SetOp(true, name, timeoutSeconds));
    }

    void deleteSet(final String name)
    {
        ops.add(new SetOp(false, name, 0));
    }

    public boolean isEmpty()
    {
        return ops.isEmpty();
    }

    public int size()
    {
        return ops.size();
    }

    /**
     * Operations as kube-proxy's tests count them (knftables' NumOperations) in its main transaction: add chain and
     * flush chain count one each, as does every rule and element; the deletion of stale chains, which kube-proxy runs
     * as a transaction of its own before, does not count.
     */
    public int operations()
    {
        int n = 0;
        for (final Op op : ops)
        {
            if (op instanceof ChainOp c)
            {
                n += c.kind == ChainOp.ENSURE ? 2 : c.kind == ChainOp.FLUSH ? 1 : 0;
            }
            else
            {
                n++;
            }
        }
        return n;
    }

    /**
     * On the control thread, once: apply to the master program, giving new chains and sets their indices and
     * compiling rules (each rule text once: a Service's unchanged rules are found compiled). IllegalArgumentException
     * when a rule cannot be compiled (the master is then partly changed: the caller renders in full next time).
     */
    public NftTransaction resolve(final NftProgram master)
    {
        if (resolved)
        {
            throw new IllegalStateException("a transaction is resolved once");
        }
        for (final Op op : ops)
        {
            if (op instanceof ChainOp c)
            {
                c.index = master.chainIndex(c.name);
            }
            else if (op instanceof SetOp s)
            {
                if (s.add)
                {
                    s.index = master.declareSet(s.name, "ipv4_addr", List.of("dynamic", "timeout"), s.timeoutSeconds);
                    s.declared = master.sets[s.index];
                }
                else
                {
                    s.index = master.setIndexOf(s.name);
                }
            }
            else if (op instanceof ElementOp e)
            {
                final NftProgram.NamedSet set = master.set(e.set);
                e.index = set.index;
                e.packedKey = NftProgram.packKey(set.parts, e.key);
                e.packedValue = e.value == null ? Long.MAX_VALUE : master.verdictOf(e.value);
            }
            else if (op instanceof RuleOp r)
            {
                r.index = master.chainIndex(r.chain);
            }
        }
        // rules are compiled after every chain and set of the transaction has its index
        for (final Op op : ops)
        {
            if (op instanceof RuleOp r)
            {
                r.compiled = master.compiledRule(r.text);
            }
        }
        applyTo(master, true);
        resolved = true;
        return this;
    }

    /** On a worker's thread, after {@link #resolve}: the same changes to its own program copy, by index. */
    public void applyTo(final NftProgram program)
    {
        if (!resolved)
        {
            throw new IllegalStateException("resolve the transaction on the master program first");
        }
        applyTo(program, false);
    }

    private void applyTo(final NftProgram program, final boolean master)
    {
        // a chain's rules are collected and installed as one new array, so a chain changes in one store
        final java.util.Map<Integer, List<NftProgram.Rule>> filled = new java.util.LinkedHashMap<>();
        for (final Op op : ops)
        {
            if (op instanceof ChainOp c)
            {
                program.ensureChainCapacity(c.index + 1);
                program.chainNames[c.index] = c.name;
                if (c.index >= program.chainCount)
                {
                    program.setRules(c.index, NO_RULES);
                    program.chainCount = c.index + 1;
                }
                if (c.kind == ChainOp.ENSURE)
                {
                    filled.put(c.index, new ArrayList<>());
                }
                else
                {
                    filled.remove(c.index);
                    program.setRules(c.index, NO_RULES);
                }
            }
            else if (op instanceof RuleOp r)
            {
                filled.computeIfAbsent(r.index, i -> new ArrayList<>(List.of(program.chains[i]))).add(r.compiled);
            }
            else if (op instanceof ElementOp e)
            {
                final NftElementTable table = program.sets[e.index].elements;
                if (e.add)
                {
                    table.put(e.packedKey, e.packedValue);
                }
                else
                {
                    table.remove(e.packedKey);
                }
            }
            else if (op instanceof SetOp s)
            {
                if (s.add)
                {
                    if (!master && (s.index >= program.setCount || program.sets[s.index] == null))
                    {
                        program.installSet(s.index, s.declared);
                    }
                }
                else if (s.index >= 0 && s.index < program.setCount)
                {
                    if (master)
                    {
                        program.removeSet(s.index);
                    }
                    else
                    {
                        program.sets[s.index] = null;
                    }
                }
            }
        }
        for (final java.util.Map.Entry<Integer, List<NftProgram.Rule>> e : filled.entrySet())
        {
            program.setRules(e.getKey(), e.getValue().toArray(NO_RULES));
        }
    }

    private static final NftProgram.Rule[] NO_RULES = new NftProgram.Rule[0];

    /** The transaction as kube-proxy's proxier hands it to nft ({@code nft -f}), one line per operation. */
    public String text()
    {
        final StringBuilder sb = new StringBuilder();
        final String prefix = "ip " + NftablesRenderer.TABLE + " ";
        for (final Op op : ops)
        {
            if (op instanceof ChainOp c)
            {
                switch (c.kind)
                {
                    case ChainOp.ENSURE -> sb.append("add chain ").append(prefix).append(c.name).append('\n')
                        .append("flush chain ").append(prefix).append(c.name).append('\n');
                    case ChainOp.FLUSH -> sb.append("flush chain ").append(prefix).append(c.name).append('\n');
                    default -> sb.append("delete chain ").append(prefix).append(c.name).append('\n');
                }
            }
            else if (op instanceof RuleOp r)
            {
                sb.append("add rule ").append(prefix).append(r.chain).append(' ').append(r.text);
                if (r.comment != null)
                {
                    sb.append(" comment ").append(NftRuleset.quote(r.comment));
                }
                sb.append('\n');
            }
            else if (op instanceof ElementOp e)
            {
                sb.append(e.add ? "add element " : "delete element ").append(prefix).append(e.set).append(" { ").append(e.key);
                if (e.add && e.comment != null)
                {
                    sb.append(" comment ").append(NftRuleset.quote(e.comment));
                }
                if (e.add && e.value != null)
                {
                    sb.append(" : ").append(e.value);
                }
                sb.append(" }\n");
            }
            else if (op instanceof SetOp s)
            {
                if (s.add)
                {
                    sb.append("add set ").append(prefix).append(s.name).append(" { type ipv4_addr ; flags dynamic,timeout ; timeout ")
                        .append(s.timeoutSeconds).append("s ; }\n");
                }
                else
                {
                    sb.append("delete set ").append(prefix).append(s.name).append('\n');
                }
            }
        }
        return sb.toString();
    }
}
