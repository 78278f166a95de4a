package io.dpbench.ipvs;

import io.dpbench.packet.Ipv4Address;

import java.util.Arrays;
import java.util.List;

/**
 * IPVS mode's new-flow decision: one hash lookup of the virtual service by (protocol, destination, port), then its
 * scheduler (or persistence template) picks the real server. Packets to no virtual service pass untouched; a load
 * balancer's loadBalancerSourceRanges drop other sources (kube-proxy's KUBE-LOAD-BALANCER-FW); a service with no
 * available server is rejected (ip_vs_leave sends ICMP port unreachable).
 * <p>
 * Masquerade follows kube-proxy's IPVS-mode iptables rules: cluster-IP traffic from outside the cluster CIDR
 * (KUBE-CLUSTER-IP with {@code ! -s clusterCIDR}) or with --masquerade-all; external-IP, load-balancer and node-port
 * traffic under externalTrafficPolicy Cluster (KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER, KUBE-NODE-PORT-*); the node's
 * own traffic to them; and hairpin traffic, a server reaching itself (KUBE-LOOP-BACK). Cost is O(1) in the number
 * of Services. One owner thread; no allocation.
 */
public final class IpvsClassifier
{
    private final IpvsProxier proxier;
    private final VirtualServiceTable table;
    private final int[] local;
    private final boolean masqueradeAll;

    public IpvsClassifier(final IpvsProxier proxier)
    {
        this.proxier = proxier;
        this.table = proxier.table();
        final List<String> ips = proxier.node().nodeIPs();
        local = new int[ips.size()];
        for (int i = 0; i < local.length; i++)
        {
            local[i] = Ipv4Address.parse(ips.get(i));
        }
        Arrays.sort(local);
        masqueradeAll = proxier.node().masqueradeAll();
    }

    public int classifyNewFlow(final IpvsFlow f)
    {
        return decide(f, table.slotOf(VirtualService.key(f.protocol, f.destinationAddress, f.destinationPort)));
    }

    /**
     * Classify a batch: the virtual-service lookups of all flows first ({@link VirtualServiceTable#findBatch}, their
     * cache misses overlapping), then each flow's decision. Same outcome as {@link #classifyNewFlow} per flow.
     * Returns a value depending on the first pass's loads, so that the JIT keeps them.
     */
    public long classifyBatch(final IpvsFlow[] flows, final int n)
    {
        final long[] keys = batchKeys;
        for (int j = 0; j < n; j++)
        {
            final IpvsFlow f = flows[j];
            keys[j] = VirtualService.key(f.protocol, f.destinationAddress, f.destinationPort);
        }
        long touched = table.findBatch(keys, n, batchSlots);
        for (int j = 0; j < n; j++)
        {
            // second pass: the scheduler state beyond the slot line (mh's table, other schedulers' objects)
            final int slot = batchSlots[j];
            if (slot >= 0)
            {
                touched += table.touch(slot);
            }
        }
        for (int j = 0; j < n; j++)
        {
            decide(flows[j], batchSlots[j]);
        }
        return touched;
    }

    /** Largest batch {@link #classifyBatch} takes. */
    public static final int MAX_BATCH = 256;

    private final long[] batchKeys = new long[MAX_BATCH];
    private final int[] batchSlots = new int[MAX_BATCH];

    /** The decision from the slot line alone where the scheduler is rr (see {@link VirtualServiceTable}). */
    private int decide(final IpvsFlow f, final int slot)
    {
        f.matched(table, slot);
        if (slot < 0)
        {
            return f.verdict = IpvsFlow.ACCEPT;
        }
        final int kind = table.kindAt(slot);
        if ((kind & KubeServiceKind.SOURCE_RANGES) != 0 && !proxier.sourceAllowed(table.valueAt(slot), f.sourceAddress))
        {
            return f.verdict = IpvsFlow.DROP;
        }
        final int index = table.schedule(slot, f.sourceAddress, f.sourcePort, f.nowNanos);
        if (index < 0)
        {
            return f.verdict = IpvsFlow.REJECT;
        }
        final int serverAddress = table.destinationAddress(slot, index);
        f.serverIndex = index;
        f.serverAddress = serverAddress;
        f.serverPort = table.destinationPort(slot, index);
        final boolean fromNode = isLocal(f.sourceAddress);
        f.masquerade = masqueradeAll
            || serverAddress == f.sourceAddress
            || fromNode
            || ((kind & KubeServiceKind.CLUSTER_IP) != 0 && !proxier.inClusterCIDR(f.sourceAddress))
            || ((kind & KubeServiceKind.CLUSTER_IP) == 0 && (kind & KubeServiceKind.EXTERNAL_LOCAL) == 0);
        return f.verdict = IpvsFlow.DNAT;
    }

    private boolean isLocal(final int address)
    {
        return (address >>> 24) == 127 || Arrays.binarySearch(local, address) >= 0;
    }
}
