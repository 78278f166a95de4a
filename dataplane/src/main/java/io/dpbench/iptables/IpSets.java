package io.dpbench.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * Named sets for {@code -m set --match-set}: each a list of entries of CIDR and optional protocol/port, the hash:ip,
 * hash:ip,port and hash:net types kube-proxy's IPVS mode uses. Empty by default (every set then matches nothing);
 * the IPVS mode fills it from its {@code ipset save} text. Immutable once built.
 */
public final class IpSets
{
    public static final IpSets EMPTY = new IpSets(List.of());

    /** One set: entries as parallel arrays; port -1 = no port component. */
    public record Set(String name, int[] networks, int[] masks, int[] protocols, int[] ports)
    {
        boolean contains(final int address, final int protocol, final int port)
        {
            for (int i = 0; i < networks.length; i++)
            {
                if ((address & masks[i]) == networks[i] && (ports[i] < 0 || (ports[i] == port && protocols[i] == protocol)))
                {
                    return true;
                }
            }
            return false;
        }
    }

    private final List<Set> sets;

    public IpSets(final List<Set> sets)
    {
        this.sets = new ArrayList<>(sets);
    }

    int indexOf(final String name)
    {
        for (int i = 0; i < sets.size(); i++)
        {
            if (sets.get(i).name().equals(name))
            {
                return i;
            }
        }
        return -1;
    }

    Set get(final int index)
    {
        return sets.get(index);
    }
}
