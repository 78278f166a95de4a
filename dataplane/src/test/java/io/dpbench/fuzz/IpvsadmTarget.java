package io.dpbench.fuzz;

import io.dpbench.ipvs.IpvsadmFormat;
import io.dpbench.model.RuleParseException;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** ipvsadm-save -n text: {@link IpvsadmFormat#parse} gives a table or one {@link RuleParseException}. */
public final class IpvsadmTarget implements FuzzTarget
{
    private static final IpvsadmTarget INSTANCE = new IpvsadmTarget();
    private static final List<String> NODE_IPS = List.of("192.168.0.10", "10.0.0.1");

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "ipvsadm";
    }

    @Override
    public void test(final byte[] input)
    {
        final String text = new String(input, StandardCharsets.UTF_8);
        try
        {
            if (IpvsadmFormat.parse(text, "fuzz", NODE_IPS) == null)
            {
                throw new PropertyViolation("parse returned null");
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
