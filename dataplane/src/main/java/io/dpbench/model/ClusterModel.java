package io.dpbench.model;

import java.util.List;

/** Services and EndpointSlices: the one model every backend (iptables, IPVS) renders from. */
public record ClusterModel(List<Service> services, List<EndpointSlice> endpointSlices)
{
    public ClusterModel
    {
        services = List.copyOf(services);
        endpointSlices = List.copyOf(endpointSlices);
    }
}
