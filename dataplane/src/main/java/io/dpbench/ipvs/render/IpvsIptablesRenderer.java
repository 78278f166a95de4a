package io.dpbench.ipvs.render;

import io.dpbench.model.Cidr;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServicePortEndpoints;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders what kube-proxy's IPVS proxier configures besides the IPVS virtual services: the ipsets it fills
 * (as {@code ipset save} prints them) and the iptables-restore text of {@code syncProxyRules} /
 * {@code writeIptablesRules} (pkg/proxy/ipvs/proxier.go, ~release-1.32; search-index id 32359423).
 * <p>
 * What is taken verbatim from kube-proxy: the set names, types and comments ({@code ipsetInfo}), which entry goes
 * into which set and its string form ({@code utilipset.Entry.String()}), the create options
 * ({@code hashsize 1024 maxelem 65536}, {@code range 0-65535}), the chain declarations ({@code iptablesChains}),
 * every rule and its argument order, and the order of the restore text (nat chains, nat rules, COMMIT, filter
 * chains, filter rules, COMMIT).
 * <p>
 * Deliberate, documented differences (kube-proxy's order there is Go map / set order or kernel hash order, i.e. not
 * reproducible):
 * <ul>
 *   <li>sets are listed in {@code ipsetInfo} order (kube-proxy creates them in Go map order);</li>
 *   <li>entries of hash sets are sorted by address (numerically), protocol, port, second address / net; entries of
 *       bitmap:port sets are sorted by port, which is also the kernel's own order;</li>
 *   <li>the KUBE-IPVS-OUT-FILTER rules (one per load-balancer IP:port whose source ranges exclude the node IP) are
 *       sorted the same way (kube-proxy: service map order).</li>
 * </ul>
 * Other modelling choices: the node's addresses ({@code GetAllLocalAddressesExcept("kube-ipvs0")}, used for node
 * ports and to decide which external / load-balancer IPs are bound to kube-ipvs0 and so go into KUBE-IPVS-IPS) are
 * {@link NodeConfig#nodeIPs()}; {@code --nodeport-addresses} is not modelled (match all). The local-traffic detector
 * is "cluster CIDR" when {@link NodeConfig#clusterCIDR()} is set ({@code ! -s CIDR}) and the no-op detector
 * otherwise (KUBE-CLUSTER-IP then matches {@code src,dst}, as in kube-proxy's unit tests). Every IPVS and ipset call
 * is assumed to succeed. Only IPv4 is rendered: IPv6 addresses in the model are skipped, as kube-proxy's IPv4
 * proxier skips them.
 */
public final class IpvsIptablesRenderer
{
    /** The ipset save text and the iptables-restore text of one full sync. */
    public record Rendered(String ipsetSave, String iptablesRestore)
    {
    }

    /**
     * Proxier settings that change the text.
     *
     * @param masqueradeMark       {@code fmt.Sprintf("%#08x", 1<<14)} = 0x00004000 in production; 0x4000 in kube-proxy's
     *                             unit tests
     * @param randomFully          MASQUERADE --random-fully (iptables.HasRandomFully(): true on current nodes; false in
     *                             kube-proxy's fake iptables)
     * @param hashCreateSuffix     appended to the {@code create} line of hash sets in the ipset save text: "" for
     *                             ipset/kernels before bucketsize support; current ones print e.g.
     *                             {@code " bucketsize 12 initval 0x5f3c2a1b"} (initval is random per set)
     */
    public record Options(String masqueradeMark, boolean randomFully, String hashCreateSuffix)
    {
        public Options
        {
            hashCreateSuffix = hashCreateSuffix == null ? "" : hashCreateSuffix;
        }

        /** A current Linux node (bucketsize/initval left out: initval is random). */
        public static Options production()
        {
            return new Options("0x00004000", true, "");
        }

        /** The settings of kube-proxy's IPVS unit tests (NewFakeProxier + iptablestest.NewFake()). */
        public static Options kubeProxyTests()
        {
            return new Options("0x4000", false, "");
        }
    }

    // ---- set names and comments (pkg/proxy/ipvs/ipset.go) ----
    public static final String LOOP_BACK = "KUBE-LOOP-BACK";
    public static final String CLUSTER_IP = "KUBE-CLUSTER-IP";
    public static final String EXTERNAL_IP = "KUBE-EXTERNAL-IP";
    public static final String EXTERNAL_IP_LOCAL = "KUBE-EXTERNAL-IP-LOCAL";
    public static final String LOAD_BALANCER = "KUBE-LOAD-BALANCER";
    public static final String LOAD_BALANCER_FW = "KUBE-LOAD-BALANCER-FW";
    public static final String LOAD_BALANCER_LOCAL = "KUBE-LOAD-BALANCER-LOCAL";
    public static final String LOAD_BALANCER_SOURCE_IP = "KUBE-LOAD-BALANCER-SOURCE-IP";
    public static final String LOAD_BALANCER_SOURCE_CIDR = "KUBE-LOAD-BALANCER-SOURCE-CIDR";
    public static final String NODE_PORT_TCP = "KUBE-NODE-PORT-TCP";
    public static final String NODE_PORT_LOCAL_TCP = "KUBE-NODE-PORT-LOCAL-TCP";
    public static final String NODE_PORT_UDP = "KUBE-NODE-PORT-UDP";
    public static final String NODE_PORT_LOCAL_UDP = "KUBE-NODE-PORT-LOCAL-UDP";
    public static final String NODE_PORT_SCTP = "KUBE-NODE-PORT-SCTP-HASH";
    public static final String NODE_PORT_LOCAL_SCTP = "KUBE-NODE-PORT-LOCAL-SCTP-HASH";
    public static final String HEALTH_CHECK_NODE_PORT = "KUBE-HEALTH-CHECK-NODE-PORT";
    public static final String IPVS_IPS = "KUBE-IPVS-IPS";

    // ---- chains (pkg/proxy/ipvs/proxier.go) ----
    static final String SERVICES = "KUBE-SERVICES";
    static final String PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    static final String SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL";
    static final String POSTROUTING = "KUBE-POSTROUTING";
    static final String MARK_MASQ = "KUBE-MARK-MASQ";
    static final String NODE_PORT = "KUBE-NODE-PORT";
    static final String FORWARD = "KUBE-FORWARD";
    static final String LOAD_BALANCER_CHAIN = "KUBE-LOAD-BALANCER";
    static final String IPVS_FILTER = "KUBE-IPVS-FILTER";
    static final String IPVS_OUT_FILTER = "KUBE-IPVS-OUT-FILTER";

    /** ipset types as kube-proxy names them (utilipset.Type). */
    public enum SetType
    {
        HASH_IP("hash:ip"), HASH_IP_PORT("hash:ip,port"), HASH_IP_PORT_IP("hash:ip,port,ip"),
        HASH_IP_PORT_NET("hash:ip,port,net"), BITMAP_PORT("bitmap:port");

        private final String text;

        SetType(final String text)
        {
            this.text = text;
        }

        public String text()
        {
            return text;
        }
    }

    /** One row of kube-proxy's ipsetInfo table. */
    public record SetInfo(String name, SetType type, String comment)
    {
    }

    /** kube-proxy's ipsetInfo, in its order. */
    public static final List<SetInfo> SETS = List.of(
        new SetInfo(LOOP_BACK, SetType.HASH_IP_PORT_IP,
            "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
        new SetInfo(CLUSTER_IP, SetType.HASH_IP_PORT, "Kubernetes service cluster ip + port for masquerade purpose"),
        new SetInfo(EXTERNAL_IP, SetType.HASH_IP_PORT,
            "Kubernetes service external ip + port for masquerade and filter purpose"),
        new SetInfo(EXTERNAL_IP_LOCAL, SetType.HASH_IP_PORT,
            "Kubernetes service external ip + port with externalTrafficPolicy=local"),
        new SetInfo(LOAD_BALANCER, SetType.HASH_IP_PORT, "Kubernetes service lb portal"),
        new SetInfo(LOAD_BALANCER_FW, SetType.HASH_IP_PORT,
            "Kubernetes service load balancer ip + port for load balancer with sourceRange"),
        new SetInfo(LOAD_BALANCER_LOCAL, SetType.HASH_IP_PORT,
            "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
        new SetInfo(LOAD_BALANCER_SOURCE_IP, SetType.HASH_IP_PORT_IP,
            "Kubernetes service load balancer ip + port + source IP for packet filter purpose"),
        new SetInfo(LOAD_BALANCER_SOURCE_CIDR, SetType.HASH_IP_PORT_NET,
            "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"),
        new SetInfo(NODE_PORT_TCP, SetType.BITMAP_PORT, "Kubernetes nodeport TCP port for masquerade purpose"),
        new SetInfo(NODE_PORT_LOCAL_TCP, SetType.BITMAP_PORT,
            "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
        new SetInfo(NODE_PORT_UDP, SetType.BITMAP_PORT, "Kubernetes nodeport UDP port for masquerade purpose"),
        new SetInfo(NODE_PORT_LOCAL_UDP, SetType.BITMAP_PORT,
            "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
        new SetInfo(NODE_PORT_SCTP, SetType.HASH_IP_PORT,
            "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"),
        new SetInfo(NODE_PORT_LOCAL_SCTP, SetType.HASH_IP_PORT,
            "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"),
        new SetInfo(HEALTH_CHECK_NODE_PORT, SetType.BITMAP_PORT, "Kubernetes health check node port"),
        new SetInfo(IPVS_IPS, SetType.HASH_IP, "Addresses on the ipvs interface"));

    /** ipsetWithIptablesChain: set, table (true = filter), from chain, target, match flags, protocol match. */
    private record SetJump(String set, boolean filter, String from, String to, String matchType, String protocol)
    {
    }

    private static final List<SetJump> SET_JUMPS = List.of(
        new SetJump(LOOP_BACK, false, POSTROUTING, "MASQUERADE", "dst,dst,src", ""),
        new SetJump(LOAD_BALANCER, false, SERVICES, LOAD_BALANCER_CHAIN, "dst,dst", ""),
        new SetJump(LOAD_BALANCER_LOCAL, false, LOAD_BALANCER_CHAIN, "RETURN", "dst,dst", ""),
        new SetJump(NODE_PORT_LOCAL_TCP, false, NODE_PORT, "RETURN", "dst", "tcp"),
        new SetJump(NODE_PORT_TCP, false, NODE_PORT, MARK_MASQ, "dst", "tcp"),
        new SetJump(NODE_PORT_LOCAL_UDP, false, NODE_PORT, "RETURN", "dst", "udp"),
        new SetJump(NODE_PORT_UDP, false, NODE_PORT, MARK_MASQ, "dst", "udp"),
        new SetJump(NODE_PORT_LOCAL_SCTP, false, NODE_PORT, "RETURN", "dst,dst", "sctp"),
        new SetJump(NODE_PORT_SCTP, false, NODE_PORT, MARK_MASQ, "dst,dst", "sctp"),
        new SetJump(LOAD_BALANCER_FW, true, PROXY_FIREWALL, SOURCE_RANGES_FIREWALL, "dst,dst", ""),
        new SetJump(LOAD_BALANCER_SOURCE_CIDR, true, SOURCE_RANGES_FIREWALL, "RETURN", "dst,dst,src", ""),
        new SetJump(LOAD_BALANCER_SOURCE_IP, true, SOURCE_RANGES_FIREWALL, "RETURN", "dst,dst,src", ""));

    /**
     * One ipset entry (utilipset.Entry). {@code net} is the source CIDR of hash:ip,port,net entries.
     */
    public record Entry(SetType type, String ip, String protocol, int port, String ip2, Cidr net)
    {
        /** utilipset.Entry.String(): what kube-proxy passes to {@code ipset add}. */
        public String kubeProxyForm()
        {
            return switch (type)
            {
                case HASH_IP -> ip;
                case HASH_IP_PORT -> ip + "," + protocol + ":" + port;
                case HASH_IP_PORT_IP -> ip + "," + protocol + ":" + port + "," + ip2;
                case HASH_IP_PORT_NET -> ip + "," + protocol + ":" + port + "," + net;
                case BITMAP_PORT -> Integer.toString(port);
            };
        }

        /** How {@code ipset save} prints it: as added, except that a /32 net prints without its prefix length. */
        public String saveForm()
        {
            if (type == SetType.HASH_IP_PORT_NET && net.prefixLength() == 32)
            {
                return ip + "," + protocol + ":" + port + "," + Ipv4Address.toString(net.network());
            }
            return kubeProxyForm();
        }
    }

    private static final Comparator<Entry> ENTRY_ORDER = Comparator
        .comparingLong((Entry e) -> e.ip() == null ? -1 : Integer.toUnsignedLong(Ipv4Address.parse(e.ip())))
        .thenComparing(e -> e.protocol() == null ? "" : e.protocol())
        .thenComparingInt(Entry::port)
        .thenComparingLong(e -> e.ip2() == null ? -1 : Integer.toUnsignedLong(Ipv4Address.parse(e.ip2())))
        .thenComparingLong(e -> e.net() == null ? -1 : Integer.toUnsignedLong(e.net().network()))
        .thenComparingInt(e -> e.net() == null ? -1 : e.net().prefixLength());

    private final NodeConfig node;
    private final Options options;
    private final Map<String, TreeSet<Entry>> sets = new LinkedHashMap<>();
    private final TreeSet<Entry> lbNoNodeAccess = new TreeSet<>(ENTRY_ORDER);

    private IpvsIptablesRenderer(final NodeConfig node, final Options options)
    {
        this.node = node;
        this.options = options;
        for (final SetInfo info : SETS)
        {
            sets.put(info.name(), new TreeSet<>(ENTRY_ORDER));
        }
    }

    /** The ipsets and iptables-restore text kube-proxy's IPVS proxier would write for this cluster on this node. */
    public static Rendered render(final ClusterModel cluster, final NodeConfig node, final Options options)
    {
        final IpvsIptablesRenderer r = new IpvsIptablesRenderer(node, options);
        r.fillSets(cluster);
        return new Rendered(r.ipsetSave(), r.iptables());
    }

    /** The entries of each set after a sync (kube-proxy form), in ipsetInfo order, for tests and tools. */
    public static Map<String, List<Entry>> entries(final ClusterModel cluster, final NodeConfig node)
    {
        final IpvsIptablesRenderer r = new IpvsIptablesRenderer(node, Options.production());
        r.fillSets(cluster);
        final Map<String, List<Entry>> out = new LinkedHashMap<>();
        r.sets.forEach((name, set) -> out.put(name, List.copyOf(set)));
        return out;
    }

    private static boolean ipv4(final String address)
    {
        return address != null && !address.isEmpty() && address.indexOf(':') < 0;
    }

    /** apiservice.ExternallyAccessible(service) && ETP == Local (serviceport.go). */
    private static boolean externalPolicyLocal(final Service svc)
    {
        final boolean externallyAccessible = svc.type() == ServiceType.LOAD_BALANCER || svc.type() == ServiceType.NODE_PORT
            || (svc.type() == ServiceType.CLUSTER_IP && !svc.externalIPs().isEmpty());
        return externallyAccessible && svc.externalTrafficPolicy() == TrafficPolicy.LOCAL;
    }

    private void add(final String set, final Entry e)
    {
        sets.get(set).add(e);
    }

    private void fillSets(final ClusterModel cluster)
    {
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(cluster, node);
        final List<String> nodeIPs = new ArrayList<>();
        for (final String ip : node.nodeIPs())
        {
            if (ipv4(ip))
            {
                nodeIPs.add(ip);
            }
        }
        final TreeSet<Entry> bound = sets.get(IPVS_IPS);
        final int primaryNodeIP = Ipv4Address.parse(node.primaryNodeIP());
        for (final Service svc : cluster.services())
        {
            if (!svc.hasClusterIP() || !ipv4(svc.clusterIP()))
            {
                continue; // headless / other family: not in kube-proxy's svcPortMap
            }
            final boolean extLocal = externalPolicyLocal(svc);
            for (final ServicePort port : svc.ports())
            {
                final String proto = port.protocol().lowerCase();
                final int p = port.port();
                // hairpin: every local endpoint (any readiness) of the port
                for (final ServicePortEndpoints.Info ep : endpoints.all(svc, port))
                {
                    if (ep.local() && ipv4(ep.ip()) && ep.port() != 0)
                    {
                        add(LOOP_BACK, new Entry(SetType.HASH_IP_PORT_IP, ep.ip(), proto, ep.port(), ep.ip(), null));
                    }
                }
                add(CLUSTER_IP, new Entry(SetType.HASH_IP_PORT, svc.clusterIP(), proto, p, null, null));
                bound.add(new Entry(SetType.HASH_IP, svc.clusterIP(), null, 0, null, null));

                for (final String eip : svc.externalIPs())
                {
                    if (!ipv4(eip))
                    {
                        continue;
                    }
                    add(extLocal ? EXTERNAL_IP_LOCAL : EXTERNAL_IP, new Entry(SetType.HASH_IP_PORT, eip, proto, p, null, null));
                    if (!nodeIPs.contains(eip))
                    {
                        bound.add(new Entry(SetType.HASH_IP, eip, null, 0, null, null));
                    }
                }

                for (final String ingress : ServicePortEndpoints.loadBalancerIPs(svc))
                {
                    if (!ipv4(ingress))
                    {
                        continue;
                    }
                    final Entry lb = new Entry(SetType.HASH_IP_PORT, ingress, proto, p, null, null);
                    add(LOAD_BALANCER, lb);
                    if (extLocal)
                    {
                        add(LOAD_BALANCER_LOCAL, lb);
                    }
                    final List<Cidr> ranges = new ArrayList<>();
                    for (final String r : svc.loadBalancerSourceRanges())
                    {
                        final String trimmed = r.trim();
                        if (ipv4(trimmed))
                        {
                            ranges.add(Cidr.parse(trimmed));
                        }
                    }
                    if (!ranges.isEmpty())
                    {
                        add(LOAD_BALANCER_FW, lb);
                        boolean allowFromNode = false;
                        for (final Cidr cidr : ranges)
                        {
                            add(LOAD_BALANCER_SOURCE_CIDR, new Entry(SetType.HASH_IP_PORT_NET, ingress, proto, p, null, cidr));
                            allowFromNode |= cidr.contains(primaryNodeIP);
                        }
                        if (allowFromNode)
                        {
                            add(LOAD_BALANCER_SOURCE_IP, new Entry(SetType.HASH_IP_PORT_IP, ingress, proto, p, ingress, null));
                        }
                        else
                        {
                            lbNoNodeAccess.add(lb);
                        }
                    }
                    if (!nodeIPs.contains(ingress))
                    {
                        bound.add(new Entry(SetType.HASH_IP, ingress, null, 0, null, null));
                    }
                }

                final int nodePort = ServicePortEndpoints.nodePort(svc, port);
                if (nodePort != 0 && !nodeIPs.isEmpty())
                {
                    final List<Entry> entries = new ArrayList<>();
                    final String set;
                    final String localSet;
                    if (port.protocol() == Protocol.SCTP)
                    {
                        set = NODE_PORT_SCTP;
                        localSet = NODE_PORT_LOCAL_SCTP;
                        for (final String ip : nodeIPs)
                        {
                            entries.add(new Entry(SetType.HASH_IP_PORT, ip, proto, nodePort, null, null));
                        }
                    }
                    else
                    {
                        set = port.protocol() == Protocol.TCP ? NODE_PORT_TCP : NODE_PORT_UDP;
                        localSet = port.protocol() == Protocol.TCP ? NODE_PORT_LOCAL_TCP : NODE_PORT_LOCAL_UDP;
                        entries.add(new Entry(SetType.BITMAP_PORT, null, proto, nodePort, null, null));
                    }
                    entries.forEach(e -> add(set, e));
                    if (extLocal)
                    {
                        entries.forEach(e -> add(localSet, e));
                    }
                }
                // svcInfo.HealthCheckNodePort(): set only for LoadBalancer Services with externalTrafficPolicy Local
                if (svc.type() == ServiceType.LOAD_BALANCER && svc.externalTrafficPolicy() == TrafficPolicy.LOCAL
                    && svc.healthCheckNodePort() != 0)
                {
                    add(HEALTH_CHECK_NODE_PORT, new Entry(SetType.BITMAP_PORT, null, "tcp", svc.healthCheckNodePort(), null, null));
                }
            }
        }
    }

    private String ipsetSave()
    {
        final StringBuilder sb = new StringBuilder();
        for (final SetInfo info : SETS)
        {
            sb.append("create ").append(info.name()).append(' ').append(info.type().text());
            if (info.type() == SetType.BITMAP_PORT)
            {
                sb.append(" range 0-65535");
            }
            else
            {
                sb.append(" family inet hashsize 1024 maxelem 65536").append(options.hashCreateSuffix());
            }
            sb.append('\n');
            for (final Entry e : sets.get(info.name()))
            {
                sb.append("add ").append(info.name()).append(' ').append(e.saveForm()).append('\n');
            }
        }
        return sb.toString();
    }

    private static String comment(final String set)
    {
        for (final SetInfo info : SETS)
        {
            if (info.name().equals(set))
            {
                return "\"" + info.comment() + "\"";
            }
        }
        throw new IllegalArgumentException(set);
    }

    private boolean empty(final String set)
    {
        return sets.get(set).isEmpty();
    }

    private String iptables()
    {
        final StringBuilder natChains = new StringBuilder("*nat\n");
        final StringBuilder natRules = new StringBuilder();
        final StringBuilder filterChains = new StringBuilder("*filter\n");
        final StringBuilder filterRules = new StringBuilder();
        for (final String c : new String[]{SERVICES, POSTROUTING, NODE_PORT, LOAD_BALANCER_CHAIN, MARK_MASQ})
        {
            natChains.append(':').append(c).append(" - [0:0]\n");
        }
        for (final String c : new String[]{FORWARD, NODE_PORT, PROXY_FIREWALL, SOURCE_RANGES_FIREWALL, IPVS_FILTER,
            IPVS_OUT_FILTER})
        {
            filterChains.append(':').append(c).append(" - [0:0]\n");
        }

        line(natRules, "-A " + SERVICES + " -s 127.0.0.0/8 -j RETURN");
        for (final SetJump j : SET_JUMPS)
        {
            if (empty(j.set()))
            {
                continue;
            }
            final String rule = "-A " + j.from() + (j.protocol().isEmpty() ? "" : " -p " + j.protocol())
                + " -m comment --comment " + comment(j.set()) + " -m set --match-set " + j.set() + " " + j.matchType()
                + " -j " + j.to();
            line(j.filter() ? filterRules : natRules, rule);
        }
        if (!empty(CLUSTER_IP))
        {
            final String args = "-A " + SERVICES + " -m comment --comment " + comment(CLUSTER_IP) + " -m set --match-set "
                + CLUSTER_IP;
            final String cidr = node.clusterCIDR();
            if (node.masqueradeAll())
            {
                line(natRules, args + " dst,dst -j " + MARK_MASQ);
            }
            else if (cidr != null && !cidr.isEmpty())
            {
                line(natRules, args + " dst,dst ! -s " + cidr + " -j " + MARK_MASQ);
            }
            else
            {
                line(natRules, args + " src,dst -j " + MARK_MASQ);
            }
        }
        if (!empty(EXTERNAL_IP))
        {
            final String args = "-A " + SERVICES + " -m comment --comment " + comment(EXTERNAL_IP)
                + " -m set --match-set " + EXTERNAL_IP + " dst,dst";
            line(natRules, args + " -j " + MARK_MASQ);
            externalIPRules(natRules, args);
        }
        if (!empty(EXTERNAL_IP_LOCAL))
        {
            externalIPRules(natRules, "-A " + SERVICES + " -m comment --comment " + comment(EXTERNAL_IP_LOCAL)
                + " -m set --match-set " + EXTERNAL_IP_LOCAL + " dst,dst");
        }
        line(natRules, "-A " + SERVICES + " -m addrtype --dst-type LOCAL -j " + NODE_PORT);
        line(natRules, "-A " + LOAD_BALANCER_CHAIN + " -j " + MARK_MASQ);
        line(filterRules, "-A " + SOURCE_RANGES_FIREWALL + " -j DROP");
        for (final Entry e : lbNoNodeAccess)
        {
            line(filterRules, "-A " + IPVS_OUT_FILTER + " -s " + e.ip() + " -m ipvs --vaddr " + e.ip() + " --vproto "
                + e.protocol() + " --vport " + e.port() + " -j DROP");
        }
        // acceptIPVSTraffic
        for (final String set : new String[]{CLUSTER_IP, LOAD_BALANCER})
        {
            if (!empty(set))
            {
                line(natRules, "-A " + SERVICES + " -m set --match-set " + set + " dst,dst -j ACCEPT");
            }
        }
        final String mark = options.masqueradeMark();
        line(filterRules, "-A " + FORWARD + " -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
            + mark + "/" + mark + " -j ACCEPT");
        line(filterRules, "-A " + FORWARD + " -m comment --comment \"kubernetes forwarding conntrack rule\" "
            + "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        line(filterRules, "-A " + NODE_PORT + " -m comment --comment " + comment(HEALTH_CHECK_NODE_PORT)
            + " -m set --match-set " + HEALTH_CHECK_NODE_PORT + " dst -j ACCEPT");
        line(filterRules, "-A " + IPVS_FILTER + " -m set --match-set " + LOAD_BALANCER + " dst,dst -j RETURN");
        line(filterRules, "-A " + IPVS_FILTER + " -m set --match-set " + CLUSTER_IP + " dst,dst -j RETURN");
        line(filterRules, "-A " + IPVS_FILTER + " -m set --match-set " + EXTERNAL_IP + " dst,dst -j RETURN");
        line(filterRules, "-A " + IPVS_FILTER + " -m set --match-set " + EXTERNAL_IP_LOCAL + " dst,dst -j RETURN");
        line(filterRules, "-A " + IPVS_FILTER + " -m set --match-set " + HEALTH_CHECK_NODE_PORT + " dst -j RETURN");
        line(filterRules, "-A " + IPVS_FILTER + " -m conntrack --ctstate NEW -m set --match-set " + IPVS_IPS
            + " dst -j REJECT");

        line(natRules, "-A " + POSTROUTING + " -m mark ! --mark " + mark + "/" + mark + " -j RETURN");
        line(natRules, "-A " + POSTROUTING + " -j MARK --xor-mark " + mark);
        line(natRules, "-A " + POSTROUTING + " -m comment --comment \"kubernetes service traffic requiring SNAT\" "
            + "-j MASQUERADE" + (options.randomFully() ? " --random-fully" : ""));
        line(natRules, "-A " + MARK_MASQ + " -j MARK --or-mark " + mark);
        line(filterRules, "COMMIT");
        line(natRules, "COMMIT");
        return natChains.toString() + natRules + filterChains + filterRules;
    }

    /** The closure externalIPRules of writeIptablesRules. */
    private static void externalIPRules(final StringBuilder natRules, final String args)
    {
        line(natRules, args + " -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT");
        line(natRules, args + " -m addrtype --dst-type LOCAL -j ACCEPT");
    }

    private static void line(final StringBuilder sb, final String text)
    {
        sb.append(text).append('\n');
    }
}
