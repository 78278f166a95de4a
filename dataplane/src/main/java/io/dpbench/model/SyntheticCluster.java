package io.dpbench.model;

import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Seeded synthetic clusters of N Services with E endpoints each.
 * <ul>
 *   <li>{@link Mix#CLUSTER_IP} (the default, for clean scaling curves): every Service is ClusterIP with one TCP port
 *   80 -> 8080 and E ready endpoints.</li>
 *   <li>{@link Mix#REALISTIC}: a mix seen on real clusters: ~70% ClusterIP, ~20% NodePort, ~10% LoadBalancer (a
 *   third of them with loadBalancerSourceRanges), externalTrafficPolicy Local on a quarter of the NodePort and
 *   LoadBalancer Services, ~5% ClientIP affinity, ~15% UDP (DNS-like), ~10% with a second port, ~2% with an
 *   externalIP, ~3% internalTrafficPolicy Local, ~3% without endpoints, ~5% of endpoints terminating.
 *   Node ports come from 30000-32767; once those run out, further NodePort/LoadBalancer Services become ClusterIP.</li>
 * </ul>
 * Addresses: ClusterIPs from 10.96.0.1 up (10.96.0.0/12), pods from 10.244.0.0 round-robin over
 * {@code max(3, ceil(N*E/100))} nodes {@code node-0, node-1, ...} (node k owns 10.244.0.0/24 + k; 100 pods a node),
 * load-balancer IPs from 172.16.0.1, external IPs from 198.18.0.1. The local node is {@code node-0}
 * ({@link NodeConfig#defaults()}). The same arguments give the same cluster.
 */
public final class SyntheticCluster
{
    public enum Mix
    {
        CLUSTER_IP, REALISTIC;

        public static Mix parse(final String text)
        {
            switch (text.toLowerCase(Locale.ROOT))
            {
                case "clusterip":
                case "cluster-ip":
                    return CLUSTER_IP;
                case "realistic":
                    return REALISTIC;
                default:
                    throw new IllegalArgumentException("unknown mix '" + text + "' (clusterip or realistic)");
            }
        }
    }

    public static final int FIRST_NODE_PORT = 30000;
    public static final int LAST_NODE_PORT = 32767;

    private SyntheticCluster()
    {
    }

    /**
     * The overlay nodes a synthetic cluster of {@code pods} endpoint pods is given when the user names none: at
     * least {@code minimum}, and enough that each node's /24 (253 pods) keeps about a fifth free for the clients a
     * load generator places there (200 endpoint pods a node), at most 245 (the overlay's limit).
     */
    public static int nodesFor(final long pods, final int minimum)
    {
        return (int)Math.max(minimum, Math.min(245, (pods + 199) / 200));
    }

    public static ClusterModel generate(final int services, final int endpoints, final long seed, final Mix mix)
    {
        return generate(services, endpoints, seed, mix, 0);
    }

    /**
     * As {@link #generate(int, int, long, Mix)}, with pods spread round-robin over exactly {@code nodeCount} nodes
     * (node k owning 10.244.k.0/24, flannel-style) when {@code nodeCount > 0}; at most 253 pods fit a node's /24.
     */
    public static ClusterModel generate(final int services, final int endpoints, final long seed, final Mix mix,
        final int nodeCount)
    {
        if (services < 0 || services > 1_000_000)
        {
            throw new IllegalArgumentException("--services " + services + " outside 0..1000000");
        }
        if (endpoints < 0 || endpoints > 1000)
        {
            throw new IllegalArgumentException("--endpoints " + endpoints + " outside 0..1000");
        }
        final SplittableRandom random = new SplittableRandom(seed);
        final long pods = (long)services * endpoints;
        if (nodeCount < 0 || nodeCount > 256)
        {
            throw new IllegalArgumentException("--nodes " + nodeCount + " outside 1..256");
        }
        if (nodeCount > 0 && pods > 253L * nodeCount)
        {
            throw new IllegalArgumentException("--nodes " + nodeCount + " is too few for " + pods
                + " pods (a node's /24 holds at most 253)");
        }
        final int nodes = nodeCount > 0 ? nodeCount : (int)Math.max(3, (pods + 99) / 100);
        final int serviceBase = Ipv4Address.parse("10.96.0.0");
        final int podBase = Ipv4Address.parse("10.244.0.0");
        final int lbBase = Ipv4Address.parse("172.16.0.0");
        final int externalBase = Ipv4Address.parse("198.18.0.0");
        final List<Service> serviceList = new ArrayList<>(services);
        final List<EndpointSlice> slices = new ArrayList<>(services);
        int nextNodePort = FIRST_NODE_PORT;
        long pod = 0;

        for (int i = 0; i < services; i++)
        {
            final String namespace = "ns-" + (i % 50);
            final String name = "svc-" + i;
            final String clusterIP = Ipv4Address.toString(serviceBase + 1 + i);
            ServiceType type = ServiceType.CLUSTER_IP;
            Protocol protocol = Protocol.TCP;
            int port = 80;
            int targetPort = 8080;
            boolean secondPort = false;
            TrafficPolicy external = TrafficPolicy.CLUSTER;
            TrafficPolicy internal = TrafficPolicy.CLUSTER;
            boolean affinity = false;
            boolean noEndpoints = false;
            final List<String> externalIPs = new ArrayList<>();
            final List<String> ingress = new ArrayList<>();
            final List<String> sourceRanges = new ArrayList<>();
            if (mix == Mix.REALISTIC)
            {
                final int t = random.nextInt(100);
                type = t < 70 ? ServiceType.CLUSTER_IP : t < 90 ? ServiceType.NODE_PORT : ServiceType.LOAD_BALANCER;
                if (random.nextInt(100) < 15)
                {
                    protocol = Protocol.UDP;
                    port = 53;
                    targetPort = 5353;
                }
                else if (random.nextInt(100) < 10)
                {
                    secondPort = true;
                }
                if (type != ServiceType.CLUSTER_IP && random.nextInt(4) == 0)
                {
                    external = TrafficPolicy.LOCAL;
                }
                internal = random.nextInt(100) < 3 ? TrafficPolicy.LOCAL : TrafficPolicy.CLUSTER;
                affinity = random.nextInt(100) < 5;
                noEndpoints = random.nextInt(100) < 3;
                if (random.nextInt(100) < 2)
                {
                    externalIPs.add(Ipv4Address.toString(externalBase + 1 + i));
                }
                if (type == ServiceType.LOAD_BALANCER)
                {
                    ingress.add(Ipv4Address.toString(lbBase + 1 + i));
                    if (random.nextInt(3) == 0)
                    {
                        sourceRanges.add("203.0.113.0/24");
                        sourceRanges.add("198.51.100.0/25");
                    }
                }
            }
            final int portsNeeded = secondPort ? 2 : 1;
            if (type != ServiceType.CLUSTER_IP && nextNodePort + portsNeeded - 1 > LAST_NODE_PORT)
            {
                type = ServiceType.CLUSTER_IP; // node ports exhausted
                external = TrafficPolicy.CLUSTER;
                ingress.clear();
                sourceRanges.clear();
            }
            final List<ServicePort> ports = new ArrayList<>(2);
            final String firstName = secondPort ? "http" : (protocol == Protocol.UDP ? "dns" : "http");
            ports.add(new ServicePort(firstName, protocol, port, Integer.toString(targetPort),
                type == ServiceType.CLUSTER_IP ? 0 : nextNodePort++));
            if (secondPort)
            {
                ports.add(new ServicePort("https", Protocol.TCP, 443, "8443",
                    type == ServiceType.CLUSTER_IP ? 0 : nextNodePort++));
            }
            int healthCheckNodePort = 0;
            if (type == ServiceType.LOAD_BALANCER && external == TrafficPolicy.LOCAL && nextNodePort <= LAST_NODE_PORT)
            {
                healthCheckNodePort = nextNodePort++;
            }
            serviceList.add(new Service(namespace, name, type, clusterIP, externalIPs, ingress, sourceRanges, ports,
                external, internal, affinity, Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, healthCheckNodePort));

            final List<Endpoint> endpointList = new ArrayList<>(endpoints);
            if (!noEndpoints)
            {
                for (int e = 0; e < endpoints; e++, pod++)
                {
                    final int node = (int)(pod % nodes);
                    final int host = (int)(pod / nodes) + 2;
                    final String address = Ipv4Address.toString(podBase + (node << 8) + host);
                    final boolean terminating = mix == Mix.REALISTIC && random.nextInt(100) < 5;
                    endpointList.add(new Endpoint(address, !terminating, true, terminating, "node-" + node));
                }
            }
            final List<EndpointSlice.EndpointPort> slicePorts = new ArrayList<>(2);
            for (final ServicePort sp : ports)
            {
                slicePorts.add(new EndpointSlice.EndpointPort(sp.name(), sp.protocol(), Integer.parseInt(sp.targetPort())));
            }
            slices.add(new EndpointSlice(namespace, name + "-abcde", name, endpointList, slicePorts));
        }
        return new ClusterModel(serviceList, slices);
    }
}
