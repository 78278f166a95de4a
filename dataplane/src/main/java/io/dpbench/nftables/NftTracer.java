package io.dpbench.nftables;

import io.dpbench.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Walks one packet through an nftables ruleset for {@code trace}, following every value of every
 * {@code numgen random mod N} (as kube-proxy's test tracer collects every endpoint), and reports each way through:
 * the rules that decided something, chain by chain, and the outcome. A control-plane tool: it allocates freely.
 */
public final class NftTracer
{
    public static final int MAX_BRANCHES = 100_000;

    private NftTracer()
    {
    }

    /** One way through; {@code probability} is the product of the numgen choices taken. */
    public record Branch(String verdict, String destination, boolean masquerade, List<String> path, double probability)
    {
    }

    /**
     * Everything that can happen to the packet, in the shape of iptables mode's trace.
     *
     * @param verdict      DNAT, ACCEPT, DROP or REJECT; when branches differ, the first of DROP, REJECT, DNAT, ACCEPT
     *                     that some branch reaches
     * @param destinations sorted, distinct ip:port after NAT (the original destination for ACCEPT; none for DROP and
     *                     REJECT)
     * @param masquerade   true when any branch masquerades
     * @param path         every rule that decided something on some branch, first seen first, as "CHAIN n: rule ->
     *                     outcome"
     */
    public record Result(String verdict, List<String> destinations, boolean masquerade, List<String> path,
        List<Branch> branches, boolean locallyOriginated, boolean truncated)
    {
    }

    public static Result trace(final NftProgram program, final List<String> nodeIPs, final int protocol,
        final int source, final int sourcePort, final int destination, final int destinationPort, final int maxBranches)
    {
        final List<Branch> branches = new ArrayList<>();
        final List<Integer> script = new ArrayList<>();
        final List<Integer> moduli = new ArrayList<>();
        final NftPacket p = new NftPacket();
        boolean truncated = false;
        boolean local = false;
        while (true)
        {
            final List<String> path = new ArrayList<>();
            final int[] taken = {0};
            final double[] probability = {1.0};
            moduli.clear();
            // a fresh engine per branch: affinity sets must not leak from one branch into another
            final NftEngine engine = new NftEngine(program.copy(), nodeIPs, 1)
                .listener((chain, index, text, outcome) -> path.add(chain + " " + index + ": " + text
                    + (outcome.isEmpty() ? "" : " -> " + outcome)))
                .chooser(modulus ->
                {
                    final int k = taken[0]++;
                    moduli.add(modulus);
                    probability[0] /= modulus;
                    return k < script.size() ? script.get(k) : 0;
                });
            p.reset(protocol, source, sourcePort, destination, destinationPort);
            engine.classify(p);
            local = p.locallyOriginated;
            while (script.size() > moduli.size())
            {
                script.remove(script.size() - 1);
            }
            while (script.size() < moduli.size())
            {
                script.add(0);
            }
            final String verdict = p.verdict == NftEngine.DROP ? "DROP" : p.verdict == NftEngine.REJECT ? "REJECT"
                : p.dnat ? "DNAT" : "ACCEPT";
            final String dest = p.verdict != NftEngine.ACCEPT ? null
                : Ipv4Address.toString(p.dnat ? p.dnatAddress : destination) + ":"
                    + (p.dnat && p.dnatPort >= 0 ? p.dnatPort : destinationPort);
            branches.add(new Branch(verdict, dest, p.masquerade, path, probability[0]));
            // the next script: advance the last choice that has values left (depth-first over every numgen)
            int k = script.size() - 1;
            while (k >= 0 && script.get(k) + 1 >= moduli.get(k))
            {
                k--;
            }
            if (k < 0)
            {
                break;
            }
            if (branches.size() >= maxBranches)
            {
                truncated = true;
                break;
            }
            script.set(k, script.get(k) + 1);
            while (script.size() > k + 1)
            {
                script.remove(script.size() - 1);
            }
        }
        String verdict = "ACCEPT";
        for (final String v : new String[] {"DNAT", "REJECT", "DROP"})
        {
            for (final Branch b : branches)
            {
                if (b.verdict().equals(v))
                {
                    verdict = v;
                }
            }
        }
        final Set<String> destinations = new TreeSet<>();
        final Set<String> path = new LinkedHashSet<>();
        boolean masquerade = false;
        for (final Branch b : branches)
        {
            if (b.destination() != null)
            {
                destinations.add(b.destination());
            }
            path.addAll(b.path());
            masquerade |= b.masquerade();
        }
        return new Result(verdict, new ArrayList<>(destinations), masquerade, new ArrayList<>(path), branches, local,
            truncated);
    }
}
