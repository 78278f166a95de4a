package io.dpbench.model;

import java.util.List;

/**
 * A Kubernetes Service as kube-proxy sees it.
 *
 * @param clusterIP                "" or "None" (headless) when there is no cluster IP
 * @param loadBalancerIngressIPs   status.loadBalancer.ingress[].ip
 * @param loadBalancerSourceRanges spec.loadBalancerSourceRanges (CIDRs); empty = all sources
 * @param affinityTimeoutSeconds   sessionAffinityConfig.clientIP.timeoutSeconds when {@code clientIPAffinity}
 * @param healthCheckNodePort      spec.healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local), or 0
 */
public record Service(
    String namespace,
    String name,
    ServiceType type,
    String clusterIP,
    List<String> externalIPs,
    List<String> loadBalancerIngressIPs,
    List<String> loadBalancerSourceRanges,
    List<ServicePort> ports,
    TrafficPolicy externalTrafficPolicy,
    TrafficPolicy internalTrafficPolicy,
    boolean clientIPAffinity,
    int affinityTimeoutSeconds,
    int healthCheckNodePort)
{
    /** Kubernetes' default ClientIP affinity timeout: 3 hours. */
    public static final int DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

    public Service
    {
        KubernetesNames.requireSafe("Service namespace", namespace);
        KubernetesNames.requireSafe("Service name", name);
        externalIPs = List.copyOf(externalIPs);
        loadBalancerIngressIPs = List.copyOf(loadBalancerIngressIPs);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        ports = List.copyOf(ports);
    }

    public String namespacedName()
    {
        return namespace + "/" + name;
    }

    public boolean hasClusterIP()
    {
        return !clusterIP.isEmpty() && !"None".equals(clusterIP);
    }

    /** True when external traffic (node ports, external IPs, load-balancer IPs) may only go to local endpoints. */
    public boolean externalPolicyLocal()
    {
        return externalTrafficPolicy == TrafficPolicy.LOCAL
            && (type == ServiceType.NODE_PORT || type == ServiceType.LOAD_BALANCER);
    }

    public boolean internalPolicyLocal()
    {
        return internalTrafficPolicy == TrafficPolicy.LOCAL;
    }
}
