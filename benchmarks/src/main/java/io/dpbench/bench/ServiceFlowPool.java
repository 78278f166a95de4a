package io.dpbench.bench;

import io.dpbench.packet.Ipv4Address;

import java.util.SplittableRandom;

/**
 * The new flows every "cost per new flow vs N Services" benchmark walks, so that iptables and IPVS mode see the same
 * input: {@value #SIZE} flows from random pods (10.244.0.0/16, random source ports in Linux's ephemeral range) to
 * uniformly random Services among N (ClusterIPs from 10.96.0.1), port 80, from a fixed seed.
 */
public final class ServiceFlowPool
{
    public static final int SIZE = 4096;
    public static final int MASK = SIZE - 1;

    public final int[] source = new int[SIZE];
    public final int[] sourcePort = new int[SIZE];
    public final int[] destination = new int[SIZE];

    public ServiceFlowPool(final int services)
    {
        final SplittableRandom random = new SplittableRandom(7);
        final int podBase = Ipv4Address.parse("10.244.0.0");
        final int serviceBase = Ipv4Address.parse("10.96.0.1");
        for (int i = 0; i < SIZE; i++)
        {
            source[i] = podBase + random.nextInt(1 << 16);
            sourcePort[i] = 32768 + random.nextInt(28232);
            destination[i] = serviceBase + random.nextInt(services);
        }
    }
}
