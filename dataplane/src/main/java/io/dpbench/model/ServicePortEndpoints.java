package io.dpbench.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kube-proxy's shared endpoint logic (pkg/proxy: the endpoints map of endpointslicecache.go and CategorizeEndpoints
 * of topology.go), used by every backend: per service port, the endpoints deduplicated by "ip:port" (a local copy
 * wins) and sorted as strings; then which of them serve cluster traffic and which serve node-local traffic, with the
 * fallback to serving-and-terminating endpoints when none is ready.
 */
public final class ServicePortEndpoints
{
    /** One endpoint of a service port. {@code port} is the endpoint (target) port from the slice. */
    public record Info(String ip, int port, boolean ready, boolean serving, boolean terminating, boolean local)
    {
        public String hostPort()
        {
            return ip + ":" + port;
        }
    }

    /**
     * The categorization of one service port's endpoints.
     *
     * @param cluster   endpoints for traffic under a Cluster policy (empty when the port uses none)
     * @param local     endpoints on this node for traffic under a Local policy
     * @param hasAny    some endpoint anywhere can serve (ready, or serving and terminating)
     * @param reachable every endpoint some traffic can reach (one KUBE-SEP chain each in iptables mode)
     */
    public record Categorized(List<Info> cluster, List<Info> local, boolean hasAny, List<Info> reachable,
        boolean usesClusterEndpoints, boolean usesLocalEndpoints, boolean externallyAccessible,
        boolean externalPolicyLocal, boolean internalPolicyLocal)
    {
    }

    private final Map<ServicePortName, List<Info>> byPort;

    private ServicePortEndpoints(final Map<ServicePortName, List<Info>> byPort)
    {
        this.byPort = byPort;
    }

    /** The endpoints map of a cluster as seen from {@code node}. */
    public static ServicePortEndpoints of(final ClusterModel cluster, final NodeConfig node)
    {
        final Map<ServicePortName, Map<String, Info>> collected = new HashMap<>();
        for (final EndpointSlice slice : cluster.endpointSlices())
        {
            for (final EndpointSlice.EndpointPort port : slice.ports())
            {
                final Map<String, Info> map = collected.computeIfAbsent(
                    new ServicePortName(slice.namespace(), slice.serviceName(), port.name(), port.protocol()),
                    k -> new LinkedHashMap<>());
                for (final Endpoint e : slice.endpoints())
                {
                    final boolean local = !e.nodeName().isEmpty() && e.nodeName().equals(node.nodeName());
                    final Info info = new Info(e.address(), port.port(), e.ready(), e.serving(), e.terminating(), local);
                    final String hostPort = info.hostPort();
                    final Info existing = map.get(hostPort);
                    if (existing == null || (local && !existing.local()))
                    {
                        map.put(hostPort, info);
                    }
                }
            }
        }
        final Map<ServicePortName, List<Info>> sorted = new HashMap<>();
        for (final Map.Entry<ServicePortName, Map<String, Info>> e : collected.entrySet())
        {
            // sorted by ip:port as strings, the map's keys (not rebuilt per comparison)
            final List<Map.Entry<String, Info>> entries = new ArrayList<>(e.getValue().entrySet());
            entries.sort(Map.Entry.comparingByKey());
            final Info[] list = new Info[entries.size()];
            for (int i = 0; i < list.length; i++)
            {
                list[i] = entries.get(i).getValue();
            }
            sorted.put(e.getKey(), List.of(list));
        }
        return new ServicePortEndpoints(sorted);
    }

    /** All endpoints of a service port, sorted as kube-proxy sorts them. */
    public List<Info> all(final Service service, final ServicePort port)
    {
        return all(ServicePortName.of(service, port));
    }

    /** All endpoints of a service port by its name, sorted as kube-proxy sorts them (empty when it has none). */
    public List<Info> all(final ServicePortName name)
    {
        return byPort.getOrDefault(name, List.of());
    }

    /**
     * kube-proxy's EndpointsMap: every service port some EndpointSlice names (whether or not its Service exists),
     * with its endpoints. Unmodifiable.
     */
    public Map<ServicePortName, List<Info>> byServicePort()
    {
        return java.util.Collections.unmodifiableMap(byPort);
    }

    /** The node port a service port really has (0 for ClusterIP Services, whatever the spec says). */
    public static int nodePort(final Service svc, final ServicePort port)
    {
        return svc.type() == ServiceType.CLUSTER_IP ? 0 : port.nodePort();
    }

    public static List<String> loadBalancerIPs(final Service svc)
    {
        return svc.type() == ServiceType.LOAD_BALANCER ? svc.loadBalancerIngressIPs() : List.of();
    }

    /** CategorizeEndpoints for one service port. */
    public Categorized categorize(final Service svc, final ServicePort port)
    {
        final List<Info> all = all(svc, port);
        final boolean externallyAccessible = nodePort(svc, port) != 0 || !loadBalancerIPs(svc).isEmpty()
            || !svc.externalIPs().isEmpty();
        final boolean externalPolicyLocal = externallyAccessible && svc.externalTrafficPolicy() == TrafficPolicy.LOCAL;
        final boolean internalPolicyLocal = svc.internalPolicyLocal();
        final boolean usesClusterEndpoints = !internalPolicyLocal || externallyAccessible;
        final boolean usesLocalEndpoints = internalPolicyLocal || (externalPolicyLocal && externallyAccessible);

        final List<Info> cluster = new ArrayList<>();
        final List<Info> local = new ArrayList<>();
        boolean hasAny = false;
        if (usesClusterEndpoints)
        {
            for (final Info e : all)
            {
                if (e.ready())
                {
                    cluster.add(e);
                }
            }
            if (cluster.isEmpty())
            {
                for (final Info e : all)
                {
                    if (e.serving() && e.terminating())
                    {
                        cluster.add(e);
                    }
                }
            }
            hasAny = !cluster.isEmpty();
        }
        if (usesLocalEndpoints)
        {
            for (final Info e : all)
            {
                if (e.ready() || (e.serving() && e.terminating()))
                {
                    hasAny = true;
                }
                if (e.local() && e.ready())
                {
                    local.add(e);
                }
            }
            if (local.isEmpty())
            {
                for (final Info e : all)
                {
                    if (e.local() && e.serving() && e.terminating())
                    {
                        local.add(e);
                    }
                }
            }
        }
        final List<Info> reachable;
        if (!usesLocalEndpoints)
        {
            reachable = cluster;
        }
        else if (!usesClusterEndpoints)
        {
            reachable = local;
        }
        else
        {
            final Map<String, Info> union = new LinkedHashMap<>();
            cluster.forEach(e -> union.put(e.hostPort(), e));
            local.forEach(e -> union.put(e.hostPort(), e));
            final List<Info> merged = new ArrayList<>(union.values());
            merged.sort(Comparator.comparing(Info::hostPort)); // kube-proxy: Go map order; dpbench: sorted
            reachable = merged;
        }
        return new Categorized(cluster, local, hasAny, reachable, usesClusterEndpoints, usesLocalEndpoints,
            externallyAccessible, externalPolicyLocal, internalPolicyLocal);
    }
}
