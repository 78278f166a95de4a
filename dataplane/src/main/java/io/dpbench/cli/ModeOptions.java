package io.dpbench.cli;

import picocli.CommandLine.Option;

/** The proxy mode and its scheduler: one declaration for every verb that runs or renders a mode. */
public final class ModeOptions
{
    @Option(names = "--mode", required = true, paramLabel = "iptables|ipvs|nftables",
        description = "proxy mode: iptables, ipvs or nftables")
    public String mode;

    @Option(names = "--scheduler", paramLabel = "NAME", defaultValue = "rr", description = {
        "ipvs mode: kube-proxy's --ipvs-scheduler: rr, wrr, lc, wlc, sed, nq, sh, dh, mh (default: ${DEFAULT-VALUE})"})
    public String scheduler = "rr";
}
