package io.dpbench.iptables;

import io.dpbench.model.RuleParseException;

/**
 * What a node's iptables hold besides kube-proxy's restore text: the built-in chains, the jump rules kube-proxy
 * installs with separate {@code iptables -I} calls ({@code iptablesJumpChains} in proxier.go, each inserted at the
 * top, so their final order is the reverse of that list; kubelet's KUBE-FIREWALL jumps, created before kube-proxy
 * starts, stay last) and the empty KUBE-PROXY-CANARY chains it watches. Together with the restore text this is
 * what {@code iptables-save} prints on a node, and what {@code trace} needs to start at PREROUTING or OUTPUT.
 */
public final class NodeRules
{
    /** Restore text that sets up the built-in chains and kube-proxy's (and kubelet's) jumps into its chains. */
    public static final String JUMPS = String.join("\n",
        "*mangle",
        ":KUBE-PROXY-CANARY - [0:0]",
        "COMMIT",
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":KUBE-EXTERNAL-SERVICES - [0:0]",
        ":KUBE-FIREWALL - [0:0]",
        ":KUBE-FORWARD - [0:0]",
        ":KUBE-NODEPORTS - [0:0]",
        ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-PROXY-FIREWALL - [0:0]",
        ":KUBE-SERVICES - [0:0]",
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
        "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS",
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES",
        "-A INPUT -j KUBE-FIREWALL",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
        "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES",
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A OUTPUT -j KUBE-FIREWALL",
        "COMMIT",
        "*nat",
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        ":KUBE-POSTROUTING - [0:0]",
        ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-SERVICES - [0:0]",
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
        "COMMIT",
        "");

    private NodeRules()
    {
    }

    /** The node's whole rule set: jumps first, then kube-proxy's restore text (chains it declares are refilled). */
    public static RuleSet assemble(final String restoreText, final String source) throws RuleParseException
    {
        return IptablesSaveParser.parse(JUMPS + restoreText, source);
    }
}
