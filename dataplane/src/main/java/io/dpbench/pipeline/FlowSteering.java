package io.dpbench.pipeline;

import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.packet.EthernetFlyweight;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongHashSet;

import java.nio.ByteOrder;

/**
 * Which worker a frame goes to, so that both directions of a connection meet on one worker even though NAT changes
 * one side (ISSUE-NOTES, issue 7: steer by the endpoint NAT leaves alone). A frame to a Service frontend (cluster
 * IP, external IP, load-balancer IP or node port on a node address) is a request, steered by a hash of its source
 * address, the client's; a frame from a Service backend is a reply, steered by its destination: the client's address
 * again, or, when that is one of the node's own addresses (the connection was masqueraded), by its port, the SNAT
 * port, which the worker that created the connection picked among its own ({@link #ownsPort}: ports are striped
 * over the workers, port mod W). Steering by the client's address rather than its port keeps all of a client's
 * connections on one worker, so that per-worker affinity state (IPVS persistence templates, iptables' recent list)
 * works as the kernel's global one does. Any other frame (no Service, so no NAT) goes by a symmetric hash of its two
 * endpoints. A frame straight to a backend's address and port (no frontend: a headless Service, a pod IP) is steered
 * as its reply will be, by its source. A VXLAN frame for this node is steered by its inner frame. Reads the frame
 * only; no allocation.
 * <p>
 * Not handled: non-first IPv4 fragments carry no ports and are steered by addresses alone, which may differ from
 * their first fragment's worker; ICMP errors are steered by their own addresses, not the flow they quote.
 */
public final class FlowSteering
{
    private final int workers;
    /**
     * The Services' frontends and endpoints, replaced whole when the cluster changes ({@link #update}, the control
     * thread): a volatile reference, so that an rx thread reads one consistent pair per frame (the sets are never
     * changed once published).
     */
    private volatile Known known;
    private final int localVtep;

    private record Known(LongHashSet frontends, LongHashSet backends)
    {
    }
    /** The node's own addresses: a reply to one of them was masqueraded, and its port names the worker. */
    private final int[] nodeAddresses;
    /** The node's vxlan device (its UDP port tells VXLAN for this node from other UDP). */
    private final VxlanConfig vxlanConfig;
    private final VxlanDecapsulator vxlan;

    public FlowSteering(final int workers, final LongHashSet frontends, final LongHashSet backends,
        final int[] nodeAddresses, final int localVtep)
    {
        this(workers, frontends, backends, nodeAddresses, localVtep, VxlanConfig.flannel());
    }

    public FlowSteering(final int workers, final LongHashSet frontends, final LongHashSet backends,
        final int[] nodeAddresses, final int localVtep, final VxlanConfig vxlanConfig)
    {
        this.vxlanConfig = vxlanConfig;
        this.vxlan = new VxlanDecapsulator(vxlanConfig);
        this.nodeAddresses = nodeAddresses.clone();
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        this.workers = workers;
        this.known = new Known(frontends, backends);
        this.localVtep = localVtep;
    }

    /**
     * From a cluster: its frontends as kube-proxy programs them on this node (both modes program the same ones) and
     * every endpoint. {@code localVtep} is this node's underlay address (0: no overlay).
     */
    public static FlowSteering of(final ClusterModel cluster, final NodeConfig node, final int workers, final int localVtep)
    {
        return of(cluster, node, workers, localVtep, VxlanConfig.flannel());
    }

    /** As above, for a vxlan device of these settings (its UDP port). */
    public static FlowSteering of(final ClusterModel cluster, final NodeConfig node, final int workers,
        final int localVtep, final VxlanConfig vxlan)
    {
        final Known k = known(cluster, node);
        final int[] addresses = node.nodeIPs().stream().mapToInt(Ipv4Address::parse).toArray();
        return new FlowSteering(workers, k.frontends(), k.backends(), addresses, localVtep, vxlan);
    }

    /** The vxlan device's settings steering recognises VXLAN for this node by. */
    public VxlanConfig vxlanConfig()
    {
        return vxlanConfig;
    }

    /**
     * The cluster changed (the control thread): steer by its frontends and endpoints too, from the next frame on.
     * What was known stays known: connections to a Service or an endpoint that went away live on in conntrack (TCP
     * until they expire), and their packets must keep meeting the worker that holds them, so the sets only grow.
     */
    public void update(final ClusterModel cluster, final NodeConfig node)
    {
        final Known before = known;
        final Known next = known(cluster, node);
        next.frontends().addAll(before.frontends());
        next.backends().addAll(before.backends());
        known = next;
    }

    private static Known known(final ClusterModel cluster, final NodeConfig node)
    {
        final LongHashSet frontends = new LongHashSet();
        final LongHashSet backends = new LongHashSet();
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, node);
        for (final Service service : cluster.services())
        {
            for (final ServicePort port : service.ports())
            {
                final int protocol = port.protocol().number();
                if (service.hasClusterIP())
                {
                    frontends.add(key(protocol, Ipv4Address.parse(service.clusterIP()), port.port()));
                }
                for (final String ip : service.externalIPs())
                {
                    frontends.add(key(protocol, Ipv4Address.parse(ip), port.port()));
                }
                for (final String ip : ServicePortEndpoints.loadBalancerIPs(service))
                {
                    frontends.add(key(protocol, Ipv4Address.parse(ip), port.port()));
                }
                final int nodePort = ServicePortEndpoints.nodePort(service, port);
                if (nodePort != 0)
                {
                    for (final String ip : node.nodeIPs())
                    {
                        frontends.add(key(protocol, Ipv4Address.parse(ip), nodePort));
                    }
                }
                for (final ServicePortEndpoints.Info e : endpoints.all(service, port))
                {
                    backends.add(key(protocol, Ipv4Address.parse(e.ip()), e.port()));
                }
            }
        }
        return new Known(frontends, backends);
    }


    /** A client's worker: all of a client's connections meet on one worker, with its affinity state. */
    private int ofClient(final int address)
    {
        return (int)((FlowKey.mix64(address & 0xFFFF_FFFFL) >>> 1) % workers);
    }

    private boolean isNodeAddress(final int address)
    {
        for (final int a : nodeAddresses)
        {
            if (a == address)
            {
                return true;
            }
        }
        return false;
    }

    static long key(final int protocol, final int address, final int port)
    {
        return ((long)(protocol & 0xFF) << 48) | ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    public int workers()
    {
        return workers;
    }

    /**
     * The conntrack entries {@code worker} owns: those whose original tuple it is steered (the worker that created a
     * connection got its first packet), so that only it reaps them.
     */
    public io.dpbench.conntrack.ConntrackTable.Owner owner(final int worker)
    {
        return (addresses, ports) -> worker((int)(ports & 0xFF), (int)(addresses >>> 32), (int)(ports >>> 24) & 0xFFFF,
            (int)addresses, (int)(ports >>> 8) & 0xFFFF) == worker;
    }

    /** Whether {@code worker} may use this port as a SNAT source port (the steering sends the replies back to it). */
    public static boolean ownsPort(final int worker, final int workers, final int port)
    {
        return io.dpbench.conntrack.SnatPorts.owns(worker, workers, port);
    }

    /** This node's VTEP address when VXLAN frames for it are steered by their inner frame, else 0. */
    public int localVtep()
    {
        return localVtep;
    }

    /**
     * The worker for a frame rx has parsed: by the parse's tuple when it is valid ({@code verdict} OK: the same tuple
     * {@link #worker(DirectBuffer, int, int)} would read), else by reading the frame, as a frame the parser refused
     * still goes to the worker that reads it the same way.
     */
    public int worker(final ParsedPacket packet, final Verdict verdict, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (workers == 1)
        {
            return 0;
        }
        if (verdict == Verdict.OK)
        {
            return worker(packet.protocol, packet.sourceAddress, packet.sourcePort, packet.destinationAddress,
                packet.destinationPort);
        }
        return worker(buffer, offset, length);
    }

    /** The worker for the frame at {@code [offset, offset + length)}. Frames it cannot read go to worker 0. */
    public int worker(final DirectBuffer buffer, final int offset, final int length)
    {
        if (workers == 1)
        {
            return 0;
        }
        int start = offset;
        int end = offset + length;
        if (localVtep != 0 && vxlan.addressedToDevice(buffer, offset, length, localVtep))
        {
            final int outer = EthernetFlyweight.ipv4Offset(buffer, offset, length);
            start = outer + ((buffer.getByte(outer) & 0x0F) << 2) + 8 + 8; // UDP and VXLAN headers
        }
        final int ip = EthernetFlyweight.ipv4Offset(buffer, start, end - start);
        if (ip < 0 || ip + Ipv4Flyweight.MIN_HEADER_LENGTH > end)
        {
            return 0;
        }
        final int protocol = buffer.getByte(ip + 9) & 0xFF;
        final int source = buffer.getInt(ip + 12, ByteOrder.BIG_ENDIAN);
        final int destination = buffer.getInt(ip + 16, ByteOrder.BIG_ENDIAN);
        final int l4 = ip + ((buffer.getByte(ip) & 0x0F) << 2);
        final boolean firstFragment = (buffer.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x1FFF) == 0;
        int sourcePort = 0;
        int destinationPort = 0;
        if (firstFragment && (protocol == Ipv4Flyweight.PROTOCOL_TCP || protocol == Ipv4Flyweight.PROTOCOL_UDP)
            && l4 + 4 <= end)
        {
            sourcePort = buffer.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            destinationPort = buffer.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        }
        else if (firstFragment && protocol == Ipv4Flyweight.PROTOCOL_ICMP && l4 + 8 <= end)
        {
            final int type = buffer.getByte(l4) & 0xFF;
            if (type == 8 || type == 0) // echo request / reply: conntrack's tuple uses the identifier on both sides
            {
                sourcePort = buffer.getShort(l4 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                destinationPort = sourcePort;
            }
        }
        return worker(protocol, source, sourcePort, destination, destinationPort);
    }

    /** The worker for a packet with this tuple (ports: TCP/UDP ports, the ICMP echo identifier on both, else 0). */
    public int worker(final int protocol, final int source, final int sourcePort, final int destination,
        final int destinationPort)
    {
        if (workers == 1)
        {
            return 0;
        }
        final Known k = known;
        final LongHashSet frontends = k.frontends();
        final LongHashSet backends = k.backends();
        if (frontends.contains(key(protocol, destination, destinationPort)))
        {
            return ofClient(source);
        }
        if (backends.contains(key(protocol, source, sourcePort)))
        {
            return isNodeAddress(destination) ? io.dpbench.conntrack.SnatPorts.owner(destinationPort, workers) : ofClient(destination);
        }
        if (backends.contains(key(protocol, destination, destinationPort)))
        {
            // straight to a pod (a headless Service, a pod IP): the mirror of the reply rule above, so both
            // directions meet
            return isNodeAddress(source) ? io.dpbench.conntrack.SnatPorts.owner(sourcePort, workers) : ofClient(source);
        }
        final long a = ((source & 0xFFFF_FFFFL) << 16) | sourcePort;
        final long b = ((destination & 0xFFFF_FFFFL) << 16) | destinationPort;
        final long h = FlowKey.mix64(Math.min(a, b) * 31 + Math.max(a, b) + protocol);
        return (int)((h >>> 1) % workers);
    }
}
