package io.dpbench.cli;

import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.IpvsSelector;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.sched.Schedulers;
import io.dpbench.iptables.ChainEngine;
import io.dpbench.iptables.Classifier;
import io.dpbench.iptables.CompiledRules;
import io.dpbench.iptables.IpSets;
import io.dpbench.iptables.IptablesSelector;
import io.dpbench.iptables.KubeProxyRenderer;
import io.dpbench.iptables.NodeRules;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.RuleParseException;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.select.NewFlowSelector;

import java.util.function.IntFunction;

/**
 * Per-worker proxy modes for the verbs that run the pipeline: iptables mode compiles kube-proxy's rules once and
 * gives each worker its own classifier (its own random draws, seeded seed + worker); IPVS mode gives each worker its
 * own virtual services (its own scheduler state). Throws IllegalArgumentException for an unknown mode or scheduler.
 */
public final class Selectors
{
    private Selectors()
    {
    }

    public static IntFunction<NewFlowSelector> of(final String mode, final String scheduler, final long seed,
        final ClusterModel model, final NodeConfig node) throws RuleParseException
    {
        if ("iptables".equals(mode))
        {
            final String restore = KubeProxyRenderer.render(model, node, KubeProxyRenderer.Options.production());
            final CompiledRules compiled = ChainEngine.compile(NodeRules.assemble(restore, "rendered"), "rendered",
                node.nodeIPs(), IpSets.EMPTY);
            final int masquerade = Ipv4Address.parse(node.primaryNodeIP());
            return w -> new IptablesSelector(new Classifier(compiled, seed + w, masquerade));
        }
        if ("ipvs".equals(mode))
        {
            try
            {
                Schedulers.create(scheduler, SchedulerFlags.NONE);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("--scheduler: " + ex.getMessage(), ex);
            }
            return w -> new IpvsSelector(new IpvsProxier(node, scheduler, SchedulerFlags.NONE).syncAll(model));
        }
        throw new IllegalArgumentException("--mode: expected iptables or ipvs, got '" + mode + "'");
    }
}
