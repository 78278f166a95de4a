package io.dpbench.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What changed between two snapshots of a cluster, in kube-proxy's terms (pkg/proxy servicechangetracker.go,
 * endpointschangetracker.go, conntrack/cleanup.go, v1.32): service ports added, removed and updated, keyed by
 * {@link ServicePortName} (namespace/name:port + protocol); per service port, the endpoints added, removed and updated;
 * and the conntrack cleanup kube-proxy then runs for UDP.
 * <p>
 * Service ports: only Services with a cluster IP have any (kube-proxy skips headless Services). A port is updated
 * when anything kube-proxy keeps of it (BaseServicePortInfo) differs: cluster IP, port, node port, external and
 * load-balancer IPs, source ranges, affinity and its timeout, traffic policies, health-check node port. The target
 * port is not among them: endpoints carry the resolved port. Endpoints: kube-proxy's EndpointsMap, built from the
 * EndpointSlices whatever Services exist ({@link ServicePortEndpoints#byServicePort}); an endpoint is named by
 * ip:port, and updated when a condition (ready, serving, terminating) or its locality changed.
 * <p>
 * Conntrack: kube-proxy v1.32 does not delete flows per removed endpoint. When any Service with a UDP port changed
 * endpoints ({@code ConntrackCleanupRequired}), it reconciles the whole table ({@code CleanStaleEntries}): for every
 * UDP service port that has at least one serving endpoint, a UDP entry whose original destination is one of its
 * frontends (cluster IP, load-balancer IPs, external IPs, each with the port), or whose original destination port is
 * its node port (any address), and whose reply source (the endpoint it was DNATed to, or the frontend itself when it
 * was not) is not a serving endpoint's IP, is deleted. Ports are not compared (an endpoint that only moved port keeps
 * its flows), a service port without serving endpoints keeps its flows, and so does a removed Service (nothing names
 * it any more). {@link #udpConntrackTargets} are those service ports, computed from the next snapshot. TCP and SCTP
 * entries are left to expire, as kube-proxy leaves them.
 * <p>
 * Immutable.
 */
public final class ClusterChange
{
    /** One service port's endpoint changes; the lists are sorted by ip:port. */
    public record EndpointChange(ServicePortName servicePort, List<ServicePortEndpoints.Info> added,
        List<ServicePortEndpoints.Info> removed, List<ServicePortEndpoints.Info> updated)
    {
        public EndpointChange
        {
            added = List.copyOf(added);
            removed = List.copyOf(removed);
            updated = List.copyOf(updated);
        }
    }

    /**
     * What kube-proxy's conntrack cleanup reconciles for one UDP service port: entries to a frontend ({@code
     * frontendIPs} with {@code port}) or to {@code nodePort} (0: none) on any address, whose reply source is not one
     * of {@code servingIPs} (sorted, never empty), are stale.
     */
    public record UdpConntrackTarget(ServicePortName servicePort, List<String> frontendIPs, int port, int nodePort,
        List<String> servingIPs)
    {
        public UdpConntrackTarget
        {
            frontendIPs = List.copyOf(frontendIPs);
            servingIPs = List.copyOf(servingIPs);
        }
    }

    /** What kube-proxy keeps of a service port (BaseServicePortInfo): a change to any of it updates the port. */
    private record PortInfo(String clusterIP, int port, int nodePort, List<String> externalIPs,
        List<String> loadBalancerIPs, List<String> sourceRanges, int affinitySeconds, boolean externalPolicyLocal,
        boolean internalPolicyLocal, int healthCheckNodePort)
    {
        static PortInfo of(final Service s, final ServicePort p)
        {
            final boolean lb = s.type() == ServiceType.LOAD_BALANCER;
            final int nodePort = ServicePortEndpoints.nodePort(s, p);
            final boolean externallyAccessible = nodePort != 0 || lb && !s.loadBalancerIngressIPs().isEmpty()
                || !s.externalIPs().isEmpty();
            final boolean externalLocal = externallyAccessible && s.externalTrafficPolicy() == TrafficPolicy.LOCAL;
            return new PortInfo(s.clusterIP(), p.port(), nodePort, s.externalIPs(),
                ServicePortEndpoints.loadBalancerIPs(s), lb ? s.loadBalancerSourceRanges() : List.of(),
                s.clientIPAffinity() ? s.affinityTimeoutSeconds() : 0, externalLocal, s.internalPolicyLocal(),
                lb && externalLocal ? s.healthCheckNodePort() : 0);
        }
    }

    private final List<ServicePortName> servicePortsAdded;
    private final List<ServicePortName> servicePortsRemoved;
    private final List<ServicePortName> servicePortsUpdated;
    private final List<EndpointChange> endpointChanges;
    private final Set<String> changedServices;
    private final boolean conntrackCleanupRequired;
    private final List<UdpConntrackTarget> udpConntrackTargets;
    private final int endpointsAdded;
    private final int endpointsRemoved;
    private final int endpointsUpdated;

    private ClusterChange(final List<ServicePortName> added, final List<ServicePortName> removed,
        final List<ServicePortName> updated, final List<EndpointChange> endpointChanges,
        final Set<String> changedServices, final boolean conntrackCleanupRequired,
        final List<UdpConntrackTarget> udpConntrackTargets)
    {
        this.servicePortsAdded = List.copyOf(added);
        this.servicePortsRemoved = List.copyOf(removed);
        this.servicePortsUpdated = List.copyOf(updated);
        this.endpointChanges = List.copyOf(endpointChanges);
        this.changedServices = Collections.unmodifiableSet(new TreeSet<>(changedServices));
        this.conntrackCleanupRequired = conntrackCleanupRequired;
        this.udpConntrackTargets = List.copyOf(udpConntrackTargets);
        int a = 0;
        int r = 0;
        int u = 0;
        for (final EndpointChange c : endpointChanges)
        {
            a += c.added().size();
            r += c.removed().size();
            u += c.updated().size();
        }
        endpointsAdded = a;
        endpointsRemoved = r;
        endpointsUpdated = u;
    }

    /** The change from {@code previous} to {@code next} as seen from {@code node} (which endpoints are local). */
    public static ClusterChange between(final ClusterModel previous, final ClusterModel next, final NodeConfig node)
    {
        return between(previous, ServicePortEndpoints.of(previous, node), next, ServicePortEndpoints.of(next, node));
    }

    /** As {@link #between(ClusterModel, ClusterModel, NodeConfig)}, with both endpoint maps already built. */
    public static ClusterChange between(final ClusterModel previous, final ServicePortEndpoints previousEndpoints,
        final ClusterModel next, final ServicePortEndpoints nextEndpoints)
    {
        final Map<ServicePortName, PortInfo> before = servicePorts(previous);
        final Map<ServicePortName, PortInfo> after = servicePorts(next);
        final List<ServicePortName> added = new ArrayList<>();
        final List<ServicePortName> removed = new ArrayList<>();
        final List<ServicePortName> updated = new ArrayList<>();
        final Set<String> changedServices = new TreeSet<>();
        for (final Map.Entry<ServicePortName, PortInfo> e : after.entrySet())
        {
            final PortInfo old = before.get(e.getKey());
            if (old == null)
            {
                added.add(e.getKey());
            }
            else if (!old.equals(e.getValue()))
            {
                updated.add(e.getKey());
            }
            else
            {
                continue;
            }
            changedServices.add(e.getKey().namespacedName());
        }
        for (final ServicePortName name : before.keySet())
        {
            if (!after.containsKey(name))
            {
                removed.add(name);
                changedServices.add(name.namespacedName());
            }
        }
        added.sort(null);
        removed.sort(null);
        updated.sort(null);

        final Map<ServicePortName, List<ServicePortEndpoints.Info>> epBefore = previousEndpoints.byServicePort();
        final Map<ServicePortName, List<ServicePortEndpoints.Info>> epAfter = nextEndpoints.byServicePort();
        final List<EndpointChange> endpointChanges = new ArrayList<>();
        for (final Map.Entry<ServicePortName, List<ServicePortEndpoints.Info>> e : epAfter.entrySet())
        {
            final List<ServicePortEndpoints.Info> old = epBefore.getOrDefault(e.getKey(), List.of());
            if (!old.equals(e.getValue()))
            {
                endpointChanges.add(endpointChange(e.getKey(), old, e.getValue()));
            }
        }
        for (final Map.Entry<ServicePortName, List<ServicePortEndpoints.Info>> e : epBefore.entrySet())
        {
            if (!epAfter.containsKey(e.getKey()) && !e.getValue().isEmpty())
            {
                endpointChanges.add(endpointChange(e.getKey(), e.getValue(), List.of()));
            }
        }
        endpointChanges.sort((a, b) -> a.servicePort().compareTo(b.servicePort()));
        final Set<String> endpointServices = new TreeSet<>();
        for (final EndpointChange c : endpointChanges)
        {
            endpointServices.add(c.servicePort().namespacedName());
        }
        changedServices.addAll(endpointServices);

        // endpointschangetracker.go: cleanup is required when a Service whose endpoints changed has a UDP port in
        // its endpoints map before or after (any of its ports, not only the changed one)
        boolean cleanup = false;
        for (final Map<ServicePortName, List<ServicePortEndpoints.Info>> map : List.of(epBefore, epAfter))
        {
            for (final ServicePortName name : map.keySet())
            {
                if (name.protocol() == Protocol.UDP && endpointServices.contains(name.namespacedName()))
                {
                    cleanup = true;
                    break;
                }
            }
        }
        return new ClusterChange(added, removed, updated, endpointChanges, changedServices, cleanup,
            cleanup ? udpTargets(next, nextEndpoints) : List.of());
    }

    private static Map<ServicePortName, PortInfo> servicePorts(final ClusterModel model)
    {
        final Map<ServicePortName, PortInfo> map = new HashMap<>(model.services().size() * 2);
        for (final Service s : model.services())
        {
            if (!s.hasClusterIP())
            {
                continue; // ShouldSkipService / no cluster IP: kube-proxy has no service port for it
            }
            for (final ServicePort p : s.ports())
            {
                map.put(ServicePortName.of(s, p), PortInfo.of(s, p));
            }
        }
        return map;
    }

    private static EndpointChange endpointChange(final ServicePortName name, final List<ServicePortEndpoints.Info> old,
        final List<ServicePortEndpoints.Info> now)
    {
        final Map<String, ServicePortEndpoints.Info> oldByHostPort = new HashMap<>();
        old.forEach(e -> oldByHostPort.put(e.hostPort(), e));
        final Map<String, ServicePortEndpoints.Info> nowByHostPort = new HashMap<>();
        now.forEach(e -> nowByHostPort.put(e.hostPort(), e));
        final List<ServicePortEndpoints.Info> added = new ArrayList<>();
        final List<ServicePortEndpoints.Info> updated = new ArrayList<>();
        for (final ServicePortEndpoints.Info e : now)
        {
            final ServicePortEndpoints.Info was = oldByHostPort.get(e.hostPort());
            if (was == null)
            {
                added.add(e);
            }
            else if (!was.equals(e))
            {
                updated.add(e);
            }
        }
        final List<ServicePortEndpoints.Info> removed = new ArrayList<>();
        for (final ServicePortEndpoints.Info e : old)
        {
            if (!nowByHostPort.containsKey(e.hostPort()))
            {
                removed.add(e);
            }
        }
        return new EndpointChange(name, added, removed, updated);
    }

    /** cleanup.go's serviceIPEndpointIPs and serviceNodePortEndpointIPs, one entry per UDP service port. */
    private static List<UdpConntrackTarget> udpTargets(final ClusterModel next, final ServicePortEndpoints endpoints)
    {
        final List<UdpConntrackTarget> targets = new ArrayList<>();
        for (final Service s : next.services())
        {
            if (!s.hasClusterIP())
            {
                continue;
            }
            for (final ServicePort p : s.ports())
            {
                if (p.protocol() != Protocol.UDP)
                {
                    continue;
                }
                final ServicePortName name = ServicePortName.of(s, p);
                final TreeSet<String> serving = new TreeSet<>();
                for (final ServicePortEndpoints.Info e : endpoints.all(name))
                {
                    // "Changes to the service should not affect existing flows": serving, whatever the policies
                    if (e.serving())
                    {
                        serving.add(e.ip());
                    }
                }
                if (serving.isEmpty())
                {
                    continue; // a Service without endpoints does not require cleaning its entries
                }
                final List<String> frontends = new ArrayList<>();
                frontends.add(s.clusterIP());
                frontends.addAll(ServicePortEndpoints.loadBalancerIPs(s));
                frontends.addAll(s.externalIPs());
                targets.add(new UdpConntrackTarget(name, frontends, p.port(), ServicePortEndpoints.nodePort(s, p),
                    new ArrayList<>(serving)));
            }
        }
        targets.sort((a, b) -> a.servicePort().compareTo(b.servicePort()));
        return targets;
    }

    public List<ServicePortName> servicePortsAdded()
    {
        return servicePortsAdded;
    }

    public List<ServicePortName> servicePortsRemoved()
    {
        return servicePortsRemoved;
    }

    public List<ServicePortName> servicePortsUpdated()
    {
        return servicePortsUpdated;
    }

    /** Service ports whose endpoints changed, sorted by name. */
    public List<EndpointChange> endpointChanges()
    {
        return endpointChanges;
    }

    /**
     * Every Service (namespace/name) whose ports or endpoints changed: kube-proxy's UpdatedServices of both trackers,
     * what a proxier re-programs. Sorted.
     */
    public Set<String> changedServices()
    {
        return changedServices;
    }

    /** kube-proxy's ConntrackCleanupRequired: a Service with a UDP port changed endpoints. */
    public boolean conntrackCleanupRequired()
    {
        return conntrackCleanupRequired;
    }

    /** What the cleanup reconciles (empty when it is not required), sorted by service port. */
    public List<UdpConntrackTarget> udpConntrackTargets()
    {
        return udpConntrackTargets;
    }

    public int endpointsAdded()
    {
        return endpointsAdded;
    }

    public int endpointsRemoved()
    {
        return endpointsRemoved;
    }

    public int endpointsUpdated()
    {
        return endpointsUpdated;
    }

    /** Nothing kube-proxy would act on changed. */
    public boolean isEmpty()
    {
        return changedServices.isEmpty();
    }

    /** One line: counts of what changed and of the UDP conntrack reconcile. */
    public String summary()
    {
        if (isEmpty())
        {
            return "no change";
        }
        return "service ports +" + servicePortsAdded.size() + " -" + servicePortsRemoved.size() + " ~"
            + servicePortsUpdated.size() + ", endpoints +" + endpointsAdded + " -" + endpointsRemoved + " ~"
            + endpointsUpdated + " in " + endpointChanges.size() + " service ports, " + changedServices.size()
            + " services changed, conntrack: "
            + (conntrackCleanupRequired ? "reconcile " + udpConntrackTargets.size() + " UDP service ports" : "nothing");
    }

    @Override
    public String toString()
    {
        return summary();
    }
}
