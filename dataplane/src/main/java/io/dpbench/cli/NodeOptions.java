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

    @Option(names = "--no-local-detector", description = {
        "nftables mode: no local-traffic detector (kube-proxy without --cluster-cidr or another detector): traffic",
        "to a cluster IP is not masqueraded by its source, and pods' traffic to external IPs is not short-circuited"})
    boolean noLocalDetector;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR[,CIDR]|primary", defaultValue = "primary", description = {
        "nftables mode: kube-proxy's --nodeport-addresses: the node IPs (--local-ip) inside these CIDRs accept NodePort",
        "traffic; 'primary' (nftables mode's default): the primary node IP only; 0.0.0.0/0: every local address",
        "(never 127.0.0.1: nftables mode has no localhost NodePorts) (default: ${DEFAULT-VALUE})"})
    String nodePortAddresses;

    @Option(names = "--service-cidr", paramLabel = "CIDR[,CIDR]", split = ",", description = {
        "nftables mode: the cluster's ServiceCIDRs: traffic to an address in them that no Service has is dropped",
        "(default: " + io.dpbench.nftables.NftablesSettings.DEFAULT_SERVICE_CIDR + ", kubeadm's, the synthetic clusters')"})
    List<String> serviceCIDRs = new ArrayList<>();

    /** nftables mode's settings for this node (bad CIDRs named as usage errors). */
    public io.dpbench.nftables.NftablesSettings toNftablesSettings(final NodeConfig nodeConfig)
    {
        try
        {
            return io.dpbench.nftables.NftablesSettings.of(nodeConfig, noLocalDetector ? null : clusterCIDR,
                nodePortAddresses, serviceCIDRs.isEmpty() ? List.of(io.dpbench.nftables.NftablesSettings.DEFAULT_SERVICE_CIDR)
                    : serviceCIDRs, "0x00004000");
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
    }

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
