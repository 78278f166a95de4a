package io.dpbench.verb;

import java.util.concurrent.Callable;

/**
 * A {@code dpbench} verb: a picocli {@code @Command} class whose {@link #call()} returns the exit code. The plug-in
 * interface of the CLI, in a package of its own so that a module contributing verbs depends on this one interface
 * and not on the CLI's package.
 * <p>
 * Verbs of the dataplane module are listed in {@code io.dpbench.cli.Main}; other modules (loadgen) contribute theirs
 * through {@link java.util.ServiceLoader} ({@code META-INF/services/io.dpbench.verb.Verb}), so the dataplane module
 * never imports them and the modules form no cycle. Exit codes: 0 success, 1 runtime failure, 2 bad usage. A verb
 * reports bad usage found after parsing by throwing {@link picocli.CommandLine.ParameterException}, and runtime
 * failure by throwing any other exception; {@code Main} prints either as one line on stderr.
 */
public interface Verb extends Callable<Integer>
{
}
