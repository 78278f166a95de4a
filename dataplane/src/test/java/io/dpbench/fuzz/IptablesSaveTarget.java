package io.dpbench.fuzz;

import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSaveParser;
import io.dpbench.iptables.RuleSet;
import io.dpbench.model.RuleParseException;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * iptables-save text: {@link IptablesSaveParser#parse} then {@link ChainEngine#compile} give compiled rules or one
 * {@link RuleParseException} (one line: source, line number, problem).
 */
public final class IptablesSaveTarget implements FuzzTarget
{
    private static final IptablesSaveTarget INSTANCE = new IptablesSaveTarget();
    private static final List<String> LOCAL = List.of("10.0.0.1", "192.168.0.10");

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "iptables-save";
    }

    @Override
    public void test(final byte[] input)
    {
        final String text = new String(input, StandardCharsets.UTF_8);
        try
        {
            final RuleSet set = IptablesSaveParser.parse(text, "fuzz");
            if (set == null)
            {
                throw new PropertyViolation("parse returned null");
            }
            if (ChainEngine.compile(set, "fuzz", LOCAL, IpSets.EMPTY) == null)
            {
                throw new PropertyViolation("compile returned null");
            }
        }
        catch (final RuleParseException ex)
        {
            if (!FuzzTarget.oneLine(ex.getMessage()) || !ex.getMessage().startsWith("fuzz:"))
            {
                throw new PropertyViolation("error is not one line naming the source: " + ex.getMessage(), ex);
            }
        }
    }
}
