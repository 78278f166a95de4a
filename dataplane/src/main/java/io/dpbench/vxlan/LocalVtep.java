package io.dpbench.vxlan;

/**
 * This node's side of the overlay.
 *
 * @param address        the underlay address, outer IPv4 source ({@code ip link add ... local IP})
 * @param underlayMac    the underlay interface's MAC, outer Ethernet source
 * @param vtepMac        the vxlan device's MAC (flannel.1), source of encapsulated inner frames
 * @param gatewayAddress the node's address on the pod network (flannel's cni0 bridge, e.g. 10.244.0.1): the source
 *                       of the ICMP errors the node sends to its pods
 */
public record LocalVtep(int address, long underlayMac, long vtepMac, int gatewayAddress)
{
}
