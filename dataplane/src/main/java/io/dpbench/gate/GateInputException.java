package io.dpbench.gate;

/** Bad gate input: the message names the file and the problem. The gate exits 2 for it. */
public final class GateInputException extends Exception
{
    private static final long serialVersionUID = 1L;

    public GateInputException(final String message)
    {
        super(message);
    }
}
