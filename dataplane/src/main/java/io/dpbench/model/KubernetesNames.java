package io.dpbench.model;

import java.util.regex.Pattern;

/**
 * The API server's rules for the names dpbench reads from a cluster (apimachinery's validation): each check returns
 * null when the value is valid, else the problem with the rule's name, in the API server's words. Names reach rule
 * text (iptables comments, chain-name hashes), so a name the API server would refuse is refused here too.
 */
public final class KubernetesNames
{
    private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN =
        Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern IANA_SVC_NAME_CHARS = Pattern.compile("[-a-z0-9]+");
    private static final Pattern IANA_SVC_NAME_LETTER = Pattern.compile(".*[a-z].*");
    /** Every character any rule above allows: what the model lets into rule text whatever built it. */
    private static final Pattern SAFE_IN_RULE_TEXT = Pattern.compile("[A-Za-z0-9._-]*");

    private KubernetesNames()
    {
    }

    /** A Service's name: a DNS-1035 label. */
    public static String checkDns1035Label(final String value)
    {
        if (value.length() > 63)
        {
            return "must be no more than 63 characters (RFC 1035 label), got " + value.length();
        }
        return DNS1035_LABEL.matcher(value).matches() ? null
            : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic"
            + " character, and end with an alphanumeric character (regex '[a-z]([-a-z0-9]*[a-z0-9])?')";
    }

    /** A namespace, an EndpointSlice port's name: a DNS-1123 label. */
    public static String checkDns1123Label(final String value)
    {
        if (value.length() > 63)
        {
            return "must be no more than 63 characters (RFC 1123 label), got " + value.length();
        }
        return DNS1123_LABEL.matcher(value).matches() ? null
            : "a DNS-1123 label must consist of lower case alphanumeric characters or '-', and must start and end with"
            + " an alphanumeric character (regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }

    /** An EndpointSlice's name, a node name: a DNS-1123 subdomain. */
    public static String checkDns1123Subdomain(final String value)
    {
        if (value.length() > 253)
        {
            return "must be no more than 253 characters (RFC 1123 subdomain), got " + value.length();
        }
        return DNS1123_SUBDOMAIN.matcher(value).matches() ? null
            : "a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and"
            + " end with an alphanumeric character";
    }

    /** A label's value (e.g. kubernetes.io/service-name). */
    public static String checkLabelValue(final String value)
    {
        if (value.length() > 63)
        {
            return "a label value must be no more than 63 characters, got " + value.length();
        }
        return LABEL_VALUE.matcher(value).matches() ? null
            : "a label value must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must"
            + " start and end with an alphanumeric character";
    }

    /** A Service port's name (and a named targetPort): an IANA_SVC_NAME. */
    public static String checkIanaServiceName(final String value)
    {
        if (value.length() > 15)
        {
            return "an IANA_SVC_NAME must be no more than 15 characters, got " + value.length();
        }
        if (!IANA_SVC_NAME_CHARS.matcher(value).matches())
        {
            return "an IANA_SVC_NAME must contain only lower case alphanumeric characters or '-'";
        }
        if (!IANA_SVC_NAME_LETTER.matcher(value).matches())
        {
            return "an IANA_SVC_NAME must contain at least one letter";
        }
        if (value.contains("--"))
        {
            return "an IANA_SVC_NAME must not contain consecutive hyphens";
        }
        if (value.startsWith("-") || value.endsWith("-"))
        {
            return "an IANA_SVC_NAME must not begin or end with a hyphen";
        }
        return null;
    }

    /**
     * The model's last line of defence, whatever built it (a loader, a generator, a test): refuses any character no
     * Kubernetes name may hold, so no quote, space or line break can reach rule text.
     *
     * @throws IllegalArgumentException naming the field and the value
     */
    public static String requireSafe(final String field, final String value)
    {
        if (!SAFE_IN_RULE_TEXT.matcher(value).matches())
        {
            throw new IllegalArgumentException(field + " " + quote(value)
                + ": not a Kubernetes name (only letters, digits, '-', '.' and '_' may reach rule text)");
        }
        return value;
    }

    /** The value in double quotes with control characters, quotes and backslashes escaped, for error messages. */
    public static String quote(final String value)
    {
        return '"' + escape(value) + '"';
    }

    /**
     * The value with control characters, quotes and backslashes escaped and cut at 80 characters, so that an error
     * message stays one line whatever the input held.
     */
    public static String escape(final String value)
    {
        final StringBuilder out = new StringBuilder(value.length() + 2);
        final int max = Math.min(value.length(), 80);
        for (int i = 0; i < max; i++)
        {
            final char c = value.charAt(i);
            if (c == '"' || c == '\\')
            {
                out.append('\\').append(c);
            }
            else
            {
                appendEscapingControl(out, c);
            }
        }
        return out.append(value.length() > max ? "..." : "").toString();
    }

    /** The text with its control characters (line breaks above all) escaped, the rest as it is: one line. */
    public static String oneLine(final String text)
    {
        final StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++)
        {
            appendEscapingControl(out, text.charAt(i));
        }
        return out.toString();
    }

    private static void appendEscapingControl(final StringBuilder out, final char c)
    {
        if (c < 0x20 || c == 0x7f)
        {
            out.append(c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : String.format("\\u%04x", (int)c));
        }
        else
        {
            out.append(c);
        }
    }
}
