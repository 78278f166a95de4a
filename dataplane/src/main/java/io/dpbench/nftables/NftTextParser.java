package io.dpbench.nftables;

import io.dpbench.model.RuleParseException;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads kube-proxy's nftables table from text, in either of its two spellings:
 * <ul>
 *   <li>the dump syntax of kube-proxy's tests and {@code render --mode nftables} ({@code add table ip kube-proxy ...},
 *   {@code add chain}, {@code add set}/{@code add map}, {@code add rule}, {@code add element}; {@code #} comments),</li>
 *   <li>{@code nft list ruleset} output (nested blocks: {@code table ip kube-proxy { chain ... { ... } }}).</li>
 * </ul>
 * Rule texts are stored in the canonical spelling of {@link NftRuleText}, so that a ruleset read back from the kernel
 * equals the one loaded. One table only (kube-proxy's; others in a listing are an error naming them). Anything else
 * is a {@link RuleParseException} naming the line and column.
 */
public final class NftTextParser
{
    private record Token(String text, int line, int column, boolean quoted)
    {
        boolean is(final String s)
        {
            return !quoted && text.equals(s);
        }
    }

    private static final Token END = new Token("", -1, -1, false);

    private final String source;
    private final List<Token> tokens = new ArrayList<>();
    private int at;
    private NftRuleset ruleset;

    private NftTextParser(final String source)
    {
        this.source = source;
    }

    /** Parse {@code text} (dump syntax or {@code nft list ruleset}); {@code source} names it in errors. */
    public static NftRuleset parse(final String text, final String source) throws RuleParseException
    {
        final NftTextParser parser = new NftTextParser(source);
        parser.tokenize(text);
        parser.parseAll();
        if (parser.ruleset == null)
        {
            throw new RuleParseException(source, 1, "no table in the text (expected 'add table ip kube-proxy' or 'table ip kube-proxy {')");
        }
        return parser.ruleset;
    }

    // ---------------------------------------------------------------------------------------------- tokens

    private static final String NEWLINE = "\n";

    private void tokenize(final String text) throws RuleParseException
    {
        int line = 1;
        int column = 1;
        int i = 0;
        final int n = text.length();
        while (i < n)
        {
            final char c = text.charAt(i);
            if (c == '\n')
            {
                tokens.add(new Token(NEWLINE, line, column, false));
                line++;
                column = 1;
                i++;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r')
            {
                i++;
                column++;
                continue;
            }
            if (c == '#')
            {
                while (i < n && text.charAt(i) != '\n')
                {
                    i++;
                }
                continue;
            }
            if (c == '"')
            {
                final int end = text.indexOf('"', i + 1);
                final int eol = text.indexOf('\n', i + 1);
                if (end < 0 || (eol >= 0 && eol < end))
                {
                    throw new RuleParseException(source, line, "column " + column + ": unterminated quoted string");
                }
                tokens.add(new Token(text.substring(i + 1, end), line, column, true));
                column += end + 1 - i;
                i = end + 1;
                continue;
            }
            if (c == '{' || c == '}' || c == ',' || c == ';')
            {
                tokens.add(new Token(String.valueOf(c), line, column, false));
                i++;
                column++;
                continue;
            }
            final int start = i;
            while (i < n && " \t\r\n\"{},;".indexOf(text.charAt(i)) < 0)
            {
                final char d = text.charAt(i);
                if (d < 0x20 || d > 0x7e)
                {
                    throw new RuleParseException(source, line, "column " + (column + i - start)
                        + ": character 0x" + Integer.toHexString(d) + " is not allowed here");
                }
                i++;
            }
            tokens.add(new Token(text.substring(start, i), line, column, false));
            column += i - start;
        }
        tokens.add(new Token(NEWLINE, line, column, false));
    }

    private Token peek()
    {
        return at < tokens.size() ? tokens.get(at) : END;
    }

    private Token next()
    {
        return at < tokens.size() ? tokens.get(at++) : END;
    }

    private RuleParseException error(final Token t, final String problem)
    {
        final Token where = t == END ? tokens.get(tokens.size() - 1) : t;
        return new RuleParseException(source, where.line, "column " + where.column + ": " + problem);
    }

    private Token expect(final String text) throws RuleParseException
    {
        final Token t = next();
        if (!t.is(text))
        {
            throw error(t, "expected '" + text + "', found " + describe(t));
        }
        return t;
    }

    private static String describe(final Token t)
    {
        if (t == END)
        {
            return "the end of the text";
        }
        return t.text.equals(NEWLINE) ? "the end of the line" : "'" + t.text + "'";
    }

    private String word(final String what) throws RuleParseException
    {
        final Token t = next();
        if (t.quoted || t.text.equals(NEWLINE) || t == END || "{};,".contains(t.text))
        {
            throw error(t, "expected " + what + ", found " + describe(t));
        }
        return t.text;
    }

    private String quoted(final String what) throws RuleParseException
    {
        final Token t = next();
        if (!t.quoted)
        {
            throw error(t, "expected " + what + " in double quotes, found " + describe(t));
        }
        return t.text;
    }

    private void skipNewlines()
    {
        while (peek().is(NEWLINE))
        {
            at++;
        }
    }

    private void endOfStatement() throws RuleParseException
    {
        final Token t = next();
        if (!t.is(NEWLINE) && t != END)
        {
            throw error(t, "unexpected " + describe(t) + " at the end of the statement");
        }
    }

    // ---------------------------------------------------------------------------------------------- statements

    private void parseAll() throws RuleParseException
    {
        skipNewlines();
        while (peek() != END)
        {
            final Token t = peek();
            if (t.is("add"))
            {
                at++;
                addStatement();
            }
            else if (t.is("table"))
            {
                at++;
                listedTable();
            }
            else
            {
                throw error(t, "expected 'add' (kube-proxy's dump syntax) or 'table' (nft list ruleset), found " + describe(t));
            }
            skipNewlines();
        }
    }

    private void tableName(final Token where, final String family, final String table) throws RuleParseException
    {
        if (!"ip".equals(family))
        {
            throw error(where, "family '" + family + "': only IPv4 ('ip') tables are modelled");
        }
        if (!NftablesRenderer.TABLE.equals(table))
        {
            throw error(where, "table '" + table + "': only kube-proxy's table ('" + NftablesRenderer.TABLE + "') is modelled");
        }
    }

    private void requireTable(final Token where) throws RuleParseException
    {
        if (ruleset == null)
        {
            throw error(where, "statement before 'add table ip kube-proxy'");
        }
    }

    /** {@code add KIND FAMILY TABLE ...} */
    private void addStatement() throws RuleParseException
    {
        final Token kind = next();
        final Token familyToken = peek();
        final String family = word("a family (ip)");
        final String table = word("a table name");
        tableName(familyToken, family, table);
        switch (kind.text)
        {
            case "table" ->
            {
                String comment = null;
                if (peek().is("{"))
                {
                    at++;
                    while (!peek().is("}"))
                    {
                        final Token key = next();
                        if (key.is("comment"))
                        {
                            comment = quoted("the table's comment");
                        }
                        else if (!key.is(";"))
                        {
                            throw error(key, "unknown table property " + describe(key));
                        }
                    }
                    at++;
                }
                if (ruleset == null)
                {
                    ruleset = new NftRuleset(family, table, comment);
                }
            }
            case "chain" ->
            {
                requireTable(kind);
                final String name = word("a chain name");
                chainProperties(name, true);
            }
            case "set", "map" ->
            {
                requireTable(kind);
                final String name = word("a " + kind.text + " name");
                expect("{");
                setProperties(name, kind.text.equals("map"), ";");
                expect("}");
            }
            case "rule" ->
            {
                requireTable(kind);
                final Token chainToken = peek();
                final String chain = word("a chain name");
                if (ruleset.chain(chain) == null)
                {
                    throw error(chainToken, "rule for chain '" + chain + "', which was not added before");
                }
                rule(chain);
                return; // rule() consumed the end of the line
            }
            case "element" ->
            {
                requireTable(kind);
                final Token setToken = peek();
                final String set = word("a set or map name");
                if (ruleset.set(set) == null)
                {
                    throw error(setToken, "element for '" + set + "', which was not added before");
                }
                expect("{");
                elements(set);
            }
            default -> throw error(kind, "expected table, chain, set, map, rule or element after 'add', found " + describe(kind));
        }
        endOfStatement();
    }

    /** After a chain's name: nothing, or {@code { type T hook H priority P ; policy X ; comment "c" ; }}. */
    private void chainProperties(final String name, final boolean braces) throws RuleParseException
    {
        String type = null;
        String hook = null;
        int priority = 0;
        String comment = null;
        if (braces)
        {
            if (!peek().is("{"))
            {
                ruleset.addChain(name);
                return;
            }
            at++;
        }
        while (true)
        {
            if (!braces)
            {
                // nft list ruleset: properties on their own lines before the rules
                final int mark = at;
                skipNewlines();
                if (!isChainProperty(peek()))
                {
                    at = mark;
                    break;
                }
            }
            final Token key = peek();
            if (key.is("}") || key == END)
            {
                break;
            }
            at++;
            if (key.is("type"))
            {
                type = word("a chain type");
                expect("hook");
                hook = word("a hook");
                expect("priority");
                priority = priority();
            }
            else if (key.is("policy"))
            {
                final String policy = word("a policy");
                if (!"accept".equals(policy))
                {
                    throw error(key, "policy '" + policy + "': kube-proxy's chains accept by default");
                }
            }
            else if (key.is("comment"))
            {
                comment = quoted("the chain's comment");
            }
            else if (!key.is(";") && !key.is(NEWLINE))
            {
                throw error(key, "unknown chain property " + describe(key));
            }
        }
        if (braces)
        {
            expect("}");
        }
        if (type != null && !type.equals("filter") && !type.equals("nat"))
        {
            throw error(peek(), "chain " + name + ": type '" + type + "' (kube-proxy uses filter and nat)");
        }
        ruleset.addChain(name, type, hook, priority, comment);
    }

    private static boolean isChainProperty(final Token t)
    {
        return t.is("type") || t.is("policy") || t.is("comment") || t.is(";");
    }

    /** A priority: a number, or a standard name with an optional offset ({@code dstnat - 10}). */
    private int priority() throws RuleParseException
    {
        final Token t = next();
        int value;
        try
        {
            value = Integer.parseInt(t.text);
            return value;
        }
        catch (final NumberFormatException ex)
        {
            value = switch (t.text)
            {
                case "raw" -> -300;
                case "mangle" -> -150;
                case "dstnat" -> -100;
                case "filter" -> 0;
                case "security" -> 50;
                case "srcnat" -> 100;
                default -> throw error(t, "expected a priority (a number or raw, mangle, dstnat, filter, security, srcnat), found " + describe(t));
            };
        }
        final Token sign = peek();
        if (sign.is("-") || sign.is("+"))
        {
            at++;
            final Token offset = next();
            try
            {
                final int o = Integer.parseInt(offset.text);
                value += sign.is("-") ? -o : o;
            }
            catch (final NumberFormatException ex)
            {
                throw error(offset, "expected a priority offset, found " + describe(offset));
            }
        }
        return value;
    }

    /** A set's or map's properties up to its closing brace; {@code separator} ends each (';' or a newline). */
    private void setProperties(final String name, final boolean map, final String separator) throws RuleParseException
    {
        String keyType = null;
        String valueType = null;
        List<String> flags = List.of();
        long timeout = 0;
        String comment = null;
        final List<Token> elementStarts = new ArrayList<>();
        while (!peek().is("}") && peek() != END)
        {
            final Token key = next();
            if (key.is(";") || key.is(NEWLINE))
            {
                continue;
            }
            switch (key.text)
            {
                case "type" ->
                {
                    final StringBuilder sb = new StringBuilder(word("a type"));
                    while (peek().is("."))
                    {
                        at++;
                        sb.append(" . ").append(word("a type"));
                    }
                    keyType = sb.toString();
                    if (peek().is(":"))
                    {
                        at++;
                        valueType = word("a value type");
                    }
                }
                case "flags" ->
                {
                    final List<String> f = new ArrayList<>();
                    f.add(word("a flag"));
                    while (peek().is(","))
                    {
                        at++;
                        f.add(word("a flag"));
                    }
                    flags = f;
                }
                case "timeout" -> timeout = duration(next());
                case "size" -> word("a size");
                case "comment" -> comment = quoted("the comment");
                case "elements" ->
                {
                    expect("=");
                    expect("{");
                    elementStarts.add(key);
                    // elements refer to the set: declare it first, then read them
                    declare(name, map, keyType, valueType, flags, timeout, comment, key);
                    elements(name);
                }
                default -> throw error(key, "unknown " + (map ? "map" : "set") + " property " + describe(key));
            }
        }
        if (elementStarts.isEmpty())
        {
            declare(name, map, keyType, valueType, flags, timeout, comment, peek());
        }
    }

    private void declare(final String name, final boolean map, final String keyType, final String valueType,
        final List<String> flags, final long timeout, final String comment, final Token where) throws RuleParseException
    {
        if (keyType == null)
        {
            throw error(where, (map ? "map " : "set ") + name + " has no type");
        }
        if (map != (valueType != null))
        {
            throw error(where, map ? "map " + name + " needs a value type ('type K : V')" : "set " + name + " has a value type");
        }
        if (ruleset.set(name) != null)
        {
            return;
        }
        if (map)
        {
            ruleset.addMap(name, keyType, valueType, comment);
        }
        else
        {
            ruleset.addSet(name, keyType, flags, timeout, comment);
        }
    }

    /** A duration: {@code 10800s}, {@code 3h}, {@code 1d2h3m4s}, or plain seconds. */
    private long duration(final Token t) throws RuleParseException
    {
        long total = 0;
        long number = -1;
        for (final char c : t.text.toCharArray())
        {
            if (c >= '0' && c <= '9')
            {
                number = (number < 0 ? 0 : number * 10) + (c - '0');
                continue;
            }
            final long unit = switch (c)
            {
                case 'd' -> 86_400;
                case 'h' -> 3_600;
                case 'm' -> 60;
                case 's' -> 1;
                default -> -1;
            };
            if (unit < 0 || number < 0)
            {
                throw error(t, "expected a duration (e.g. 10800s or 3h), found " + describe(t));
            }
            total += number * unit;
            number = -1;
        }
        return total + Math.max(number, 0);
    }

    /** Elements up to and including the closing brace: {@code key [comment "c"] [: value] [, ...]}. */
    private void elements(final String set) throws RuleParseException
    {
        final NftRuleset.NamedSet s = ruleset.set(set);
        while (true)
        {
            while (peek().is(NEWLINE) || peek().is(","))
            {
                at++;
            }
            if (peek().is("}"))
            {
                at++;
                return;
            }
            final Token first = peek();
            final StringBuilder key = new StringBuilder(word("an element"));
            while (peek().is("."))
            {
                at++;
                key.append(" . ").append(word("an element part"));
            }
            String comment = null;
            if (peek().is("comment"))
            {
                at++;
                comment = quoted("the element's comment");
            }
            String value = null;
            if (peek().is(":"))
            {
                at++;
                final String verdict = word("a verdict");
                value = (verdict.equals("goto") || verdict.equals("jump")) ? verdict + " " + word("a chain name") : verdict;
            }
            if (s.isMap() != (value != null))
            {
                throw error(first, s.isMap() ? "element of map " + set + " without ': verdict'" : "element of set " + set + " with a value");
            }
            ruleset.addElement(set, NftRuleText.canonicalKey(key.toString()), value, comment);
        }
    }

    /** A rule's words up to the end of the line; a trailing {@code comment "..."} is its comment. */
    private void rule(final String chain) throws RuleParseException
    {
        final Token first = peek();
        final List<String> words = new ArrayList<>();
        String comment = null;
        while (!peek().is(NEWLINE) && peek() != END && !(peek().is("}") && words.isEmpty()))
        {
            final Token t = next();
            if (t.is("comment"))
            {
                comment = quoted("the rule's comment");
                continue;
            }
            if (t.quoted)
            {
                throw error(t, "a quoted string where a rule expects none");
            }
            if (comment != null)
            {
                throw error(t, "rule text after its comment");
            }
            words.add(t.text);
        }
        if (words.isEmpty())
        {
            throw error(first, "empty rule");
        }
        if (peek().is(NEWLINE))
        {
            at++;
        }
        try
        {
            ruleset.addRule(chain, NftRuleText.canonical(words), comment, first.line);
        }
        catch (final IllegalArgumentException ex)
        {
            throw error(first, ex.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------- nft list ruleset

    /** {@code table FAMILY NAME { ... }} as nft lists it. */
    private void listedTable() throws RuleParseException
    {
        final Token where = peek();
        final String family = word("a family (ip)");
        final String table = word("a table name");
        tableName(where, family, table);
        if (ruleset != null)
        {
            throw error(where, "a second table");
        }
        expect("{");
        String comment = null;
        skipNewlines();
        if (peek().is("comment"))
        {
            at++;
            comment = quoted("the table's comment");
        }
        ruleset = new NftRuleset(family, table, comment);
        while (true)
        {
            skipNewlines();
            final Token t = next();
            if (t.is("}"))
            {
                return;
            }
            if (t.is("chain"))
            {
                final String name = word("a chain name");
                expect("{");
                skipNewlines();
                chainProperties(name, false);
                while (true)
                {
                    skipNewlines();
                    if (peek().is("}"))
                    {
                        at++;
                        break;
                    }
                    if (peek() == END)
                    {
                        throw error(END, "chain " + name + " is not closed");
                    }
                    rule(name);
                }
            }
            else if (t.is("set") || t.is("map"))
            {
                final String name = word("a " + t.text + " name");
                expect("{");
                setProperties(name, t.is("map"), NEWLINE);
                expect("}");
            }
            else
            {
                throw error(t, "expected chain, set, map or '}' in the table, found " + describe(t));
            }
        }
    }
}
