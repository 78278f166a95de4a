package io.dpbench.vxlan;

/**
 * Another node's VTEP as flannel programs it: the FDB entry (VTEP MAC to node address) and the neighbour entry of
 * the remote pod network's gateway (its ".0" address to the VTEP MAC).
 *
 * @param address     the remote node's underlay address, outer IPv4 destination
 * @param underlayMac the underlay next hop's MAC (the remote node on a shared L2), outer Ethernet destination
 * @param vtepMac     the remote vxlan device's MAC, destination of encapsulated inner frames
 */
public record RemoteVtep(int address, long underlayMac, long vtepMac)
{
}
