package io.dpbench.cli;

import io.dpbench.iptables.IptablesSaveFormat;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
import io.dpbench.verb.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/** {@code dpbench render}: the rules kube-proxy would program for a cluster on this node. */
@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    header = "Print the rules kube-proxy programs for a cluster (iptables, IPVS's ipvsadm-save, or nftables).",
    description = {
        "Renders a cluster (kubectl JSON or synthetic) to kube-proxy's iptables rules for this node.",
        "--format save (default): the nat, filter and mangle tables as 'iptables-save' prints them on a node, built-in",
        "  chains and kube-proxy's jump rules included (load with iptables-restore; trace with dpbench trace).",
        "--format restore: exactly the text kube-proxy's proxier hands to 'iptables-restore --noflush' in a full sync.",
        "Services are ordered by name (kube-proxy uses Go map order, which changes every sync).",
        "--mode ipvs prints the virtual services as 'ipvsadm-save -n' shows them (--scheduler, --sched-flags).",
        "--mode nftables prints the kube-proxy table its nftables proxier leaves after a full sync, in the 'add ...'",
        "  syntax of kube-proxy's tests (load with 'nft -f'; trace with dpbench trace --mode nftables); settings:",
        "  --node-name, --local-ip, --cluster-cidr or --no-local-detector, --masquerade-all, --nodeport-addresses,",
        "  --service-cidr.",
        "",
        "Example: dpbench render --mode iptables --services 1000 --endpoints 4 > node.rules"
    })
public final class RenderVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Mixin
    ModeOptions modeOptions;

    @Option(names = "--sched-flags", paramLabel = "FLAGS", defaultValue = "", description = {
        "ipvs mode: scheduler flags as ipvsadm -b takes them: sh-fallback,sh-port or mh-fallback,mh-port"})
    String schedFlags;

    @Option(names = "--format", paramLabel = "save|restore", defaultValue = "save",
        description = "save (what iptables-save shows, default) or restore (kube-proxy's restore input)")
    String format;

    @Option(names = "--mh-table-size", paramLabel = "M", defaultValue = "4093", description = {
        "ipvs mode, scheduler mh: lookup table size: 4093 (the kernel's default), another kernel prime (251 ... 131071)",
        "or 65537 (the Maglev paper's; not a kernel size) (default: ${DEFAULT-VALUE})"})
    int mhTableSize;

    @Option(names = "--ipset", paramLabel = "FILE", description = "ipvs mode: also write kube-proxy's ipsets, as "
        + "'ipset save' prints them, to FILE")
    java.nio.file.Path ipsetFile;

    @Option(names = "--iptables", paramLabel = "FILE", description = "ipvs mode: also write the iptables-restore text "
        + "kube-proxy's IPVS proxier writes (nat and filter) to FILE")
    java.nio.file.Path iptablesFile;

    @Option(names = "--transaction-to", paramLabel = "FILE", description = {
        "nftables mode: instead of the table, print the partial-sync transaction kube-proxy's nftables proxier sends",
        "when the cluster changes from the one given (--cluster or synthetic) to FILE (kubectl JSON): the changed",
        "Services' chains added, flushed and refilled, map elements added, replaced or deleted, stale chains flushed"})
    java.nio.file.Path transactionTo;

    @Option(names = "--nfacct", description = "render kube-proxy's nfacct counter rules (when it could create them; "
        + "loading them needs the kernel's nfnetlink_acct and the named counters)")
    boolean nfacct;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    NodeOptions node;

    /** ipvsadm -b syntax: sh-fallback, sh-port, mh-fallback, mh-port, comma separated. */
    static io.dpbench.ipvs.sched.SchedulerFlags ipvsFlags(final CommandSpec spec, final String text)
    {
        boolean fallback = false;
        boolean port = false;
        for (final String f : text.split(","))
        {
            switch (f.strip())
            {
                case "": break;
                case "sh-fallback": case "mh-fallback": fallback = true; break;
                case "sh-port": case "mh-port": port = true; break;
                default: throw new ParameterException(spec.commandLine(), "--sched-flags: unknown flag '" + f
                    + "' (sh-fallback, sh-port, mh-fallback, mh-port)");
            }
        }
        return new io.dpbench.ipvs.sched.SchedulerFlags(fallback, port);
    }

    @Override
    public Integer call() throws Exception
    {
        if (!"iptables".equals(modeOptions.mode) && !"ipvs".equals(modeOptions.mode) && !"nftables".equals(modeOptions.mode))
        {
            throw new ParameterException(spec.commandLine(), "--mode: '" + modeOptions.mode
                + "' is not a mode render knows (iptables, ipvs, nftables)");
        }
        if (transactionTo != null && !"nftables".equals(modeOptions.mode))
        {
            throw new ParameterException(spec.commandLine(), "--transaction-to is for --mode nftables");
        }
        if ("nftables".equals(modeOptions.mode))
        {
            final io.dpbench.model.NodeConfig nodeConfig = node.toNodeConfig();
            final io.dpbench.nftables.NftablesSettings settings = node.toNftablesSettings(nodeConfig);
            final ClusterModel model = cluster.load(spec.commandLine().getErr());
            final PrintWriter out = spec.commandLine().getOut();
            if (transactionTo == null)
            {
                out.print(io.dpbench.nftables.NftablesRenderer.render(model, nodeConfig, settings).dump());
            }
            else
            {
                final io.dpbench.model.KubectlJsonLoader.Result next = io.dpbench.model.KubectlJsonLoader.load(transactionTo);
                next.notes().forEach(n -> spec.commandLine().getErr().println("note: " + n));
                final io.dpbench.nftables.NftPartialSync sync = new io.dpbench.nftables.NftPartialSync(model, nodeConfig, settings);
                final io.dpbench.model.ClusterChange change = io.dpbench.model.ClusterChange.between(model, next.model(), nodeConfig);
                out.print(sync.sync(io.dpbench.nftables.NftPartialSync.changedServices(next.model(), change.changedServices()))
                    .text());
            }
            out.flush();
            return 0;
        }
        if (!"ipvs".equals(modeOptions.mode) && (ipsetFile != null || iptablesFile != null))
        {
            throw new ParameterException(spec.commandLine(), "--ipset and --iptables are for --mode ipvs");
        }
        if ("ipvs".equals(modeOptions.mode))
        {
            final io.dpbench.ipvs.sched.SchedulerFlags flags = ipvsFlags(spec, schedFlags);
            final io.dpbench.ipvs.IpvsProxier proxier;
            try
            {
                proxier = new io.dpbench.ipvs.IpvsProxier(node.toNodeConfig(), modeOptions.scheduler, flags).mhTableSize(mhTableSize);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), "--scheduler: " + ex.getMessage());
            }
            final ClusterModel model = cluster.load(spec.commandLine().getErr());
            proxier.syncAll(model);
            if (ipsetFile != null || iptablesFile != null)
            {
                final io.dpbench.ipvs.render.IpvsIptablesRenderer.Rendered extra = io.dpbench.ipvs.render.IpvsIptablesRenderer
                    .render(model, node.toNodeConfig(), io.dpbench.ipvs.render.IpvsIptablesRenderer.Options.production());
                if (ipsetFile != null)
                {
                    java.nio.file.Files.writeString(ipsetFile, extra.ipsetSave());
                }
                if (iptablesFile != null)
                {
                    java.nio.file.Files.writeString(iptablesFile, extra.iptablesRestore());
                }
            }
            spec.commandLine().getOut().print(io.dpbench.ipvs.IpvsadmFormat.render(proxier.table(), flags));
            spec.commandLine().getOut().flush();
            return 0;
        }
        if (!"save".equals(format) && !"restore".equals(format))
        {
            throw new ParameterException(spec.commandLine(), "--format: expected save or restore, got '" + format + "'");
        }
        final PrintWriter err = spec.commandLine().getErr();
        final ClusterModel model = cluster.load(err);
        final KubeProxyRenderer.Options base = KubeProxyRenderer.Options.production();
        final String restore = KubeProxyRenderer.render(model, node.toNodeConfig(),
            new KubeProxyRenderer.Options(base.masqueradeMark(), base.randomFully(), base.localhostNodePorts(), nfacct));
        final PrintWriter out = spec.commandLine().getOut();
        out.print("restore".equals(format) ? restore : IptablesSaveFormat.dump(NodeRules.assemble(restore, "rendered rules")));
        out.flush();
        return 0;
    }
}
