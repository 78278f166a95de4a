package io.dpbench.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The node's dataplane settings that the verbs running one share: workers, conntrack, the rules' random seed. */
public final class DataplaneOptions
{
    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = {
        "worker threads (1-64): frames are steered so that both directions of a connection meet on one worker",
        "(by the client's address; masqueraded replies by their SNAT port, each worker using its own ports); each",
        "worker has its own stages, conntrack cache and proxy state (rr cursors, random draws) over the shared",
        "conntrack table (default: ${DEFAULT-VALUE})"})
    public int workers = 1;

    @Option(names = {"--conntrack", "--table"}, paramLabel = "FILE",
        description = "keep the conntrack table in FILE (created or reopened: a restarted node continues its flows)")
    public Path conntrack;

    @Option(names = "--max-conntrack", paramLabel = "N", description = "nf_conntrack_max (default: kube-proxy's "
        + "max(131072, 32768 x cores))")
    public Integer maxConntrack;

    @Option(names = "--random-seed", paramLabel = "S", defaultValue = "1", description = "seed of iptables mode's "
        + "'-m statistic --mode random' draws, so that a run is reproducible (default: ${DEFAULT-VALUE})")
    public long seed = 1;
}
