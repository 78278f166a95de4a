package io.dpbench.model;

import java.util.List;

/**
 * An EndpointSlice (discovery.k8s.io/v1) of an IPv4 Service.
 *
 * @param serviceName the kubernetes.io/service-name label: which Service (in {@code namespace}) it belongs to
 * @param endpoints   one entry per address (a multi-address endpoint is split, as kube-proxy uses the first only)
 * @param ports       the slice's ports: name (matches a Service port name), protocol, number
 */
public record EndpointSlice(String namespace, String name, String serviceName, List<Endpoint> endpoints,
    List<EndpointPort> ports)
{
    public EndpointSlice
    {
        KubernetesNames.requireSafe("EndpointSlice namespace", namespace);
        KubernetesNames.requireSafe("EndpointSlice name", name);
        KubernetesNames.requireSafe("kubernetes.io/service-name", serviceName);
        endpoints = List.copyOf(endpoints);
        ports = List.copyOf(ports);
    }

    public record EndpointPort(String name, Protocol protocol, int port)
    {
        public EndpointPort
        {
            KubernetesNames.requireSafe("EndpointSlice port name", name);
        }
    }
}
