package io.dpbench.vxlan;

import io.dpbench.packet.VxlanFlyweight;

/**
 * The settings of a flannel-style vxlan device, as {@code ip -d link show flannel.1} shows them on a node:
 * {@code vxlan id 1 ... srcport 0 0 dstport 8472 nolearning ttl auto ... udpcsum}. Measured on this project's kernel
 * (6.18): the outer IPv4 header has TTL 64 ("ttl auto" is the route's default hop limit), DF clear, DSCP 0 with the
 * inner ECN bits; the outer UDP checksum is computed ("udpcsum", the default); "srcport 0 0" means the kernel's local
 * port range, 32768-60999; the device MTU is the underlay's minus 50.
 *
 * @param vni                 VXLAN network identifier (flannel: 1)
 * @param destinationPort     outer UDP destination port (Linux and flannel: 8472; IANA: 4789)
 * @param udpChecksum         compute the outer UDP checksum (false: send 0, iproute2's {@code noudpcsum})
 * @param underlayMtu         the underlay interface's MTU; the overlay's is 50 less
 * @param ttl                 outer TTL
 * @param sourcePortMin       lowest outer UDP source port
 * @param sourcePortMax       the range's upper bound (the kernel's {@code ip_local_port_range} high end, 60999)
 */
public record VxlanConfig(int vni, int destinationPort, boolean udpChecksum, int underlayMtu, int ttl,
    int sourcePortMin, int sourcePortMax)
{
    /** Outer Ethernet + IPv4 + UDP + VXLAN: what encapsulation adds to an inner frame. */
    public static final int OVERHEAD = 14 + 20 + 8 + 8;

    public VxlanConfig
    {
        if (vni < 0 || vni > VxlanFlyweight.MAX_VNI)
        {
            throw new IllegalArgumentException("VNI " + vni + " outside 0.." + VxlanFlyweight.MAX_VNI);
        }
        if (destinationPort < 1 || destinationPort > 65535)
        {
            throw new IllegalArgumentException("destination port " + destinationPort + " outside 1..65535");
        }
        if (underlayMtu < 68 + OVERHEAD || underlayMtu > 65535)
        {
            throw new IllegalArgumentException("underlay MTU " + underlayMtu + " outside " + (68 + OVERHEAD) + "..65535");
        }
        if (ttl < 1 || ttl > 255)
        {
            throw new IllegalArgumentException("TTL " + ttl + " outside 1..255");
        }
        if (sourcePortMin < 1 || sourcePortMax > 65535 || sourcePortMin >= sourcePortMax)
        {
            throw new IllegalArgumentException("source port range " + sourcePortMin + "-" + sourcePortMax + " is empty or invalid");
        }
    }

    /** flannel's device: VNI 1, port 8472, UDP checksum on, underlay MTU 1500, TTL 64, ports 32768-60999. */
    public static VxlanConfig flannel()
    {
        return new VxlanConfig(1, VxlanFlyweight.LINUX_DEFAULT_PORT, true, 1500, 64, 32768, 60999);
    }

    public VxlanConfig withVni(final int newVni)
    {
        return new VxlanConfig(newVni, destinationPort, udpChecksum, underlayMtu, ttl, sourcePortMin, sourcePortMax);
    }

    public VxlanConfig withDestinationPort(final int port)
    {
        return new VxlanConfig(vni, port, udpChecksum, underlayMtu, ttl, sourcePortMin, sourcePortMax);
    }

    public VxlanConfig withUdpChecksum(final boolean on)
    {
        return new VxlanConfig(vni, destinationPort, on, underlayMtu, ttl, sourcePortMin, sourcePortMax);
    }

    public VxlanConfig withUnderlayMtu(final int mtu)
    {
        return new VxlanConfig(vni, destinationPort, udpChecksum, mtu, ttl, sourcePortMin, sourcePortMax);
    }

    /** The vxlan device's MTU: the largest inner IPv4 packet that leaves without fragmentation. */
    public int overlayMtu()
    {
        return underlayMtu - OVERHEAD;
    }
}
