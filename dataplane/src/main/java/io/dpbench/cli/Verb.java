package io.dpbench.cli;

/**
 * Transitional alias of {@link io.dpbench.verb.Verb}, the verb plug-in interface, which has left this package: it
 * keeps this package's verbs that still say {@code implements Verb} without an import compiling. New code implements
 * {@link io.dpbench.verb.Verb}; {@link java.util.ServiceLoader} looks that one up. Delete this file once no verb
 * here needs it.
 */
public interface Verb extends io.dpbench.verb.Verb
{
}
