package io.dpbench.nftables;

import io.dpbench.model.Cidr;
import io.dpbench.model.NodeConfig;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;

/**
 * The kube-proxy settings that change what its nftables proxier writes (IPv4).
 *
 * @param masqueradeMark  {@code fmt.Sprintf("%#08x", 1<<14)} = 0x00004000 in production; kube-proxy's tests use 0x4000
 * @param masqueradeAll   {@code --masquerade-all}
 * @param localDetector   the local-traffic detector's CIDR ({@code --cluster-cidr}), or null for none
 *                        ({@code --no-local-detector})
 * @param nodePortIPs     the node IPs that accept NodePort traffic ({@code --nodeport-addresses}), or null when every
 *                        local address does (a 0.0.0.0/0 entry: kube-proxy deletes the nodeport-ips set)
 * @param serviceCIDRs    the cluster's ServiceCIDRs: traffic to an unallocated address in them is dropped
 * @param nodeIP          the node's primary IP (LoadBalancerSourceRanges that contain it also admit the LB IPs)
 */
public record NftablesSettings(String masqueradeMark, boolean masqueradeAll, String localDetector,
    List<String> nodePortIPs, List<String> serviceCIDRs, String nodeIP)
{
    /** kube-proxy's default for --nodeport-addresses in nftables mode: the node's primary IP. */
    public static final String PRIMARY = "primary";

    public NftablesSettings
    {
        nodePortIPs = nodePortIPs == null ? null : List.copyOf(nodePortIPs);
        serviceCIDRs = List.copyOf(serviceCIDRs);
    }

    /**
     * The settings of a node: {@code nodePortAddresses} is "primary" or CIDRs (the node's IPs inside them accept
     * NodePorts; loopback addresses never do, as kube-proxy's nftables mode has no localhost NodePorts);
     * {@code localDetector} null means no detector. Throws IllegalArgumentException naming a bad CIDR.
     */
    public static NftablesSettings of(final NodeConfig node, final String localDetector, final String nodePortAddresses,
        final List<String> serviceCIDRs, final String masqueradeMark)
    {
        final List<String> nodePortIPs;
        if (nodePortAddresses == null || PRIMARY.equals(nodePortAddresses))
        {
            nodePortIPs = List.of(node.primaryNodeIP());
        }
        else
        {
            final List<Cidr> cidrs = new ArrayList<>();
            boolean all = false;
            for (final String text : nodePortAddresses.split(","))
            {
                final Cidr cidr = parseCidr("--nodeport-addresses", text.trim());
                all |= cidr.prefixLength() == 0;
                cidrs.add(cidr);
            }
            if (all)
            {
                nodePortIPs = null;
            }
            else
            {
                final List<String> ips = new ArrayList<>();
                for (final String ip : node.nodeIPs())
                {
                    final int address = Ipv4Address.parse(ip);
                    if ((address >>> 24) != 127 && cidrs.stream().anyMatch(c -> c.contains(address)))
                    {
                        ips.add(ip);
                    }
                }
                nodePortIPs = ips;
            }
        }
        for (final String cidr : serviceCIDRs)
        {
            parseCidr("--service-cidr", cidr);
        }
        if (localDetector != null)
        {
            parseCidr("--cluster-cidr", localDetector);
        }
        return new NftablesSettings(masqueradeMark, node.masqueradeAll(), localDetector, nodePortIPs, serviceCIDRs,
            node.primaryNodeIP());
    }

    private static Cidr parseCidr(final String option, final String text)
    {
        try
        {
            return Cidr.parse(text);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException(option + ": '" + text + "' is not an IPv4 CIDR", ex);
        }
    }

    /** kubeadm's default Service CIDR, the synthetic clusters' (their ClusterIPs count up from 10.96.0.1). */
    public static final String DEFAULT_SERVICE_CIDR = "10.96.0.0/12";

    /**
     * kube-proxy's nftables defaults on {@code node}: the cluster CIDR as local-traffic detector, NodePorts on the
     * primary IP, the default Service CIDR, the production mark.
     */
    public static NftablesSettings defaults(final NodeConfig node)
    {
        return of(node, node.clusterCIDR(), PRIMARY, List.of(DEFAULT_SERVICE_CIDR), "0x00004000");
    }

    /** What kube-proxy's own unit tests (NewFakeProxier) use: node 192.168.0.2, pods 10.0.0.0/8, services 172.30.0.0/16. */
    public static NftablesSettings kubeProxyTests()
    {
        return new NftablesSettings("0x4000", false, "10.0.0.0/8", List.of("192.168.0.2"), List.of("172.30.0.0/16"),
            "192.168.0.2");
    }

    public boolean nodePortsMatchAll()
    {
        return nodePortIPs == null;
    }
}
