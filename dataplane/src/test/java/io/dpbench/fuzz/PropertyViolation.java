package io.dpbench.fuzz;

/** A fuzz target's property does not hold for an input: no verdict, two verdicts, or an error that is not one line. */
public final class PropertyViolation extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public PropertyViolation(final String message)
    {
        super(message);
    }

    public PropertyViolation(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
