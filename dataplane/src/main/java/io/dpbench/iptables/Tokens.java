package io.dpbench.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * Splitting a rule line into arguments the way iptables-restore does (whitespace separated; double or single quotes
 * group, backslash escapes a quote inside them), and joining them back the way iptables-save prints them (a token
 * with whitespace or quotes is double-quoted, inner {@code "} and {@code \} escaped).
 */
final class Tokens
{
    private Tokens()
    {
    }

    /** Split; returns null on an unterminated quote. */
    static List<String> split(final String line)
    {
        final List<String> out = new ArrayList<>();
        final StringBuilder token = new StringBuilder();
        boolean inToken = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            if (quote != 0)
            {
                if (c == '\\' && i + 1 < line.length() && (line.charAt(i + 1) == quote || line.charAt(i + 1) == '\\'))
                {
                    token.append(line.charAt(++i));
                }
                else if (c == quote)
                {
                    quote = 0;
                }
                else
                {
                    token.append(c);
                }
            }
            else if (c == '"' || c == '\'')
            {
                quote = c;
                inToken = true;
            }
            else if (Character.isWhitespace(c))
            {
                if (inToken)
                {
                    out.add(token.toString());
                    token.setLength(0);
                    inToken = false;
                }
            }
            else
            {
                token.append(c);
                inToken = true;
            }
        }
        if (quote != 0)
        {
            return null;
        }
        if (inToken)
        {
            out.add(token.toString());
        }
        return out;
    }

    static String quote(final String token)
    {
        boolean needs = token.isEmpty();
        for (int i = 0; i < token.length() && !needs; i++)
        {
            final char c = token.charAt(i);
            needs = Character.isWhitespace(c) || c == '"' || c == '\'' || c == '\\';
        }
        if (!needs)
        {
            return token;
        }
        return '"' + token.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String join(final List<String> tokens)
    {
        final StringBuilder sb = new StringBuilder();
        for (final String t : tokens)
        {
            if (sb.length() > 0)
            {
                sb.append(' ');
            }
            sb.append(quote(t));
        }
        return sb.toString();
    }
}
