package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.model.Cidr;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.packet.Ipv4Address;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds and incrementally updates a node's IPVS state from the cluster model, as kube-proxy's IPVS proxier does:
 * per service port a virtual service on the cluster IP, on each external IP, on each load-balancer IP and, for node
 * ports, on each of the node's addresses; real servers are the endpoints kube-proxy's categorization selects
 * (local ones only for externalTrafficPolicy Local on the external services, and for internalTrafficPolicy Local on
 * the cluster IP), weight 1; ClientIP affinity becomes persistence with its timeout. Every virtual service uses the
 * scheduler named by kube-proxy's {@code --ipvs-scheduler} (rr by default).
 * <p>
 * Real servers are added in kube-proxy's sorted endpoint order; the kernel puts each at the head of the list, so the
 * list order (what rr, wrr and mh walk) is the reverse.
 */
public final class IpvsProxier
{
    private final NodeConfig node;
    private final String schedulerName;
    private final SchedulerFlags flags;
    private final VirtualServiceTable table;
    private final Long2ObjectHashMap<int[]> sourceRanges = new Long2ObjectHashMap<>();
    private int mhTableSize = io.dpbench.ipvs.sched.MaglevScheduler.DEFAULT_TABLE_SIZE;
    private final int clusterNetwork;
    private final int clusterMask;

    public IpvsProxier(final NodeConfig node, final String schedulerName, final SchedulerFlags flags)
    {
        this(node, schedulerName, flags, new VirtualServiceTable());
    }

    /** Over an existing table (e.g. parsed from ipvsadm-save text). */
    public IpvsProxier(final NodeConfig node, final String schedulerName, final SchedulerFlags flags,
        final VirtualServiceTable table)
    {
        this.table = table;
        this.node = node;
        this.schedulerName = schedulerName;
        this.flags = flags;
        io.dpbench.ipvs.sched.Schedulers.create(schedulerName, flags); // fail early on an unknown name
        final Cidr cidr = Cidr.parse(node.clusterCIDR());
        clusterNetwork = cidr.network();
        clusterMask = cidr.mask();
    }

    /** mh's lookup table size for the services created from now on (a kernel prime, or 65537). */
    public IpvsProxier mhTableSize(final int size)
    {
        io.dpbench.ipvs.sched.Schedulers.create("mh", flags, size); // validate now
        this.mhTableSize = size;
        return this;
    }

    public VirtualServiceTable table()
    {
        return table;
    }

    public NodeConfig node()
    {
        return node;
    }

    public String schedulerName()
    {
        return schedulerName;
    }

    /** Full sync: every Service of the cluster. */
    public IpvsProxier syncAll(final ClusterModel cluster)
    {
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, node);
        for (final Service service : cluster.services())
        {
            addService(service, endpoints);
        }
        return this;
    }

    /** Add (or replace) one Service's virtual services; nothing else is touched. */
    public void addService(final Service service, final ServicePortEndpoints endpoints)
    {
        if (!service.hasClusterIP())
        {
            return;
        }
        for (final ServicePort port : service.ports())
        {
            final ServicePortEndpoints.Categorized eps = endpoints.categorize(service, port);
            final int protocol = port.protocol().number();
            final int persistence = service.clientIPAffinity() ? service.affinityTimeoutSeconds() : 0;
            final List<ServicePortEndpoints.Info> internal = eps.internalPolicyLocal() ? eps.local() : eps.cluster();
            final List<ServicePortEndpoints.Info> external = eps.externalPolicyLocal() ? eps.local() : eps.cluster();
            final int localBit = eps.externalPolicyLocal() ? KubeServiceKind.EXTERNAL_LOCAL : 0;
            put(protocol, service.clusterIP(), port.port(), persistence, KubeServiceKind.CLUSTER_IP, internal);
            for (final String ip : service.externalIPs())
            {
                put(protocol, ip, port.port(), persistence, KubeServiceKind.EXTERNAL_IP | localBit, external);
            }
            for (final String ip : ServicePortEndpoints.loadBalancerIPs(service))
            {
                final boolean ranged = !service.loadBalancerSourceRanges().isEmpty();
                final VirtualService vs = put(protocol, ip, port.port(), persistence,
                    KubeServiceKind.LOAD_BALANCER | localBit | (ranged ? KubeServiceKind.SOURCE_RANGES : 0), external);
                if (ranged)
                {
                    final List<String> ranges = service.loadBalancerSourceRanges();
                    final int[] packed = new int[ranges.size() * 2];
                    for (int i = 0; i < ranges.size(); i++)
                    {
                        final Cidr c = Cidr.parse(ranges.get(i));
                        packed[2 * i] = c.network();
                        packed[2 * i + 1] = c.mask();
                    }
                    sourceRanges.put(vs.key(), packed);
                }
            }
            final int nodePort = ServicePortEndpoints.nodePort(service, port);
            if (nodePort != 0)
            {
                for (final String ip : node.nodeIPs())
                {
                    put(protocol, ip, nodePort, persistence, KubeServiceKind.NODE_PORT | localBit, external);
                }
            }
        }
    }

    /** Remove one Service's virtual services. */
    public void removeService(final Service service)
    {
        for (final ServicePort port : service.ports())
        {
            final int protocol = port.protocol().number();
            final List<String> addresses = new ArrayList<>();
            addresses.add(service.clusterIP());
            addresses.addAll(service.externalIPs());
            addresses.addAll(ServicePortEndpoints.loadBalancerIPs(service));
            for (final String ip : addresses)
            {
                final VirtualService removed = table.remove(protocol, Ipv4Address.parse(ip), port.port());
                if (removed != null)
                {
                    sourceRanges.remove(removed.key());
                }
            }
            final int nodePort = ServicePortEndpoints.nodePort(service, port);
            if (nodePort != 0)
            {
                for (final String ip : node.nodeIPs())
                {
                    table.remove(protocol, Ipv4Address.parse(ip), nodePort);
                }
            }
        }
    }

    private VirtualService put(final int protocol, final String address, final int port, final int persistence,
        final int kind, final List<ServicePortEndpoints.Info> servers)
    {
        final VirtualService vs = new VirtualService(protocol, Ipv4Address.parse(address), port,
            io.dpbench.ipvs.sched.Schedulers.create(schedulerName, flags, mhTableSize), persistence).kind(kind);
        for (final ServicePortEndpoints.Info e : servers)
        {
            vs.addDestination(new RealServer(Ipv4Address.parse(e.ip()), e.port(), 1));
        }
        table.put(vs);
        return vs;
    }

    /** True when the source may reach this load-balancer service (no ranges, or inside one). */
    boolean sourceAllowed(final VirtualService vs, final int source)
    {
        if ((vs.kind() & KubeServiceKind.SOURCE_RANGES) == 0)
        {
            return true;
        }
        final int[] ranges = sourceRanges.get(vs.key());
        for (int i = 0; i < ranges.length; i += 2)
        {
            if ((source & ranges[i + 1]) == ranges[i])
            {
                return true;
            }
        }
        return false;
    }

    boolean inClusterCIDR(final int address)
    {
        return (address & clusterMask) == clusterNetwork;
    }
}
