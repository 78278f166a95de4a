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
        this(services, 0);
    }

    /**
     * Flows to {@code hot} Services picked at random among the N (all N when {@code hot} is 0 or not below N): the
     * same table of N Services with a working set of {@code hot}, to tell the cost of a table's size from the cost of
     * the cache misses of touching many Services.
     */
    public ServiceFlowPool(final int services, final int hot)
    {
        final SplittableRandom random = new SplittableRandom(7);
        final int podBase = Ipv4Address.parse("10.244.0.0");
        final int serviceBase = Ipv4Address.parse("10.96.0.1");
        final int[] targets = new int[hot > 0 && hot < services ? hot : 0];
        final SplittableRandom pick = new SplittableRandom(13);
        for (int i = 0; i < targets.length; i++)
        {
            targets[i] = pick.nextInt(services);
        }
        for (int i = 0; i < SIZE; i++)
        {
            source[i] = podBase + random.nextInt(1 << 16);
            sourcePort[i] = 32768 + random.nextInt(28232);
            final int service = targets.length > 0 ? targets[random.nextInt(targets.length)] : random.nextInt(services);
            destination[i] = serviceBase + service;
        }
    }
}
