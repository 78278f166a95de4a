package io.dpbench.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Every fuzz target, by name, and where its corpus lives. */
public final class FuzzTargets
{
    /** The corpus, relative to the dataplane module. */
    public static final String CORPUS = "src/test/resources/fuzz";

    private FuzzTargets()
    {
    }

    public static List<FuzzTarget> all()
    {
        return List.of(new IptablesSaveTarget(), new IpvsadmTarget(), new KubectlJsonTarget(), new PcapTarget(),
            new FrameTarget(), new VxlanReceiveTarget(), new NftablesTarget());
    }

    public static FuzzTarget named(final String name)
    {
        for (final FuzzTarget target : all())
        {
            if (target.name().equals(name))
            {
                return target;
            }
        }
        throw new IllegalArgumentException("no fuzz target '" + name + "'; targets: "
            + all().stream().map(FuzzTarget::name).toList());
    }

    /** The dataplane module's folder: from DPBENCH_ROOT (surefire sets it) or the working directory. */
    public static Path module()
    {
        final String root = System.getenv("DPBENCH_ROOT");
        if (root != null && Files.isDirectory(Path.of(root, "dataplane")))
        {
            return Path.of(root, "dataplane");
        }
        return Files.isDirectory(Path.of("dataplane", "src")) ? Path.of("dataplane") : Path.of(".");
    }

    public static Path corpus(final FuzzTarget target)
    {
        return module().resolve(CORPUS).resolve(target.name());
    }

    /** The corpus files of a target, sorted by name (seeds and past findings' reproducers). */
    public static List<Path> corpusFiles(final FuzzTarget target)
    {
        final Path dir = corpus(target);
        if (!Files.isDirectory(dir))
        {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir))
        {
            return new ArrayList<>(files.filter(Files::isRegularFile).sorted().toList());
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
