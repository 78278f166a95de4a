package io.dpbench.model;

import java.util.Comparator;

/**
 * kube-proxy's key of a service port (pkg/proxy ServicePortName): the Service's namespace and name, the port's name
 * and its protocol. The protocol is part of the key, not of the printed form: {@link #toString} prints
 * {@code namespace/name:port} ({@code namespace/name} for an unnamed port), as kube-proxy's String() does.
 */
public record ServicePortName(String namespace, String name, String port, Protocol protocol)
    implements Comparable<ServicePortName>
{
    private static final Comparator<ServicePortName> ORDER = Comparator.comparing(ServicePortName::namespace)
        .thenComparing(ServicePortName::name).thenComparing(ServicePortName::port)
        .thenComparing(ServicePortName::protocol);

    public static ServicePortName of(final Service service, final ServicePort port)
    {
        return new ServicePortName(service.namespace(), service.name(), port.name(), port.protocol());
    }

    /** {@code namespace/name}: the Service this port belongs to. */
    public String namespacedName()
    {
        return namespace + "/" + name;
    }

    @Override
    public int compareTo(final ServicePortName other)
    {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString()
    {
        return namespacedName() + (port.isEmpty() ? "" : ":" + port);
    }
}
