package io.dpbench.model;

import java.util.List;

/**
 * The node kube-proxy runs on: its name (which endpoints are local), its addresses (the first is the primary node
 * IP; all are what {@code -m addrtype --dst-type LOCAL} matches), its pod CIDR, the cluster CIDR (kube-proxy's
 * {@code --cluster-cidr}, which decides what counts as off-cluster traffic to masquerade) and
 * {@code --masquerade-all}.
 */
public record NodeConfig(String nodeName, List<String> nodeIPs, String podCIDR, String clusterCIDR, boolean masqueradeAll)
{
    public static final String DEFAULT_NODE_NAME = "node-0";
    public static final String DEFAULT_NODE_IP = "192.168.0.10";
    public static final String DEFAULT_POD_CIDR = "10.244.0.0/24";
    public static final String DEFAULT_CLUSTER_CIDR = "10.244.0.0/16";

    public NodeConfig
    {
        if (nodeIPs.isEmpty())
        {
            throw new IllegalArgumentException("a node needs at least one IP");
        }
        nodeIPs = List.copyOf(nodeIPs);
    }

    public static NodeConfig defaults()
    {
        return new NodeConfig(DEFAULT_NODE_NAME, List.of(DEFAULT_NODE_IP), DEFAULT_POD_CIDR, DEFAULT_CLUSTER_CIDR, false);
    }

    public NodeConfig withNodeIPs(final List<String> ips)
    {
        return new NodeConfig(nodeName, ips, podCIDR, clusterCIDR, masqueradeAll);
    }

    public String primaryNodeIP()
    {
        return nodeIPs.get(0);
    }
}
