package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code trace --mode ipvs}: what IPVS does with a packet (the virtual service it hits, the real servers it may
 * get), and with {@code flows} new flows from the same client (source port incremented per flow) how the scheduler
 * spreads them. Control-plane tool; allocates freely.
 */
public final class IpvsTracer
{
    private IpvsTracer()
    {
    }

    /** @param counts per "ip:port", flows scheduled there (when flows > 0) */
    public record Result(String verdict, List<String> destinations, boolean masquerade, List<String> path,
        Map<String, Integer> counts)
    {
    }

    private static final java.util.Set<String> HASHING = java.util.Set.of("sh", "dh", "mh");

    public static Result trace(final IpvsProxier proxier, final int protocol, final int source, final int sourcePort,
        final int destination, final int destinationPort, final int flows)
    {
        final IpvsClassifier classifier = new IpvsClassifier(proxier);
        final IpvsFlow f = new IpvsFlow();
        f.reset(protocol, source, sourcePort, destination, destinationPort);
        classifier.classifyNewFlow(f);
        final List<String> path = new ArrayList<>();
        final VirtualService vs = f.service();
        final TreeSet<String> destinations = new TreeSet<>();
        if (vs != null)
        {
            path.add("ipvs " + IpvsadmFormat.render(List.of(vs), SchedulerFlags.NONE).lines().findFirst().orElse(""));
            if (f.verdict == IpvsFlow.DNAT)
            {
                if (HASHING.contains(vs.scheduler().name()) || vs.persistenceSeconds() > 0)
                {
                    destinations.add(hostPort(f.server()));
                }
                else
                {
                    for (int i = 0; i < vs.destinationCount(); i++)
                    {
                        if (!vs.destination(i).unavailable())
                        {
                            destinations.add(hostPort(vs.destination(i)));
                        }
                    }
                }
                path.add("ipvs server " + hostPort(f.server()) + " (" + vs.scheduler().name() + ")");
            }
        }
        else
        {
            destinations.add(Ipv4Address.toString(destination) + ":" + destinationPort);
        }
        final int verdict = f.verdict;
        final boolean masquerade = f.masquerade;
        final Map<String, Integer> counts = new TreeMap<>();
        for (int k = 0; k < flows; k++)
        {
            f.reset(protocol, source, (sourcePort + k) & 0xFFFF, destination, destinationPort);
            f.nowNanos = k;
            classifier.classifyNewFlow(f);
            final String key = f.verdict == IpvsFlow.DNAT ? hostPort(f.server()) : IpvsFlow.verdictName(f.verdict);
            counts.merge(key, 1, Integer::sum);
            if (f.server() != null)
            {
                f.server().connectionStarted(); // the flows stay open, as lc/wlc/sed/nq expect to see
            }
        }
        return new Result(IpvsFlow.verdictName(verdict),
            verdict == IpvsFlow.DROP || verdict == IpvsFlow.REJECT ? List.of() : List.copyOf(destinations),
            masquerade, path, counts);
    }

    static String hostPort(final RealServer rs)
    {
        return Ipv4Address.toString(rs.address()) + ":" + rs.port();
    }
}
