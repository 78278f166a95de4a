package io.dpbench.nftables;

import io.dpbench.model.Cidr;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.ServiceType;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Renders the cluster model to the table kube-proxy's nftables proxier (pkg/proxy/nftables, the layout of
 * kubernetes commit 030880a5dc54: {@code filter-prerouting-pre-dnat} and {@code filter-output-pre-dnat} at priority
 * -110, the filter chains at 0, {@code cluster-ips-check}, {@code service-endpoints-check},
 * {@code nodeport-endpoints-check}) leaves after a full sync, as an {@link NftRuleset}: the base chains and their jump
 * rules, the masquerade chains (mark 0x4000), dispatch through the {@code service-ips} and {@code service-nodeports}
 * verdict maps, per service port the {@code service-}, {@code local-}, {@code external-}, {@code firewall-} and
 * {@code endpoint-} chains with endpoint choice by {@code numgen random mod N vmap}, ClientIP affinity through
 * per-endpoint {@code affinity-} sets, and the no-endpoint maps (drop, or goto {@code reject-chain}).
 * See docs/research/kube-proxy-nftables.md.
 * <p>
 * Service ports are visited sorted by name (kube-proxy: Go map order); the result does not depend on the order, as
 * every chain, set and element is keyed by name and a chain's rules come from one service port.
 */
public final class NftablesRenderer
{
    public static final String TABLE = "kube-proxy";
    static final String MARK_MASQ = "mark-for-masquerade";
    static final String MASQUERADING = "masquerading";
    static final String SERVICES = "services";
    static final String SERVICE_IPS = "service-ips";
    static final String SERVICE_NODEPORTS = "service-nodeports";
    static final String NODEPORT_IPS = "nodeport-ips";
    static final String CLUSTER_IPS = "cluster-ips";
    static final String SERVICE_ENDPOINTS_CHECK = "service-endpoints-check";
    static final String NODEPORT_ENDPOINTS_CHECK = "nodeport-endpoints-check";
    static final String NO_ENDPOINT_SERVICES = "no-endpoint-services";
    static final String NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
    static final String REJECT_CHAIN = "reject-chain";
    static final String CLUSTER_IPS_CHECK = "cluster-ips-check";
    static final String FIREWALL_IPS = "firewall-ips";
    static final String FIREWALL_CHECK = "firewall-check";

    private static final String NO_LOCALHOST = "ip daddr != 127.0.0.0/8";

    private final NftablesSettings settings;
    private final NftRuleset ruleset = new NftRuleset("ip", TABLE, "rules for kube-proxy");

    private NftablesRenderer(final NftablesSettings settings)
    {
        this.settings = settings;
    }

    /** The table kube-proxy's nftables proxier would hold for this cluster on this node after a full sync. */
    public static NftRuleset render(final ClusterModel cluster, final NodeConfig node, final NftablesSettings settings)
    {
        final NftablesRenderer renderer = new NftablesRenderer(settings);
        renderer.base();
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, node);
        final List<Service> services = new ArrayList<>(cluster.services());
        services.sort(Comparator.comparing(Service::namespacedName));
        for (final Service service : services)
        {
            if (!service.hasClusterIP())
            {
                continue;
            }
            for (final ServicePort port : service.ports())
            {
                renderer.servicePort(service, port, endpoints.categorize(service, port));
            }
        }
        return renderer.ruleset;
    }

    /**
     * One Service's own objects as a full render holds them: its chains and their rules, its elements of the shared
     * sets and maps (which the result declares, empty otherwise), its affinity sets. What a partial sync compares.
     */
    static NftRuleset renderService(final Service service, final ServicePortEndpoints endpoints,
        final NftablesSettings settings)
    {
        final NftablesRenderer renderer = new NftablesRenderer(settings);
        final NftRuleset r = renderer.ruleset;
        r.addSet(CLUSTER_IPS, "ipv4_addr", List.of(), 0, null);
        for (final String map : new String[] {SERVICE_IPS, NO_ENDPOINT_SERVICES, FIREWALL_IPS})
        {
            r.addMap(map, "ipv4_addr . inet_proto . inet_service", "verdict", null);
        }
        for (final String map : new String[] {SERVICE_NODEPORTS, NO_ENDPOINT_NODEPORTS})
        {
            r.addMap(map, "inet_proto . inet_service", "verdict", null);
        }
        if (service.hasClusterIP())
        {
            for (final ServicePort port : service.ports())
            {
                renderer.servicePort(service, port, endpoints.categorize(service, port));
            }
        }
        return r;
    }

    /** The shared sets and maps a Service puts elements in (see {@link #renderService}). */
    static final List<String> SHARED_SETS = List.of(CLUSTER_IPS, SERVICE_IPS, NO_ENDPOINT_SERVICES, FIREWALL_IPS,
        SERVICE_NODEPORTS, NO_ENDPOINT_NODEPORTS);

    /** setupNFTables: what every sync writes whatever the Services. */
    private void base()
    {
        final NftRuleset r = ruleset;
        r.addChain("filter-prerouting-pre-dnat", "filter", "prerouting", -110, null);
        r.addChain("filter-output-pre-dnat", "filter", "output", -110, null);
        r.addChain("filter-forward", "filter", "forward", 0, null);
        r.addChain("filter-input", "filter", "input", 0, null);
        r.addChain("filter-output", "filter", "output", 0, null);
        r.addChain("nat-prerouting", "nat", "prerouting", -100, null);
        r.addChain("nat-output", "nat", "output", -100, null);
        r.addChain("nat-postrouting", "nat", "postrouting", 100, null);
        for (final String chain : new String[] {NODEPORT_ENDPOINTS_CHECK, SERVICE_ENDPOINTS_CHECK, FIREWALL_CHECK,
            SERVICES, MASQUERADING, CLUSTER_IPS_CHECK, MARK_MASQ})
        {
            r.addChain(chain);
        }
        r.addChain(REJECT_CHAIN, null, null, 0, "helper for @no-endpoint-services / @no-endpoint-nodeports");

        // the jump rules, in nftablesJumpChains' order
        r.addRule("filter-input", "ct state new jump " + NODEPORT_ENDPOINTS_CHECK);
        r.addRule("filter-input", "ct state new jump " + SERVICE_ENDPOINTS_CHECK);
        r.addRule("filter-forward", "ct state new jump " + SERVICE_ENDPOINTS_CHECK);
        r.addRule("filter-output", "ct state new jump " + SERVICE_ENDPOINTS_CHECK);
        r.addRule("filter-prerouting-pre-dnat", "ct state new jump " + FIREWALL_CHECK);
        r.addRule("filter-output-pre-dnat", "ct state new jump " + FIREWALL_CHECK);
        r.addRule("nat-output", "jump " + SERVICES);
        r.addRule("nat-prerouting", "jump " + SERVICES);
        r.addRule("nat-postrouting", "jump " + MASQUERADING);
        r.addRule("filter-forward", "ct state new jump " + CLUSTER_IPS_CHECK);
        r.addRule("filter-output", "ct state new jump " + CLUSTER_IPS_CHECK);

        final String mark = settings.masqueradeMark();
        r.addRule(MARK_MASQ, "mark set mark or " + mark);
        r.addRule(MASQUERADING, "mark and " + mark + " == 0 return");
        r.addRule(MASQUERADING, "mark set mark xor " + mark);
        r.addRule(MASQUERADING, "masquerade fully-random");

        r.addSet(CLUSTER_IPS, "ipv4_addr", List.of(), 0, "Active ClusterIPs");
        r.addRule(CLUSTER_IPS_CHECK, "ip daddr @" + CLUSTER_IPS + " reject", "Reject traffic to invalid ports of ClusterIPs");
        if (!settings.serviceCIDRs().isEmpty())
        {
            r.addRule(CLUSTER_IPS_CHECK, "ip daddr { " + String.join(",", settings.serviceCIDRs()) + " } drop",
                "Drop traffic to unallocated ClusterIPs");
        }

        if (!settings.nodePortsMatchAll())
        {
            r.addSet(NODEPORT_IPS, "ipv4_addr", List.of(), 0, "IPs that accept NodePort traffic");
            for (final String ip : settings.nodePortIPs())
            {
                r.addElement(NODEPORT_IPS, ip, null, null);
            }
        }

        r.addMap(NO_ENDPOINT_SERVICES, "ipv4_addr . inet_proto . inet_service", "verdict",
            "vmap to drop or reject packets to services with no endpoints");
        r.addMap(NO_ENDPOINT_NODEPORTS, "inet_proto . inet_service", "verdict",
            "vmap to drop or reject packets to service nodeports with no endpoints");
        r.addRule(REJECT_CHAIN, "reject");
        r.addRule(SERVICE_ENDPOINTS_CHECK, "ip daddr . meta l4proto . th dport vmap @" + NO_ENDPOINT_SERVICES);
        r.addRule(NODEPORT_ENDPOINTS_CHECK, (settings.nodePortsMatchAll() ? NO_LOCALHOST : "ip daddr @" + NODEPORT_IPS)
            + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS);

        r.addMap(FIREWALL_IPS, "ipv4_addr . inet_proto . inet_service", "verdict",
            "destinations that are subject to LoadBalancerSourceRanges");
        r.addRule(FIREWALL_CHECK, "ip daddr . meta l4proto . th dport vmap @" + FIREWALL_IPS);

        r.addMap(SERVICE_IPS, "ipv4_addr . inet_proto . inet_service", "verdict",
            "ClusterIP, ExternalIP and LoadBalancer IP traffic");
        r.addMap(SERVICE_NODEPORTS, "inet_proto . inet_service", "verdict", "NodePort traffic");
        r.addRule(SERVICES, "ip daddr . meta l4proto . th dport vmap @" + SERVICE_IPS);
        r.addRule(SERVICES, (settings.nodePortsMatchAll() ? "fib daddr type local " + NO_LOCALHOST
            : "ip daddr @" + NODEPORT_IPS) + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS);
    }

    /** syncProxyRules' loop body for one service port. */
    private void servicePort(final Service svc, final ServicePort port, final ServicePortEndpoints.Categorized eps)
    {
        final NftRuleset r = ruleset;
        final String protocol = port.protocol().lowerCase();
        final String portName = svc.namespacedName() + (port.name().isEmpty() ? "" : ":" + port.name());
        final String base = NftChainNames.servicePortBase(svc.namespace(), svc.name(), protocol, port.name());
        final String clusterPolicyChain = NftChainNames.SERVICE + base;
        final String localPolicyChain = NftChainNames.LOCAL + base;
        final String externalTrafficChain = NftChainNames.EXTERNAL + base;
        final String fwChain = NftChainNames.FIREWALL + base;
        final String cip = canonical(svc.clusterIP());
        final String servicePort = Integer.toString(port.port());
        final int nodePort = ServicePortEndpoints.nodePort(svc, port);
        final List<String> lbIPs = ServicePortEndpoints.loadBalancerIPs(svc).stream().map(NftablesRenderer::canonical).toList();
        final List<String> sourceRanges = svc.type() == ServiceType.LOAD_BALANCER ? svc.loadBalancerSourceRanges() : List.of();
        final boolean hasEndpoints = eps.hasAny();

        for (final ServicePortEndpoints.Info e : eps.reachable())
        {
            r.addChain(endpointChain(svc, protocol, port, e));
        }
        final boolean usesClusterPolicyChain = !eps.cluster().isEmpty() && eps.usesClusterEndpoints();
        if (usesClusterPolicyChain)
        {
            r.addChain(clusterPolicyChain);
        }
        final boolean usesLocalPolicyChain = !eps.local().isEmpty() && eps.usesLocalEndpoints();
        if (usesLocalPolicyChain)
        {
            r.addChain(localPolicyChain);
        }
        String internalTrafficChain = clusterPolicyChain;
        boolean hasInternalEndpoints = hasEndpoints;
        if (eps.internalPolicyLocal())
        {
            internalTrafficChain = localPolicyChain;
            hasInternalEndpoints = !eps.local().isEmpty();
        }
        String externalPolicyChain = clusterPolicyChain;
        boolean hasExternalEndpoints = hasEndpoints;
        if (eps.externalPolicyLocal())
        {
            externalPolicyChain = localPolicyChain;
            hasExternalEndpoints = !eps.local().isEmpty();
        }
        final boolean usesExternalTrafficChain = hasEndpoints && eps.externallyAccessible();
        if (usesExternalTrafficChain)
        {
            r.addChain(externalTrafficChain);
        }
        String internalVerdict = null;
        String externalVerdict = null;
        if (!hasEndpoints)
        {
            internalVerdict = "goto " + REJECT_CHAIN;
            externalVerdict = "goto " + REJECT_CHAIN;
        }
        else
        {
            if (!hasInternalEndpoints)
            {
                internalVerdict = "drop";
            }
            if (!hasExternalEndpoints)
            {
                externalVerdict = "drop";
            }
        }

        r.addElement(CLUSTER_IPS, cip, null, null);
        final String cipKey = cip + " . " + protocol + " . " + servicePort;
        if (hasInternalEndpoints)
        {
            r.addElement(SERVICE_IPS, cipKey, "goto " + internalTrafficChain, null);
        }
        else
        {
            r.addElement(NO_ENDPOINT_SERVICES, cipKey, internalVerdict, portName);
        }
        for (final String externalIP : svc.externalIPs().stream().map(NftablesRenderer::canonical).toList())
        {
            final String key = externalIP + " . " + protocol + " . " + servicePort;
            if (hasEndpoints)
            {
                r.addElement(SERVICE_IPS, key, "goto " + externalTrafficChain, null);
            }
            if (!hasExternalEndpoints)
            {
                r.addElement(NO_ENDPOINT_SERVICES, key, externalVerdict, portName);
            }
        }
        final boolean usesFWChain = !lbIPs.isEmpty() && !sourceRanges.isEmpty();
        if (usesFWChain)
        {
            r.addChain(fwChain);
        }
        for (final String lbIP : lbIPs)
        {
            final String key = lbIP + " . " + protocol + " . " + servicePort;
            if (hasEndpoints)
            {
                r.addElement(SERVICE_IPS, key, "goto " + externalTrafficChain, null);
            }
            if (usesFWChain)
            {
                r.addElement(FIREWALL_IPS, key, "goto " + fwChain, null);
            }
        }
        if (!hasExternalEndpoints)
        {
            for (final String lbIP : lbIPs)
            {
                r.addElement(NO_ENDPOINT_SERVICES, lbIP + " . " + protocol + " . " + servicePort, externalVerdict, portName);
            }
        }
        if (nodePort != 0)
        {
            final String key = protocol + " . " + nodePort;
            if (hasEndpoints)
            {
                r.addElement(SERVICE_NODEPORTS, key, "goto " + externalTrafficChain, null);
            }
            if (!hasExternalEndpoints)
            {
                r.addElement(NO_ENDPOINT_NODEPORTS, key, externalVerdict, portName);
            }
        }

        // internal traffic: masquerade what does not come from a pod (or everything, --masquerade-all)
        if (hasInternalEndpoints)
        {
            if (settings.masqueradeAll())
            {
                r.addRule(internalTrafficChain, "ip daddr " + cip + " jump " + MARK_MASQ);
            }
            else if (settings.localDetector() != null)
            {
                r.addRule(internalTrafficChain, "ip daddr " + cip + " ip saddr != " + settings.localDetector()
                    + " jump " + MARK_MASQ);
            }
        }
        if (usesExternalTrafficChain)
        {
            if (!eps.externalPolicyLocal())
            {
                r.addRule(externalTrafficChain, "jump " + MARK_MASQ);
            }
            else
            {
                if (settings.localDetector() != null)
                {
                    r.addRule(externalTrafficChain, "ip saddr " + settings.localDetector() + " goto " + clusterPolicyChain,
                        "short-circuit pod traffic");
                }
                r.addRule(externalTrafficChain, "fib saddr type local jump " + MARK_MASQ, "masquerade local traffic");
                r.addRule(externalTrafficChain, "fib saddr type local goto " + clusterPolicyChain,
                    "short-circuit local traffic");
            }
            if (hasExternalEndpoints)
            {
                r.addRule(externalTrafficChain, "goto " + externalPolicyChain);
            }
        }
        if (usesFWChain)
        {
            final List<String> sources = new ArrayList<>();
            boolean allowFromNode = false;
            final int nodeIP = Ipv4Address.parse(settings.nodeIP());
            for (final String range : sourceRanges)
            {
                final Cidr cidr = Cidr.parse(range.trim());
                sources.add(Ipv4Address.toString(cidr.network()) + "/" + cidr.prefixLength());
                allowFromNode |= cidr.contains(nodeIP);
            }
            if (allowFromNode)
            {
                sources.addAll(lbIPs);
            }
            r.addRule(fwChain, "ip saddr != { " + String.join(" , ", sources) + " } drop");
        }
        if (svc.clientIPAffinity())
        {
            for (final ServicePortEndpoints.Info e : eps.reachable())
            {
                r.addSet(NftChainNames.AFFINITY + endpointBase(svc, protocol, port, e), "ipv4_addr",
                    List.of("dynamic", "timeout"), svc.affinityTimeoutSeconds(), null);
            }
        }
        if (usesClusterPolicyChain)
        {
            serviceToEndpointRules(svc, protocol, port, clusterPolicyChain, eps.cluster());
        }
        if (usesLocalPolicyChain)
        {
            serviceToEndpointRules(svc, protocol, port, localPolicyChain, eps.local());
        }
        for (final ServicePortEndpoints.Info e : eps.reachable())
        {
            final String chain = endpointChain(svc, protocol, port, e);
            r.addRule(chain, "ip saddr " + canonical(e.ip()) + " jump " + MARK_MASQ);
            if (svc.clientIPAffinity())
            {
                r.addRule(chain, "update @" + NftChainNames.AFFINITY + endpointBase(svc, protocol, port, e) + " { ip saddr }");
            }
            r.addRule(chain, "meta l4proto " + protocol + " dnat to " + canonical(e.ip()) + ":" + e.port());
        }
    }

    private void serviceToEndpointRules(final Service svc, final String protocol, final ServicePort port,
        final String chain, final List<ServicePortEndpoints.Info> endpoints)
    {
        if (svc.clientIPAffinity())
        {
            for (final ServicePortEndpoints.Info e : endpoints)
            {
                ruleset.addRule(chain, "ip saddr @" + NftChainNames.AFFINITY + endpointBase(svc, protocol, port, e)
                    + " goto " + endpointChain(svc, protocol, port, e));
            }
        }
        final StringBuilder vmap = new StringBuilder("numgen random mod ").append(endpoints.size()).append(" vmap {");
        for (int i = 0; i < endpoints.size(); i++)
        {
            vmap.append(i == 0 ? " " : " , ").append(i).append(" : goto ")
                .append(endpointChain(svc, protocol, port, endpoints.get(i)));
        }
        ruleset.addRule(chain, vmap.append(" }").toString());
    }

    /** An address as kube-proxy prints it: parsed "sloppily" (leading zeros allowed), written canonically. */
    static String canonical(final String ip)
    {
        return Ipv4Address.toString(Ipv4Address.parse(ip));
    }

    private static String endpointBase(final Service svc, final String protocol, final ServicePort port,
        final ServicePortEndpoints.Info e)
    {
        return NftChainNames.endpointBase(svc.namespace(), svc.name(), protocol, port.name(), canonical(e.ip()), e.port());
    }

    static String endpointChain(final Service svc, final String protocol, final ServicePort port,
        final ServicePortEndpoints.Info e)
    {
        return NftChainNames.ENDPOINT + endpointBase(svc, protocol, port, e);
    }
}
