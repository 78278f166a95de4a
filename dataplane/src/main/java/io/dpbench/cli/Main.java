package io.dpbench.cli;

import io.dpbench.verb.Verb;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The {@code dpbench} command line: verbs as picocli subcommands, one clear line on stderr for every error, and
 * the exit codes 0 (success), 1 (runtime failure), 2 (bad usage).
 */
@Command(
    name = "dpbench",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
        "A userspace Kubernetes Service dataplane (kube-proxy's iptables and IPVS modes) and its benchmarks.",
        "",
        "Run 'dpbench VERB --help' for a verb's options."
    },
    subcommandsRepeatable = false,
    synopsisSubcommandLabel = "VERB")
public final class Main implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(final String[] args)
    {
        final int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Run the CLI with the given streams; returns the exit code (for tests and embedding). */
    public static int run(final String[] args, final PrintWriter out, final PrintWriter err)
    {
        final CommandLine cli = commandLine();
        cli.setOut(out);
        cli.setErr(err);
        int code;
        try
        {
            code = cli.execute(args);
        }
        catch (final Throwable t)
        {
            // picocli hands only Exceptions to the handler; an Error (out of memory, a broken jar) still gets one line
            err.println("dpbench: error: " + t.getClass().getSimpleName() + ": " + describe(t));
            code = 1;
        }
        out.flush();
        err.flush();
        return code;
    }

    static CommandLine commandLine()
    {
        final CommandLine cli = new CommandLine(new Main());
        for (final Verb verb : builtInVerbs())
        {
            cli.addSubcommand(verb);
        }
        for (final Verb verb : ServiceLoader.load(Verb.class))
        {
            cli.addSubcommand(verb);
        }
        cli.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? 2 : 1);
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionExceptionHandler(Main::runtimeError);
        // the verbs' descriptions are written in lines of up to ~112 characters: help is 120 wide (or the terminal's
        // width when it is wider), so that their lines are not broken a second time at 80
        cli.setUsageHelpWidth(120);
        cli.setUsageHelpAutoWidth(true);
        return cli;
    }

    private static List<Verb> builtInVerbs()
    {
        return List.of(new ConntrackVerb(), new GateVerb(), new InspectVerb(), new NatVerb(), new RenderVerb(), new ReplayVerb(), new RunVerb(), new TraceVerb(), new VxlanVerb());
    }

    @Override
    public void run()
    {
        // 'dpbench' alone: show what there is to run, and fail as bad usage
        throw new CommandLine.ParameterException(spec.commandLine(), "a verb is required");
    }

    private static int usageError(final CommandLine.ParameterException ex, final String[] args)
    {
        final CommandLine where = ex.getCommandLine();
        final String name = where.getCommandSpec().qualifiedName();
        final PrintWriter err = where.getErr();
        if ("dpbench".equals(name) && "a verb is required".equals(ex.getMessage()))
        {
            where.usage(err);
        }
        err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
        err.flush();
        return 2;
    }

    private static int runtimeError(final Exception ex, final CommandLine where, final CommandLine.ParseResult parsed)
    {
        if (ex instanceof CommandLine.ParameterException)
        {
            return usageError((CommandLine.ParameterException)ex, new String[0]);
        }
        final PrintWriter err = where.getErr();
        err.println(where.getCommandSpec().qualifiedName() + ": error: " + describe(ex));
        if (Boolean.getBoolean("dpbench.stacktrace"))
        {
            ex.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    /** One line for an exception: file errors say which file and what, others their message (or class). */
    static String describe(final Throwable ex)
    {
        if (ex instanceof NoSuchFileException)
        {
            return ((NoSuchFileException)ex).getFile() + ": no such file";
        }
        if (ex instanceof AccessDeniedException)
        {
            return ((AccessDeniedException)ex).getFile() + ": permission denied";
        }
        final String message = ex.getMessage();
        return (message == null || message.isBlank() ? ex.getClass().getSimpleName() : message).replace('\n', ' ');
    }

    /** Version from the jar manifest when packaged, else "development". */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            final String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"dpbench " + (v == null ? "(development build)" : v)};
        }
    }
}
