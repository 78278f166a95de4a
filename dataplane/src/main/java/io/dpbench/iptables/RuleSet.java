package io.dpbench.iptables;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parsed iptables rules: tables, their chains in declaration order, each chain's rules in order. The control-plane
 * form (Strings, lists): {@link ChainEngine#compile} turns it into the packet-path form.
 */
public final class RuleSet
{
    private final Map<String, Table> tables = new LinkedHashMap<>();

    /** One rule: where it came from, its argument tokens (after "-A CHAIN"), and what they mean. */
    public record Rule(int line, String table, String chain, List<String> args, List<Match> matches, Target target)
    {
        public Rule
        {
            args = List.copyOf(args);
            matches = List.copyOf(matches);
        }

        /** The rule's arguments as iptables-save would print them (quoted where needed), without "-A CHAIN". */
        public String specText()
        {
            return Tokens.join(args);
        }
    }

    public static final class Chain
    {
        private final String name;
        private String policy;
        private final List<Rule> rules = new ArrayList<>();

        Chain(final String name, final String policy)
        {
            this.name = name;
            this.policy = policy;
        }

        public String name()
        {
            return name;
        }

        /** ACCEPT / DROP for built-in chains; null for user-defined chains. */
        public String policy()
        {
            return policy;
        }

        void policy(final String policy)
        {
            this.policy = policy;
        }

        public boolean builtIn()
        {
            return policy != null;
        }

        public List<Rule> rules()
        {
            return rules;
        }
    }

    public static final class Table
    {
        private final String name;
        private final Map<String, Chain> chains = new LinkedHashMap<>();

        Table(final String name)
        {
            this.name = name;
        }

        public String name()
        {
            return name;
        }

        public Collection<Chain> chains()
        {
            return chains.values();
        }

        public Chain chain(final String chainName)
        {
            return chains.get(chainName);
        }

        Chain declare(final String chainName, final String policy)
        {
            final Chain existing = chains.get(chainName);
            if (existing != null)
            {
                if (policy != null)
                {
                    existing.policy(policy);
                }
                return existing;
            }
            final Chain chain = new Chain(chainName, policy);
            chains.put(chainName, chain);
            return chain;
        }

        void remove(final String chainName)
        {
            chains.remove(chainName);
        }

        public int ruleCount()
        {
            int n = 0;
            for (final Chain c : chains.values())
            {
                n += c.rules.size();
            }
            return n;
        }
    }

    public Table table(final String name)
    {
        return tables.get(name);
    }

    public Collection<Table> tables()
    {
        return tables.values();
    }

    Table declareTable(final String name)
    {
        return tables.computeIfAbsent(name, Table::new);
    }

    public int ruleCount()
    {
        int n = 0;
        for (final Table t : tables.values())
        {
            n += t.ruleCount();
        }
        return n;
    }

    /** iptables-save-style text of the whole set (no counters, no timestamp comments). */
    public String toSaveText()
    {
        final StringBuilder sb = new StringBuilder(1 << 16);
        for (final Table table : tables.values())
        {
            sb.append('*').append(table.name).append('\n');
            for (final Chain chain : table.chains.values())
            {
                sb.append(':').append(chain.name).append(' ').append(chain.builtIn() ? chain.policy : "-").append(" [0:0]\n");
            }
            for (final Chain chain : table.chains.values())
            {
                for (final Rule rule : chain.rules)
                {
                    sb.append("-A ").append(chain.name);
                    if (!rule.args.isEmpty())
                    {
                        sb.append(' ').append(rule.specText());
                    }
                    sb.append('\n');
                }
            }
            sb.append("COMMIT\n");
        }
        return sb.toString();
    }
}
