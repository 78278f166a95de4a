package io.dpbench.nftables;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One nftables table as kube-proxy's nftables proxier sees it: chains (base chains with type, hook and priority, and
 * regular ones) holding rules, and named sets and verdict maps holding elements. Rules are kept as their rule text in
 * kube-proxy's spelling (e.g. {@code ip daddr . meta l4proto . th dport vmap @service-ips}); {@link NftRuleCompiler}
 * gives them meaning. Built by {@link NftablesRenderer}, read by {@link NftTextParser} (kube-proxy's dump syntax or
 * {@code nft list ruleset}), printed by {@link #dump()} as knftables' fake {@code Dump} prints a table: the syntax of
 * kube-proxy's own expected test outputs.
 */
public final class NftRuleset
{
    /** A chain; {@code hook} is null for a regular chain. */
    public static final class Chain
    {
        public final String name;
        public final String type;
        public final String hook;
        public final int priority;
        public final String comment;
        public final List<Rule> rules = new ArrayList<>();

        Chain(final String name, final String type, final String hook, final int priority, final String comment)
        {
            this.name = name;
            this.type = type;
            this.hook = hook;
            this.priority = priority;
            this.comment = comment;
        }

        public boolean isBase()
        {
            return hook != null;
        }
    }

    /** A rule: its text (without the comment), its comment or null, and the line it was read from (0: rendered). */
    public record Rule(String text, String comment, int line)
    {
    }

    /**
     * A named set or map. {@code keyType} is the concatenation as written ({@code ipv4_addr . inet_proto .
     * inet_service}); {@code valueType} is null for a set ({@code verdict} for kube-proxy's maps).
     */
    public static final class NamedSet
    {
        public final String name;
        public final String keyType;
        public final String valueType;
        public final List<String> flags;
        /** Element timeout in seconds, or 0. */
        public final long timeoutSeconds;
        public final String comment;
        /** Elements by key text ({@code 172.30.0.41 . tcp . 80}), sorted, so that a dump is reproducible. */
        public final Map<String, Element> elements = new TreeMap<>();

        NamedSet(final String name, final String keyType, final String valueType, final List<String> flags,
            final long timeoutSeconds, final String comment)
        {
            this.name = name;
            this.keyType = keyType;
            this.valueType = valueType;
            this.flags = List.copyOf(flags);
            this.timeoutSeconds = timeoutSeconds;
            this.comment = comment;
        }

        public boolean isMap()
        {
            return valueType != null;
        }
    }

    /** An element: its key parts joined by " . ", its value (a map's verdict) or null, its comment or null. */
    public record Element(String key, String value, String comment)
    {
    }

    private final String family;
    private final String table;
    private final String tableComment;
    private final Map<String, Chain> chains = new TreeMap<>();
    /** The chains in the order they were added (a Service's chains together: what the compiler lays out). */
    private final List<Chain> added = new ArrayList<>();
    private final Map<String, NamedSet> sets = new TreeMap<>();

    public NftRuleset(final String family, final String table, final String tableComment)
    {
        this.family = family;
        this.table = table;
        this.tableComment = tableComment;
    }

    public String family()
    {
        return family;
    }

    public String table()
    {
        return table;
    }

    public String tableComment()
    {
        return tableComment;
    }

    /** Add a chain (a base chain when {@code hook} is not null); adding an existing chain keeps it as it is. */
    public Chain addChain(final String name, final String type, final String hook, final int priority, final String comment)
    {
        return chains.computeIfAbsent(name, n ->
        {
            final Chain c = new Chain(n, type, hook, priority, comment);
            added.add(c);
            return c;
        });
    }

    /** The chains in the order they were added. */
    public List<Chain> chainsInOrder()
    {
        return java.util.Collections.unmodifiableList(added);
    }

    public Chain addChain(final String name)
    {
        return addChain(name, null, null, 0, null);
    }

    public Chain chain(final String name)
    {
        return chains.get(name);
    }

    public Collection<Chain> chains()
    {
        return chains.values();
    }

    public void addRule(final String chain, final String text, final String comment)
    {
        addRule(chain, text, comment, 0);
    }

    public void addRule(final String chain, final String text, final String comment, final int line)
    {
        final Chain c = chains.get(chain);
        if (c == null)
        {
            throw new IllegalArgumentException("rule for chain '" + chain + "', which does not exist");
        }
        c.rules.add(new Rule(text, comment, line));
    }

    public void addRule(final String chain, final String text)
    {
        addRule(chain, text, null);
    }

    public NamedSet addSet(final String name, final String keyType, final List<String> flags, final long timeoutSeconds,
        final String comment)
    {
        return sets.computeIfAbsent(name, n -> new NamedSet(n, keyType, null, flags, timeoutSeconds, comment));
    }

    public NamedSet addMap(final String name, final String keyType, final String valueType, final String comment)
    {
        return sets.computeIfAbsent(name, n -> new NamedSet(n, keyType, valueType, List.of(), 0, comment));
    }

    public NamedSet set(final String name)
    {
        return sets.get(name);
    }

    public Collection<NamedSet> sets()
    {
        return sets.values();
    }

    public void removeSet(final String name)
    {
        sets.remove(name);
    }

    public void removeChain(final String name)
    {
        final Chain c = chains.remove(name);
        added.remove(c);
    }

    public void addElement(final String set, final String key, final String value, final String comment)
    {
        final NamedSet s = sets.get(set);
        if (s == null)
        {
            throw new IllegalArgumentException("element for set '" + set + "', which does not exist");
        }
        s.elements.put(key, new Element(key, value, comment));
    }

    /**
     * The table in kube-proxy's dump syntax: the table, its chains, sets and maps (by name), every chain's rules in
     * order, then every set's and map's elements.
     */
    public String dump()
    {
        final StringBuilder sb = new StringBuilder();
        final String prefix = family + " " + table + " ";
        sb.append("add table ").append(family).append(' ').append(table);
        if (tableComment != null)
        {
            sb.append(" { comment ").append(quote(tableComment)).append(" ; }");
        }
        sb.append('\n');
        for (final Chain c : chains.values())
        {
            sb.append("add chain ").append(prefix).append(c.name);
            if (c.isBase() || c.comment != null)
            {
                sb.append(" {");
                if (c.isBase())
                {
                    sb.append(" type ").append(c.type).append(" hook ").append(c.hook).append(" priority ")
                        .append(c.priority).append(" ;");
                }
                if (c.comment != null)
                {
                    sb.append(" comment ").append(quote(c.comment)).append(" ;");
                }
                sb.append(" }");
            }
            sb.append('\n');
        }
        for (final boolean maps : new boolean[] {false, true})
        {
            for (final NamedSet s : sets.values())
            {
                if (s.isMap() != maps)
                {
                    continue;
                }
                sb.append(maps ? "add map " : "add set ").append(prefix).append(s.name).append(" { type ").append(s.keyType);
                if (maps)
                {
                    sb.append(" : ").append(s.valueType);
                }
                sb.append(" ;");
                if (!s.flags.isEmpty())
                {
                    sb.append(" flags ").append(String.join(",", s.flags)).append(" ;");
                }
                if (s.timeoutSeconds > 0)
                {
                    sb.append(" timeout ").append(s.timeoutSeconds).append("s ;");
                }
                if (s.comment != null)
                {
                    sb.append(" comment ").append(quote(s.comment)).append(" ;");
                }
                sb.append(" }\n");
            }
        }
        for (final Chain c : chains.values())
        {
            for (final Rule r : c.rules)
            {
                sb.append("add rule ").append(prefix).append(c.name).append(' ').append(r.text);
                if (r.comment != null)
                {
                    sb.append(" comment ").append(quote(r.comment));
                }
                sb.append('\n');
            }
        }
        for (final NamedSet s : sets.values())
        {
            for (final Element e : s.elements.values())
            {
                sb.append("add element ").append(prefix).append(s.name).append(" { ").append(e.key);
                if (e.comment != null)
                {
                    sb.append(" comment ").append(quote(e.comment));
                }
                if (e.value != null)
                {
                    sb.append(" : ").append(e.value);
                }
                sb.append(" }\n");
            }
        }
        return sb.toString();
    }

    /**
     * The table with every rule in {@link NftRuleText}'s canonical spelling, one object per line: equal for two
     * spellings of one ruleset (kube-proxy's text and the kernel's listing of it).
     */
    public String canonical()
    {
        final NftRuleset copy = new NftRuleset(family, table, tableComment);
        for (final Chain c : chains.values())
        {
            copy.addChain(c.name, c.type, c.hook, c.priority, c.comment);
            for (final Rule r : c.rules)
            {
                copy.addRule(c.name, NftRuleText.canonical(r.text), r.comment, 0);
            }
        }
        for (final NamedSet s : sets.values())
        {
            final NamedSet t = s.isMap() ? copy.addMap(s.name, s.keyType, s.valueType, s.comment)
                : copy.addSet(s.name, s.keyType, s.flags, s.timeoutSeconds, s.comment);
            t.elements.putAll(s.elements);
        }
        return copy.dump();
    }

    static String quote(final String text)
    {
        return "\"" + text + "\"";
    }
}
