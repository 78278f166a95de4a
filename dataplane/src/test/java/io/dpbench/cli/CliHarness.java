package io.dpbench.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in-process and keeps what it printed, for tests. */
final class CliHarness
{
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(final String... args)
    {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.run(args, new PrintWriter(out), new PrintWriter(err));
    }
}
