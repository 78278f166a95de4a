package io.dpbench.cli;

import io.dpbench.model.ClusterLoadException;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.KubectlJsonLoader;
import io.dpbench.model.SyntheticCluster;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/** Where the cluster comes from: a kubectl JSON dump, or the seeded synthetic generator. */
public final class ClusterOptions
{
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source
    {
        @Option(names = "--cluster", paramLabel = "FILE", required = true,
            description = "cluster state from 'kubectl get services,endpointslices -A -o json'")
        Path cluster;

        @ArgGroup(exclusive = false)
        Synthetic synthetic;
    }

    static final class Synthetic
    {
        @Option(names = "--services", paramLabel = "N", required = true, description = "synthetic cluster: N Services")
        int services;

        @Option(names = "--endpoints", paramLabel = "E", defaultValue = "4",
            description = "synthetic cluster: E endpoints per Service (default: ${DEFAULT-VALUE})")
        int endpoints = 4;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "synthetic cluster: seed (default: ${DEFAULT-VALUE})")
        long seed = 1;

        @Option(names = "--mix", paramLabel = "clusterip|realistic", defaultValue = "clusterip",
            description = "synthetic cluster: all ClusterIP (default) or a realistic mix of types, policies, affinity")
        String mix = "clusterip";
    }

    /** Load or generate the cluster; loader notes (skipped objects) go to {@code notes} when not null. */
    public ClusterModel load(final PrintWriter notes) throws IOException, ClusterLoadException
    {
        return load(notes, 0);
    }

    /** As {@link #load(PrintWriter)}; a synthetic cluster's pods spread over {@code nodes} nodes when above 0. */
    public ClusterModel load(final PrintWriter notes, final int nodes) throws IOException, ClusterLoadException
    {
        if (source.cluster != null)
        {
            final KubectlJsonLoader.Result result = KubectlJsonLoader.load(source.cluster);
            if (notes != null)
            {
                result.notes().forEach(n -> notes.println("note: " + n));
            }
            return result.model();
        }
        final Synthetic s = source.synthetic;
        try
        {
            return SyntheticCluster.generate(s.services, s.endpoints, s.seed, SyntheticCluster.Mix.parse(s.mix), nodes);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
    }

    /**
     * The nodes a cluster needs, at least {@code minimum}: a synthetic cluster's pods are spread over the nodes'
     * /24 pod networks ({@link SyntheticCluster#nodesFor}); a cluster file brings its own pod addresses.
     */
    public int nodesNeeded(final int minimum)
    {
        if (source.cluster != null)
        {
            return minimum;
        }
        return SyntheticCluster.nodesFor((long)source.synthetic.services * source.synthetic.endpoints, minimum);
    }

    /** The cluster file, or null for a synthetic cluster. */
    public Path file()
    {
        return source.cluster;
    }

    public String describe()
    {
        if (source.cluster != null)
        {
            return source.cluster.toString();
        }
        final Synthetic s = source.synthetic;
        return "synthetic " + s.services + " Services x " + s.endpoints + " endpoints (seed " + s.seed + ", mix " + s.mix + ")";
    }
}
