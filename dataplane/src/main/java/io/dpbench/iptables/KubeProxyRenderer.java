package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Cidr;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.packet.Ipv4Address;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the cluster model to the iptables-restore text kube-proxy's iptables proxier writes in a full sync
 * ({@code syncProxyRules}, ~v1.32; see docs/research/kube-proxy-iptables.md): filter then nat, chain declarations,
 * KUBE-POSTROUTING / KUBE-MARK-MASQ, per service port the KUBE-SERVICES / KUBE-NODEPORTS / filter rules and the
 * KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL and KUBE-SEP chains, then KUBE-FORWARD and the final nodeports rule.
 * Arguments are in kube-proxy's order (e.g. {@code -m tcp -p tcp -d 172.30.0.41 --dport 80}).
 * <p>
 * One deliberate difference: kube-proxy walks Services in Go map order (random each sync); dpbench sorts service
 * ports by name so that output is reproducible. {@link IptablesSaveFormat} turns the text into what
 * {@code iptables-save} shows on a node, built-in chains and kube-proxy's jump rules included.
 */
public final class KubeProxyRenderer
{
    /** kube-proxy's largeClusterMode threshold: more endpoints than this drops per-endpoint comments. */
    public static final int LARGE_CLUSTER_ENDPOINT_THRESHOLD = 1000;

    /**
     * Proxier settings that change the text.
     *
     * @param masqueradeMark     {@code fmt.Sprintf("%#08x", 1<<14)} = 0x00004000 in production; kube-proxy's unit
     *                           tests use 0x4000 (iptables-save prints 0x4000 either way)
     * @param randomFully        MASQUERADE --random-fully (iptables >= 1.6.2: true on any current node)
     * @param localhostNodePorts node ports reachable on 127.0.0.1 (kube-proxy's default): adds KUBE-FIREWALL
     * @param nfacct             kube-proxy created its nfacct counters (needs the kernel's nfnetlink_acct)
     */
    public record Options(String masqueradeMark, boolean randomFully, boolean localhostNodePorts, boolean nfacct)
    {
        /** What kube-proxy writes on a current Linux node without nfacct support. */
        public static Options production()
        {
            return new Options("0x00004000", true, true, false);
        }

        /** The settings of kube-proxy's own unit tests (NewFakeProxier), for its golden outputs. */
        public static Options kubeProxyTests()
        {
            return new Options("0x4000", false, true, true);
        }
    }

    private final NodeConfig node;
    private final Options options;
    private final StringBuilder filterChains = new StringBuilder();
    private final StringBuilder filterRules = new StringBuilder();
    private final StringBuilder natChains = new StringBuilder();
    private final StringBuilder natRules = new StringBuilder();
    /** Where steps 7-12 (a Service's own chains) go: the nat buffers, or a discard buffer in a partial sync. */
    private StringBuilder serviceChains;
    private StringBuilder serviceRules;
    private final StringBuilder discard = new StringBuilder();
    private java.util.Set<String> changed;
    private final Map<Integer, String> probabilities = new HashMap<>();
    private boolean largeClusterMode;

    private KubeProxyRenderer(final NodeConfig node, final Options options)
    {
        this.node = node;
        this.options = options;
    }

    /** The restore text kube-proxy would write for this cluster on this node in a full sync. */
    public static String render(final ClusterModel cluster, final NodeConfig node, final Options options)
    {
        return new KubeProxyRenderer(node, options).renderAll(cluster);
    }

    /**
     * The restore text of a partial sync (kube-proxy >= 1.27, MinimizeIPTablesRestore): the top-level chains
     * (KUBE-SERVICES, KUBE-NODEPORTS, filter) in full, but the KUBE-EXT/FW/SVC/SVL/SEP chains only of the Services
     * named in {@code changedServices} ("namespace/name"); the other Services' chains stay as loaded.
     */
    public static String renderPartial(final ClusterModel cluster, final NodeConfig node, final Options options,
        final java.util.Set<String> changedServices)
    {
        final KubeProxyRenderer renderer = new KubeProxyRenderer(node, options);
        renderer.changed = changedServices;
        return renderer.renderAll(cluster);
    }

    /** kube-proxy's computeProbability: Go's %0.10f of 1/n (exact binary value, half-even). */
    public static String probability(final int n)
    {
        return new BigDecimal(1.0 / n).setScale(10, RoundingMode.HALF_EVEN).toPlainString();
    }

    private String renderAll(final ClusterModel cluster)
    {
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, node);
        int totalEndpoints = 0;
        for (final Service service : cluster.services())
        {
            for (final ServicePort port : service.ports())
            {
                totalEndpoints += endpoints.all(service, port).size();
            }
        }
        largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINT_THRESHOLD;

        for (final String chain : new String[]{"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD",
            "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL"})
        {
            chainLine(filterChains, chain);
        }
        for (final String chain : new String[]{"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"})
        {
            chainLine(natChains, chain);
        }
        final String mark = options.masqueradeMark;
        line(natRules, "-A KUBE-POSTROUTING -m mark ! --mark " + mark + "/" + mark + " -j RETURN");
        line(natRules, "-A KUBE-POSTROUTING -j MARK --xor-mark " + mark);
        line(natRules, "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE"
            + (options.randomFully ? " --random-fully" : ""));
        line(natRules, "-A KUBE-MARK-MASQ -j MARK --or-mark " + mark);
        if (options.localhostNodePorts)
        {
            chainLine(filterChains, "KUBE-FIREWALL");
            line(filterRules, "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" "
                + "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
        }

        final List<PortEntry> ports = new ArrayList<>();
        for (final Service service : cluster.services())
        {
            if (!service.hasClusterIP())
            {
                continue;
            }
            for (final ServicePort port : service.ports())
            {
                ports.add(new PortEntry(service, port, portName(service, port)));
            }
        }
        ports.sort(Comparator.comparing(PortEntry::name));
        for (final PortEntry p : ports)
        {
            servicePort(p.service, p.port, p.name, endpoints.categorize(p.service, p.port));
        }

        if (!options.localhostNodePorts)
        {
            line(natRules, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
                + "last rule in this chain\" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS");
        }
        else
        {
            line(natRules, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
                + "last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
        }
        line(filterRules, options.nfacct
            ? "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP"
            : "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");
        line(filterRules, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
            + mark + "/" + mark + " -j ACCEPT");
        line(filterRules, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" "
            + "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");

        return "*filter\n" + filterChains + filterRules + "COMMIT\n" + "*nat\n" + natChains + natRules + "COMMIT\n";
    }

    private record PortEntry(Service service, ServicePort port, String name)
    {
    }

    /** ServicePortName.String(): "ns/name:port" or "ns/name" for an unnamed port. */
    static String portName(final Service service, final ServicePort port)
    {
        return service.namespacedName() + (port.name().isEmpty() ? "" : ":" + port.name());
    }

    private void servicePort(final Service svc, final ServicePort port, final String name,
        final ServicePortEndpoints.Categorized eps)
    {
        final boolean unchanged = changed != null && !changed.contains(svc.namespacedName());
        serviceChains = unchanged ? discard : natChains;
        serviceRules = unchanged ? discard : natRules;
        discard.setLength(0);
        final String p = port.protocol().lowerCase();
        final String hash = ChainNames.portProtoHash(name, p);
        final String svcChain = ChainNames.SERVICE + hash;
        final String svlChain = ChainNames.SERVICE_LOCAL + hash;
        final String extChain = ChainNames.EXTERNAL + hash;
        final String fwChain = ChainNames.FIREWALL + hash;
        final String cip = svc.clusterIP();
        final int nodePort = ServicePortEndpoints.nodePort(svc, port);
        final List<String> lbVIPs = ServicePortEndpoints.loadBalancerIPs(svc);
        final List<String> sourceRanges = svc.type() == ServiceType.LOAD_BALANCER ? svc.loadBalancerSourceRanges() : List.of();
        final boolean externalPolicyLocal = eps.externalPolicyLocal();
        final boolean internalPolicyLocal = eps.internalPolicyLocal();
        final boolean usesClusterEndpoints = eps.usesClusterEndpoints();
        final boolean usesLocalEndpoints = eps.usesLocalEndpoints();
        final int healthCheckNodePort = svc.type() == ServiceType.LOAD_BALANCER && externalPolicyLocal
            ? svc.healthCheckNodePort() : 0;
        final List<ServicePortEndpoints.Info> cluster = eps.cluster();
        final List<ServicePortEndpoints.Info> local = eps.local();
        final boolean hasAny = eps.hasAny();
        final List<ServicePortEndpoints.Info> reachable = eps.reachable();

        final boolean usesClusterPolicyChain = !cluster.isEmpty() && usesClusterEndpoints;
        final boolean usesLocalPolicyChain = !local.isEmpty() && usesLocalEndpoints;
        String internalPolicyChain = svcChain;
        boolean hasInternalEndpoints = hasAny;
        if (internalPolicyLocal)
        {
            internalPolicyChain = svlChain;
            hasInternalEndpoints = !local.isEmpty();
        }
        String externalPolicyChain = svcChain;
        boolean hasExternalEndpoints = hasAny;
        if (externalPolicyLocal)
        {
            externalPolicyChain = svlChain;
            hasExternalEndpoints = !local.isEmpty();
        }
        final boolean usesExternalTrafficChain = hasAny && eps.externallyAccessible();
        final boolean usesFWChain = hasAny && !lbVIPs.isEmpty() && !sourceRanges.isEmpty();
        final String loadBalancerTrafficChain = usesFWChain ? fwChain : extChain;

        String internalFilterTarget = null;
        String internalFilterComment = null;
        String externalFilterTarget = null;
        String externalFilterComment = null;
        if (!hasAny)
        {
            internalFilterTarget = "REJECT";
            internalFilterComment = q(name + " has no endpoints");
            externalFilterTarget = "REJECT";
            externalFilterComment = internalFilterComment;
        }
        else
        {
            if (!hasInternalEndpoints)
            {
                internalFilterTarget = "DROP";
                internalFilterComment = q(name + " has no local endpoints");
            }
            if (!hasExternalEndpoints)
            {
                externalFilterTarget = "DROP";
                externalFilterComment = q(name + " has no local endpoints");
            }
        }

        final String proto = "-m " + p + " -p " + p;
        // 1. cluster IP
        if (hasInternalEndpoints)
        {
            line(natRules, "-A KUBE-SERVICES -m comment --comment " + q(name + " cluster IP") + " " + proto
                + " -d " + cip + " --dport " + port.port() + " -j " + internalPolicyChain);
        }
        else
        {
            line(filterRules, "-A KUBE-SERVICES -m comment --comment " + internalFilterComment + " " + proto
                + " -d " + cip + " --dport " + port.port() + " -j " + internalFilterTarget);
        }
        // 2. external IPs
        for (final String eip : svc.externalIPs())
        {
            if (hasAny)
            {
                line(natRules, "-A KUBE-SERVICES -m comment --comment " + q(name + " external IP") + " " + proto
                    + " -d " + eip + " --dport " + port.port() + " -j " + extChain);
            }
            if (!hasExternalEndpoints)
            {
                line(filterRules, "-A KUBE-EXTERNAL-SERVICES -m comment --comment " + externalFilterComment + " " + proto
                    + " -d " + eip + " --dport " + port.port() + " -j " + externalFilterTarget);
            }
        }
        // 3. load-balancer IPs
        for (final String vip : lbVIPs)
        {
            if (hasAny)
            {
                line(natRules, "-A KUBE-SERVICES -m comment --comment " + q(name + " loadbalancer IP") + " " + proto
                    + " -d " + vip + " --dport " + port.port() + " -j " + loadBalancerTrafficChain);
            }
            if (usesFWChain)
            {
                line(filterRules, "-A KUBE-PROXY-FIREWALL -m comment --comment "
                    + q(name + " traffic not accepted by " + fwChain) + " " + proto + " -d " + vip + " --dport "
                    + port.port() + " -j DROP");
            }
        }
        // 4.
        if (!hasExternalEndpoints)
        {
            for (final String vip : lbVIPs)
            {
                line(filterRules, "-A KUBE-EXTERNAL-SERVICES -m comment --comment " + externalFilterComment + " " + proto
                    + " -d " + vip + " --dport " + port.port() + " -j " + externalFilterTarget);
            }
        }
        // 5. node port
        if (nodePort != 0)
        {
            if (hasAny)
            {
                if (options.localhostNodePorts && options.nfacct)
                {
                    line(natRules, "-A KUBE-NODEPORTS -m comment --comment " + name + " " + proto
                        + " -d 127.0.0.0/8 --dport " + nodePort
                        + " -m nfacct --nfacct-name localhost_nps_accepted_pkts -j " + extChain);
                }
                line(natRules, "-A KUBE-NODEPORTS -m comment --comment " + name + " " + proto + " --dport " + nodePort
                    + " -j " + extChain);
            }
            if (!hasExternalEndpoints)
            {
                line(filterRules, "-A KUBE-EXTERNAL-SERVICES -m comment --comment " + externalFilterComment
                    + " -m addrtype --dst-type LOCAL " + proto + " --dport " + nodePort + " -j " + externalFilterTarget);
            }
        }
        // 6. health check node port
        if (healthCheckNodePort != 0)
        {
            line(filterRules, "-A KUBE-NODEPORTS -m comment --comment " + q(name + " health check node port")
                + " -m tcp -p tcp --dport " + healthCheckNodePort + " -j ACCEPT");
        }
        // 7. internal masquerade
        if (hasInternalEndpoints)
        {
            final String masqueradeRule = "-A " + internalPolicyChain + " -m comment --comment " + q(name + " cluster IP")
                + " " + proto + " -d " + cip + " --dport " + port.port();
            if (node.masqueradeAll())
            {
                line(serviceRules, masqueradeRule + " -j KUBE-MARK-MASQ");
            }
            else
            {
                line(serviceRules, masqueradeRule + " ! -s " + node.clusterCIDR() + " -j KUBE-MARK-MASQ");
            }
        }
        // 8. KUBE-EXT
        if (usesExternalTrafficChain)
        {
            chainLine(serviceChains, extChain);
            if (!externalPolicyLocal)
            {
                line(serviceRules, "-A " + extChain + " -m comment --comment "
                    + q("masquerade traffic for " + name + " external destinations") + " -j KUBE-MARK-MASQ");
            }
            else
            {
                line(serviceRules, "-A " + extChain + " -m comment --comment "
                    + q("pod traffic for " + name + " external destinations") + " -s " + node.clusterCIDR() + " -j " + svcChain);
                line(serviceRules, "-A " + extChain + " -m comment --comment "
                    + q("masquerade LOCAL traffic for " + name + " external destinations")
                    + " -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ");
                line(serviceRules, "-A " + extChain + " -m comment --comment "
                    + q("route LOCAL traffic for " + name + " external destinations")
                    + " -m addrtype --src-type LOCAL -j " + svcChain);
            }
            if (hasExternalEndpoints)
            {
                line(serviceRules, "-A " + extChain + " -j " + externalPolicyChain);
            }
        }
        // 9. KUBE-FW
        if (usesFWChain)
        {
            chainLine(serviceChains, fwChain);
            boolean allowFromNode = false;
            final int nodeIP = Ipv4Address.parse(node.primaryNodeIP());
            for (final String range : sourceRanges)
            {
                line(serviceRules, "-A " + fwChain + " -m comment --comment " + q(name + " loadbalancer IP") + " -s " + range
                    + " -j " + extChain);
                allowFromNode |= Cidr.parse(range).contains(nodeIP);
            }
            if (allowFromNode)
            {
                for (final String vip : lbVIPs)
                {
                    line(serviceRules, "-A " + fwChain + " -m comment --comment " + q(name + " loadbalancer IP") + " -s " + vip
                        + " -j " + extChain);
                }
            }
            line(serviceRules, "-A " + fwChain + " -m comment --comment "
                + q("other traffic to " + name + " will be dropped by KUBE-PROXY-FIREWALL"));
        }
        // 10., 11. KUBE-SVC, KUBE-SVL
        if (usesClusterPolicyChain)
        {
            chainLine(serviceChains, svcChain);
            serviceToEndpointRules(svc, name, p, svcChain, cluster);
        }
        if (usesLocalPolicyChain)
        {
            chainLine(serviceChains, svlChain);
            serviceToEndpointRules(svc, name, p, svlChain, local);
        }
        // 12. KUBE-SEP
        for (final ServicePortEndpoints.Info e : reachable)
        {
            final String sep = ChainNames.endpointChain(name, p, e.hostPort());
            chainLine(serviceChains, sep);
            final String prefix = "-A " + sep + comment(name);
            line(serviceRules, prefix + " -s " + e.ip() + " -j KUBE-MARK-MASQ");
            line(serviceRules, prefix + (svc.clientIPAffinity() ? " -m recent --name " + sep + " --set" : "") + " " + proto
                + " -j DNAT --to-destination " + e.hostPort());
        }
    }

    private void serviceToEndpointRules(final Service svc, final String name, final String protocol, final String chain,
        final List<ServicePortEndpoints.Info> endpoints)
    {
        if (svc.clientIPAffinity())
        {
            for (final ServicePortEndpoints.Info e : endpoints)
            {
                final String sep = ChainNames.endpointChain(name, protocol, e.hostPort());
                line(serviceRules, "-A " + chain + comment(q(name + " -> " + e.hostPort())) + " -m recent --name " + sep
                    + " --rcheck --seconds " + svc.affinityTimeoutSeconds() + " --reap -j " + sep);
            }
        }
        final int n = endpoints.size();
        for (int i = 0; i < n; i++)
        {
            final ServicePortEndpoints.Info e = endpoints.get(i);
            final String sep = ChainNames.endpointChain(name, protocol, e.hostPort());
            line(serviceRules, "-A " + chain + comment(q(name + " -> " + e.hostPort()))
                + (i < n - 1 ? " -m statistic --mode random --probability " + cachedProbability(n - i) : "") + " -j " + sep);
        }
    }

    private String cachedProbability(final int n)
    {
        return probabilities.computeIfAbsent(n, KubeProxyRenderer::probability);
    }

    /** appendServiceCommentLocked: the per-endpoint comment, dropped in large-cluster mode. */
    private String comment(final String text)
    {
        return largeClusterMode ? "" : " -m comment --comment " + text;
    }

    /** kube-proxy quotes comments with spaces by writing the quotes into the string. */
    private static String q(final String text)
    {
        return "\"" + text + "\"";
    }

    private static void chainLine(final StringBuilder sb, final String chain)
    {
        sb.append(':').append(chain).append(" - [0:0]\n");
    }

    private static void line(final StringBuilder sb, final String text)
    {
        sb.append(text).append('\n');
    }
}
