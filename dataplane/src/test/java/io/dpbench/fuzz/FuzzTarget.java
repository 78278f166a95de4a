package io.dpbench.fuzz;

/** One fuzzed input format: returns normally when the input got its one verdict or its one documented error. */
public interface FuzzTarget
{
    /** The name used by {@code scripts/fuzz --target} and as the corpus folder's name. */
    String name();

    /**
     * Feed one input. Returns normally when the property holds; throws {@link PropertyViolation} when the verdict is
     * wrong, and lets any exception the format does not document escape.
     */
    void test(byte[] input);

    /** Whether an error message is "one error line": not blank, no line break. */
    static boolean oneLine(final String message)
    {
        return message != null && !message.isBlank() && message.indexOf('\n') < 0;
    }
}
