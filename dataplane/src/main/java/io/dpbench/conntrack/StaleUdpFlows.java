package io.dpbench.conntrack;

import io.dpbench.packet.Ipv4Flyweight;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which UDP conntrack entries kube-proxy's cleanup deletes (pkg/proxy/conntrack/cleanup.go, v1.32): per UDP service
 * port with serving endpoints, its frontends (cluster, load-balancer and external IP, each with the port) and its node
 * port, each with the serving endpoints' IPs. An entry is stale when it is UDP, its original destination is a frontend
 * (or its original destination port a node port, whatever the address), and its reply source (the endpoint it was
 * DNATed to; the frontend itself when it was not translated) is none of that frontend's serving endpoints.
 * <p>
 * Immutable after {@link Builder#build}: sorted primitive arrays, read with binary searches, so that every worker
 * can test its own entries against one instance at once. Built on the control thread.
 */
public final class StaleUdpFlows
{
    /** Frontends as (address << 16 | port), sorted; {@link #frontendServing}[i] the sorted serving IPs of frontend i. */
    private final long[] frontends;
    private final int[][] frontendServing;
    /** Node ports, sorted; {@link #nodePortServing}[i] the sorted serving IPs of node port i. */
    private final int[] nodePorts;
    private final int[][] nodePortServing;

    private StaleUdpFlows(final long[] frontends, final int[][] frontendServing, final int[] nodePorts,
        final int[][] nodePortServing)
    {
        this.frontends = frontends;
        this.frontendServing = frontendServing;
        this.nodePorts = nodePorts;
        this.nodePortServing = nodePortServing;
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /** Collects frontends and node ports; a later entry for the same frontend or node port replaces the earlier. */
    public static final class Builder
    {
        private final Map<Long, int[]> frontends = new TreeMap<>();
        private final Map<Integer, int[]> nodePorts = new TreeMap<>();

        private Builder()
        {
        }

        /** UDP flows to {@code address:port} whose reply source is none of {@code servingAddresses} are stale. */
        public Builder frontend(final int address, final int port, final int[] servingAddresses)
        {
            frontends.put(frontendKey(address, port), sorted(servingAddresses));
            return this;
        }

        /** UDP flows to {@code nodePort} on any address whose reply source is none of {@code servingAddresses}. */
        public Builder nodePort(final int nodePort, final int[] servingAddresses)
        {
            nodePorts.put(nodePort, sorted(servingAddresses));
            return this;
        }

        private static int[] sorted(final int[] addresses)
        {
            if (addresses.length == 0)
            {
                // cleanup.go skips a service port without serving endpoints: its flows are kept
                throw new IllegalArgumentException("a stale-flow target needs at least one serving endpoint");
            }
            final int[] copy = addresses.clone();
            Arrays.sort(copy);
            return copy;
        }

        public StaleUdpFlows build()
        {
            final long[] f = new long[frontends.size()];
            final int[][] fs = new int[f.length][];
            int i = 0;
            for (final Map.Entry<Long, int[]> e : frontends.entrySet())
            {
                f[i] = e.getKey();
                fs[i++] = e.getValue();
            }
            final int[] n = new int[nodePorts.size()];
            final int[][] ns = new int[n.length][];
            i = 0;
            for (final Map.Entry<Integer, int[]> e : nodePorts.entrySet())
            {
                n[i] = e.getKey();
                ns[i++] = e.getValue();
            }
            return new StaleUdpFlows(f, fs, n, ns);
        }
    }

    private static long frontendKey(final int address, final int port)
    {
        return ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    /**
     * Whether a connection, given as a {@link ConntrackRecord}'s packed tuples, is stale: UDP, to a frontend or node
     * port of these targets, answered from none of its serving endpoints.
     */
    public boolean matches(final long originalAddresses, final long originalPorts, final long replyAddresses)
    {
        if ((originalPorts & 0xFF) != Ipv4Flyweight.PROTOCOL_UDP)
        {
            return false;
        }
        final int destination = (int)originalAddresses;
        final int destinationPort = (int)(originalPorts >>> 8) & 0xFFFF;
        final int replySource = (int)(replyAddresses >>> 32);
        final int f = Arrays.binarySearch(frontends, frontendKey(destination, destinationPort));
        if (f >= 0 && Arrays.binarySearch(frontendServing[f], replySource) < 0)
        {
            return true;
        }
        final int n = Arrays.binarySearch(nodePorts, destinationPort);
        return n >= 0 && Arrays.binarySearch(nodePortServing[n], replySource) < 0;
    }

    /** Whether a cached or stored connection is stale. */
    public boolean matches(final ConntrackRecord r)
    {
        return matches(r.originalAddresses(), r.originalPorts(), r.replyAddresses());
    }

    /** Frontends (address:port) these targets name. */
    public int frontendCount()
    {
        return frontends.length;
    }

    public int nodePortCount()
    {
        return nodePorts.length;
    }

    public boolean isEmpty()
    {
        return frontends.length == 0 && nodePorts.length == 0;
    }

    @Override
    public String toString()
    {
        return "stale UDP flows: " + frontends.length + " frontends, " + nodePorts.length + " node ports";
    }
}
