package io.dpbench.cli;

import io.dpbench.iptables.IptablesSaveFormat;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
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
    header = "Print the rules kube-proxy programs for a cluster (iptables mode).",
    description = {
        "Renders a cluster (kubectl JSON or synthetic) to kube-proxy's iptables rules for this node.",
        "--format save (default): the nat, filter and mangle tables as 'iptables-save' prints them on a node, built-in",
        "  chains and kube-proxy's jump rules included (load with iptables-restore; trace with dpbench trace).",
        "--format restore: exactly the text kube-proxy's proxier hands to 'iptables-restore --noflush' in a full sync.",
        "Services are ordered by name (kube-proxy uses Go map order, which changes every sync).",
        "",
        "Example: dpbench render --mode iptables --services 1000 --endpoints 4 > node.rules"
    })
public final class RenderVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--mode", required = true, paramLabel = "iptables", description = "proxy mode: iptables")
    String mode;

    @Option(names = "--format", paramLabel = "save|restore", defaultValue = "save",
        description = "save (what iptables-save shows, default) or restore (kube-proxy's restore input)")
    String format;

    @Option(names = "--nfacct", description = "render kube-proxy's nfacct counter rules (when it could create them; "
        + "loading them needs the kernel's nfnetlink_acct and the named counters)")
    boolean nfacct;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception
    {
        if (!"iptables".equals(mode))
        {
            throw new ParameterException(spec.commandLine(), "--mode: '" + mode + "' is not a mode render knows (iptables)");
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
