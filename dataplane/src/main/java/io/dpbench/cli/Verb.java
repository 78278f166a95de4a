package io.dpbench.cli;

import java.util.concurrent.Callable;

/**
 * A {@code dpbench} verb: a picocli {@code @Command} class whose {@link #call()} returns the exit code.
 * <p>
 * Verbs of this module are listed in {@link Main}; other modules (loadgen) contribute theirs through
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.dpbench.cli.Verb}), so this module never imports them
 * and the modules form no cycle. Exit codes: 0 success, 1 runtime failure, 2 bad usage. A verb reports bad usage
 * found after parsing by throwing {@link picocli.CommandLine.ParameterException}, and runtime failure by throwing
 * any other exception; {@link Main} prints either as one line on stderr.
 */
public interface Verb extends Callable<Integer>
{
}
