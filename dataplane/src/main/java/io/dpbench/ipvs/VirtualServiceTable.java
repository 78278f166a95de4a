package io.dpbench.ipvs;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The virtual services of a node, keyed by (protocol, address, port) packed into a long: one hash lookup per new
 * flow, whatever the number of Services (IPVS's ip_vs_service_find). Agrona's open-addressing map: no boxing on
 * lookup. Owned by one thread; changes are incremental (add/remove a service, or change one service's servers).
 */
public final class VirtualServiceTable
{
    private final Long2ObjectHashMap<VirtualService> services = new Long2ObjectHashMap<>();

    /** Adds or replaces the service with the same key; returns the one replaced, or null. */
    public VirtualService put(final VirtualService service)
    {
        return services.put(service.key(), service);
    }

    public VirtualService remove(final int protocol, final int address, final int port)
    {
        return services.remove(VirtualService.key(protocol, address, port));
    }

    public VirtualService find(final int protocol, final int address, final int port)
    {
        return services.get(VirtualService.key(protocol, address, port));
    }

    public int size()
    {
        return services.size();
    }

    /** Snapshot of all services (control plane: rendering, reports). */
    public List<VirtualService> all()
    {
        return new ArrayList<>(services.values());
    }
}
