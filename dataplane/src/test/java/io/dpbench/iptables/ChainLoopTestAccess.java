package io.dpbench.iptables;

/** ChainLoopTest's rule sets, for tests of other packages. */
public final class ChainLoopTestAccess
{
    public static final String GOTO_LOOP = ChainLoopTest.GOTO_LOOP;

    private ChainLoopTestAccess()
    {
    }
}
