package io.dpbench.cli;

import io.dpbench.model.Cidr;
import io.dpbench.model.NodeConfig;
import io.dpbench.packet.Ipv4Address;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;

/** The node's identity, shared by every verb that builds rules from a cluster or walks packets through them. */
public final class NodeOptions
{
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--node-name", paramLabel = "NAME", defaultValue = NodeConfig.DEFAULT_NODE_NAME,
        description = "this node's name: endpoints whose nodeName is this are local (default: ${DEFAULT-VALUE})")
    String nodeName;

    @Option(names = "--local-ip", paramLabel = "IP", description = {
        "one of this node's addresses, repeatable; the first is the primary node IP (MASQUERADE's source).",
        "They are what '-m addrtype --dst-type LOCAL' matches (with 127.0.0.0/8). Default: "
            + NodeConfig.DEFAULT_NODE_IP})
    List<String> localIPs = new ArrayList<>();

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", defaultValue = NodeConfig.DEFAULT_CLUSTER_CIDR,
        description = "kube-proxy's --cluster-cidr: traffic from outside it to a cluster IP is masqueraded "
            + "(default: ${DEFAULT-VALUE})")
    String clusterCIDR;

    @Option(names = "--pod-cidr", paramLabel = "CIDR", defaultValue = NodeConfig.DEFAULT_POD_CIDR,
        description = "this node's pod CIDR (default: ${DEFAULT-VALUE})")
    String podCIDR;

    @Option(names = "--masquerade-all", description = "kube-proxy's --masquerade-all: masquerade all Service traffic")
    boolean masqueradeAll;

    public NodeConfig toNodeConfig()
    {
        final List<String> ips = localIPs.isEmpty() ? List.of(NodeConfig.DEFAULT_NODE_IP) : localIPs;
        for (final String ip : ips)
        {
            try
            {
                Ipv4Address.parse(ip);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), "--local-ip: " + ex.getMessage());
            }
        }
        for (final String[] c : new String[][]{{"--cluster-cidr", clusterCIDR}, {"--pod-cidr", podCIDR}})
        {
            try
            {
                Cidr.parse(c[1]);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), c[0] + ": " + ex.getMessage());
            }
        }
        return new NodeConfig(nodeName, ips, podCIDR, clusterCIDR, masqueradeAll);
    }
}
