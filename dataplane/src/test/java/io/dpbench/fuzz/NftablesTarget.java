package io.dpbench.fuzz;

import io.dpbench.model.RuleParseException;
import io.dpbench.nftables.NftProgram;
import io.dpbench.nftables.NftRuleset;
import io.dpbench.nftables.NftTextParser;
import io.dpbench.nftables.NftTracer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * kube-proxy's nftables table (the dump syntax or nft list ruleset): {@link NftTextParser#parse} then
 * {@link NftProgram#compile} give a program or one one-line error (a {@link RuleParseException} naming the source,
 * line and column, or the compiler's IllegalArgumentException naming the chain, set or loop); a program then traces a
 * packet to an end (loops are refused at compile time, the tracer stops at its branch cap).
 */
public final class NftablesTarget implements FuzzTarget
{
    private static final NftablesTarget INSTANCE = new NftablesTarget();
    private static final List<String> LOCAL = List.of("192.168.0.2", "192.168.1.2");

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "nftables";
    }

    @Override
    public void test(final byte[] input)
    {
        final String text = new String(input, StandardCharsets.UTF_8);
        final NftRuleset ruleset;
        try
        {
            ruleset = NftTextParser.parse(text, "fuzz");
        }
        catch (final RuleParseException ex)
        {
            if (!FuzzTarget.oneLine(ex.getMessage()) || !ex.getMessage().startsWith("fuzz:"))
            {
                throw new PropertyViolation("error is not one line naming the source: " + ex.getMessage(), ex);
            }
            return;
        }
        if (ruleset == null)
        {
            throw new PropertyViolation("parse returned null");
        }
        final NftProgram program;
        try
        {
            program = NftProgram.compile(ruleset);
        }
        catch (final IllegalArgumentException ex)
        {
            if (ex.getMessage() == null || !FuzzTarget.oneLine(ex.getMessage()))
            {
                throw new PropertyViolation("compile error is not one line: " + ex.getMessage(), ex);
            }
            return;
        }
        // a packet to a Service of kube-proxy's golden cluster, and one from the node itself
        NftTracer.trace(program, LOCAL, 6, 0x0a000002, 40000, 0xac1e0029, 80, 64);
        NftTracer.trace(program, LOCAL, 17, 0xc0a80002, 40000, 0xac1e002a, 53, 64);
    }
}
