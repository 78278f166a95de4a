package io.dpbench.vxlan;

/**
 * How much of an encapsulated frame the vxlan device writes, by what it hands its frames to. The overlay's decisions
 * (MTU, fragmentation, ICMP errors) are the same either way: on the underlay the frame always carries
 * {@link VxlanConfig#OVERHEAD} bytes of outer headers, whoever writes them.
 */
public enum Encapsulation
{
    /**
     * The whole outer frame (Ethernet, IPv4, UDP, VXLAN) before the inner frame, as the kernel's vxlan device hands it
     * to the underlay's NIC: what a replay writes to its pcap.
     */
    FRAME,
    /**
     * The UDP payload only: the VXLAN header before the inner frame, as a userspace VTEP hands it to its UDP socket
     * (wire mode), whose kernel writes the outer IPv4 and UDP headers itself and picks the source port. Outer headers
     * written here would only be cut off; {@link VxlanConfig#udpChecksum} and the source port's flow hash have nothing
     * to go into.
     */
    UDP_PAYLOAD
}
