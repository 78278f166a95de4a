package io.dpbench.ipvs;

/**
 * Why kube-proxy's IPVS proxier created a virtual service, as bits on {@link VirtualService#kind()}: which of its
 * iptables/ipset rules apply to the traffic (KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER, KUBE-NODE-PORT-*,
 * the *-LOCAL sets for externalTrafficPolicy Local, KUBE-LOAD-BALANCER-FW for source ranges).
 */
public final class KubeServiceKind
{
    public static final int CLUSTER_IP = 1;
    public static final int EXTERNAL_IP = 1 << 1;
    public static final int LOAD_BALANCER = 1 << 2;
    public static final int NODE_PORT = 1 << 3;
    /** externalTrafficPolicy Local: external traffic keeps its source (no masquerade), only local endpoints. */
    public static final int EXTERNAL_LOCAL = 1 << 4;
    /** loadBalancerSourceRanges restrict the sources (KUBE-LOAD-BALANCER-FW). */
    public static final int SOURCE_RANGES = 1 << 5;

    private KubeServiceKind()
    {
    }
}
