package io.dpbench.nftables;

import io.dpbench.model.Cidr;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A rule's text in one canonical spelling, the one {@code nft list ruleset} prints, so that kube-proxy's spelling
 * (what it sends, what its tests expect) and the kernel's listing of the same rule compare equal:
 * <ul>
 *   <li>{@code mark set mark or 0x4000} -> {@code meta mark set meta mark | 0x00004000} (likewise {@code xor} -> {@code ^},
 *   {@code mark and 0x4000 == 0} -> {@code meta mark & 0x00004000 == 0x00000000});</li>
 *   <li>an anonymous set of one element loses its braces ({@code ip daddr { 172.30.0.0/16 }} -> {@code ip daddr
 *   172.30.0.0/16}); a larger one is sorted by address ({@code { 203.0.113.0/25 , 192.168.0.0/24 }} ->
 *   {@code { 192.168.0.0/24, 203.0.113.0/25 }});</li>
 *   <li>a comma is written after its word ({@code { 0 : goto a , 1 : goto b }} -> {@code { 0 : goto a, 1 : goto b }}).</li>
 * </ul>
 */
public final class NftRuleText
{
    private NftRuleText()
    {
    }

    /** The canonical text of a rule given as words ('{', '}' and ',' as words of their own). */
    public static String canonical(final List<String> words)
    {
        final List<String> w = marks(words);
        final StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < w.size())
        {
            final String word = w.get(i);
            if (word.equals("{") && isMatchOperand(w, i))
            {
                final int close = w.indexOf("}") >= i ? closing(w, i) : -1;
                if (close < 0)
                {
                    throw new IllegalArgumentException("'{' without '}'");
                }
                final List<String> elements = new ArrayList<>();
                for (int k = i + 1; k < close; k++)
                {
                    if (!w.get(k).equals(","))
                    {
                        elements.add(w.get(k));
                    }
                }
                if (elements.isEmpty())
                {
                    throw new IllegalArgumentException("an empty anonymous set");
                }
                if (elements.size() == 1)
                {
                    append(sb, elements.get(0));
                }
                else
                {
                    elements.sort(Comparator.comparingLong(NftRuleText::sortKey));
                    append(sb, "{");
                    for (int k = 0; k < elements.size(); k++)
                    {
                        append(sb, elements.get(k) + (k < elements.size() - 1 ? "," : ""));
                    }
                    append(sb, "}");
                }
                i = close + 1;
                continue;
            }
            if (word.equals(","))
            {
                sb.append(',');
            }
            else
            {
                append(sb, word);
            }
            i++;
        }
        return sb.toString();
    }

    /** The canonical text of a rule given as text (either spelling). */
    public static String canonical(final String text)
    {
        return canonical(words(text));
    }

    /** A rule's words: split at blanks, with '{', '}' and ',' as words of their own. */
    public static List<String> words(final String text)
    {
        final List<String> words = new ArrayList<>();
        final StringBuilder word = new StringBuilder();
        for (int i = 0; i <= text.length(); i++)
        {
            final char c = i < text.length() ? text.charAt(i) : ' ';
            if (c == ' ' || c == '\t' || c == '{' || c == '}' || c == ',')
            {
                if (word.length() > 0)
                {
                    words.add(word.toString());
                    word.setLength(0);
                }
                if (c != ' ' && c != '\t')
                {
                    words.add(String.valueOf(c));
                }
            }
            else
            {
                word.append(c);
            }
        }
        return words;
    }

    /** An element key as stored: its parts separated by " . " (already so in both spellings). */
    static String canonicalKey(final String key)
    {
        return key;
    }

    private static void append(final StringBuilder sb, final String word)
    {
        if (sb.length() > 0)
        {
            sb.append(' ');
        }
        sb.append(word);
    }

    /** A '{' right after {@code ip saddr|daddr [!=]}: an anonymous set of addresses (not a vmap or an update). */
    private static boolean isMatchOperand(final List<String> w, final int i)
    {
        int k = i - 1;
        if (k >= 0 && w.get(k).equals("!="))
        {
            k--;
        }
        return k >= 1 && w.get(k - 1).equals("ip") && (w.get(k).equals("saddr") || w.get(k).equals("daddr"));
    }

    private static int closing(final List<String> w, final int open)
    {
        for (int k = open + 1; k < w.size(); k++)
        {
            if (w.get(k).equals("}"))
            {
                return k;
            }
        }
        return -1;
    }

    /** An address or CIDR's numeric order; anything else after all addresses. */
    private static long sortKey(final String element)
    {
        try
        {
            final Cidr cidr = Cidr.parse(element);
            return (cidr.network() & 0xFFFF_FFFFL) << 6 | cidr.prefixLength();
        }
        catch (final RuntimeException ex)
        {
            return Long.MAX_VALUE;
        }
    }

    /** kube-proxy's {@code mark ...} statements in nft's listing spelling. */
    private static List<String> marks(final List<String> words)
    {
        final List<String> w = new ArrayList<>(words);
        // mark set mark or|xor M
        if (w.size() >= 5 && w.get(0).equals("mark") && w.get(1).equals("set") && w.get(2).equals("mark")
            && (w.get(3).equals("or") || w.get(3).equals("xor")))
        {
            final String op = w.get(3).equals("or") ? "|" : "^";
            final List<String> out = new ArrayList<>(List.of("meta", "mark", "set", "meta", "mark", op, hex(w.get(4))));
            out.addAll(w.subList(5, w.size()));
            return out;
        }
        // mark and M == V
        if (w.size() >= 5 && w.get(0).equals("mark") && w.get(1).equals("and") && w.get(3).equals("=="))
        {
            final List<String> out = new ArrayList<>(List.of("meta", "mark", "&", hex(w.get(2)), "==", hex(w.get(4))));
            out.addAll(w.subList(5, w.size()));
            return out;
        }
        // nft's own spelling, values normalized
        if (w.size() >= 7 && w.get(0).equals("meta") && w.get(1).equals("mark") && w.get(2).equals("set")
            && w.get(3).equals("meta") && w.get(4).equals("mark"))
        {
            w.set(6, hex(w.get(6)));
        }
        else if (w.size() >= 6 && w.get(0).equals("meta") && w.get(1).equals("mark") && w.get(2).equals("&"))
        {
            w.set(3, hex(w.get(3)));
            w.set(5, hex(w.get(5)));
        }
        return w;
    }

    /** A mark value as nft prints it: 0x and 8 hex digits. */
    static String hex(final String value)
    {
        final long v;
        try
        {
            v = value.startsWith("0x") || value.startsWith("0X") ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("'" + value + "' is not a mark value");
        }
        if (v < 0 || v > 0xFFFF_FFFFL)
        {
            throw new IllegalArgumentException("mark value " + value + " is outside 32 bits");
        }
        return String.format("0x%08x", v);
    }
}
