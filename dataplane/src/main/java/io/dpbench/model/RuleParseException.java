package io.dpbench.model;

/** A rules file (iptables-save, ipvsadm-save) that cannot be used; the message names the source, the line number and the problem. */
public final class RuleParseException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final int line;

    public RuleParseException(final String source, final int line, final String problem)
    {
        super(source + ":" + line + ": " + problem);
        this.line = line;
    }

    public int line()
    {
        return line;
    }
}
