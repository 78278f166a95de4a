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

    /**
     * One virtual service kube-proxy creates for a Service port: its key, persistence (ClientIP affinity's timeout,
     * 0 for none), {@link KubeServiceKind} bits, real servers in the order kube-proxy adds them (sorted endpoints;
     * each packed by {@link #server}) and, for a load balancer with source ranges, the ranges (CIDR text), else empty.
     * The array is not to be changed.
     */
    public record Spec(int protocol, int address, int port, int persistenceSeconds, int kind, long[] servers,
        List<String> sourceRanges)
    {
        public long key()
        {
            return VirtualService.key(protocol, address, port);
        }

        /** Same key, persistence, kind and source ranges: only the real servers may differ. */
        public boolean sameService(final Spec other)
        {
            return protocol == other.protocol && address == other.address && port == other.port
                && persistenceSeconds == other.persistenceSeconds && kind == other.kind
                && sourceRanges.equals(other.sourceRanges);
        }
    }

    /** A real server's address and port packed in a long (address << 16 | port). */
    public static long server(final int address, final int port)
    {
        return ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    /**
     * The virtual services kube-proxy's IPVS proxier creates for one Service (none without a cluster IP), in the
     * order it creates them: per port the cluster IP, each external IP, each load-balancer IP, then the node port on
     * each node address. Builds nothing.
     */
    public List<Spec> specs(final Service service, final ServicePortEndpoints endpoints)
    {
        final List<Spec> specs = new ArrayList<>();
        if (!service.hasClusterIP())
        {
            return specs;
        }
        for (final ServicePort port : service.ports())
        {
            final ServicePortEndpoints.Categorized eps = endpoints.categorize(service, port);
            final int protocol = port.protocol().number();
            final int persistence = service.clientIPAffinity() ? service.affinityTimeoutSeconds() : 0;
            final long[] internal = packed(eps.internalPolicyLocal() ? eps.local() : eps.cluster());
            final long[] external = packed(eps.externalPolicyLocal() ? eps.local() : eps.cluster());
            final int localBit = eps.externalPolicyLocal() ? KubeServiceKind.EXTERNAL_LOCAL : 0;
            specs.add(new Spec(protocol, Ipv4Address.parse(service.clusterIP()), port.port(), persistence,
                KubeServiceKind.CLUSTER_IP, internal, List.of()));
            for (final String ip : service.externalIPs())
            {
                specs.add(new Spec(protocol, Ipv4Address.parse(ip), port.port(), persistence,
                    KubeServiceKind.EXTERNAL_IP | localBit, external, List.of()));
            }
            for (final String ip : ServicePortEndpoints.loadBalancerIPs(service))
            {
                final List<String> ranges = service.loadBalancerSourceRanges();
                specs.add(new Spec(protocol, Ipv4Address.parse(ip), port.port(), persistence, KubeServiceKind.LOAD_BALANCER
                    | localBit | (ranges.isEmpty() ? 0 : KubeServiceKind.SOURCE_RANGES), external, ranges));
            }
            final int nodePort = ServicePortEndpoints.nodePort(service, port);
            if (nodePort != 0)
            {
                for (final String ip : node.nodeIPs())
                {
                    specs.add(new Spec(protocol, Ipv4Address.parse(ip), nodePort, persistence,
                        KubeServiceKind.NODE_PORT | localBit, external, List.of()));
                }
            }
        }
        return specs;
    }

    private static long[] packed(final List<ServicePortEndpoints.Info> servers)
    {
        final long[] packed = new long[servers.size()];
        for (int i = 0; i < packed.length; i++)
        {
            packed[i] = server(Ipv4Address.parse(servers.get(i).ip()), servers.get(i).port());
        }
        return packed;
    }

    /** Add (or replace) one Service's virtual services; nothing else is touched. */
    public void addService(final Service service, final ServicePortEndpoints endpoints)
    {
        for (final Spec spec : specs(service, endpoints))
        {
            install(build(spec, spec.servers()), spec.sourceRanges());
        }
    }

    /**
     * A new virtual service (in no table) for {@code spec}, with this proxier's scheduler, its real servers (weight 1)
     * added in {@code addOrder}: each goes to the head of the list, as the kernel adds them. Touches no table, so a
     * control thread may build one for a worker's proxier and hand it over ({@link #install} on the worker).
     */
    public VirtualService build(final Spec spec, final long[] addOrder)
    {
        final VirtualService vs = new VirtualService(spec.protocol(), spec.address(), spec.port(),
            io.dpbench.ipvs.sched.Schedulers.create(schedulerName, flags, mhTableSize), spec.persistenceSeconds())
            .kind(spec.kind());
        for (final long s : addOrder)
        {
            vs.addDestination(new RealServer((int)(s >>> 16), (int)s & 0xFFFF, 1));
        }
        return vs;
    }

    /**
     * Put a virtual service into this proxier's table, replacing any with its key, with the load-balancer source
     * ranges it is reached from (CIDR text; empty: any source). Returns the one replaced, or null.
     */
    public VirtualService install(final VirtualService vs, final List<String> ranges)
    {
        final VirtualService replaced = table.put(vs);
        if (ranges.isEmpty())
        {
            sourceRanges.remove(vs.key());
        }
        else
        {
            final int[] packed = new int[ranges.size() * 2];
            for (int i = 0; i < ranges.size(); i++)
            {
                final Cidr c = Cidr.parse(ranges.get(i));
                packed[2 * i] = c.network();
                packed[2 * i + 1] = c.mask();
            }
            sourceRanges.put(vs.key(), packed);
        }
        return replaced;
    }

    /** Remove one virtual service and its source ranges; returns it, or null when there was none. */
    public VirtualService uninstall(final int protocol, final int address, final int port)
    {
        final VirtualService removed = table.remove(protocol, address, port);
        if (removed != null)
        {
            sourceRanges.remove(removed.key());
        }
        return removed;
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
                uninstall(protocol, Ipv4Address.parse(ip), port.port());
            }
            final int nodePort = ServicePortEndpoints.nodePort(service, port);
            if (nodePort != 0)
            {
                for (final String ip : node.nodeIPs())
                {
                    uninstall(protocol, Ipv4Address.parse(ip), nodePort);
                }
            }
        }
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
