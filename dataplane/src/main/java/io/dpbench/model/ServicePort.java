package io.dpbench.model;

/**
 * One port of a Service.
 *
 * @param name       port name ("" when the Service has a single unnamed port)
 * @param protocol   TCP, UDP or SCTP
 * @param port       the Service port (on the cluster IP, external IPs and load-balancer IPs)
 * @param targetPort the container port, a number or a named port ("" = same as port); endpoints carry the resolved
 *                   number, so the dataplane never reads this
 * @param nodePort   the node port, or 0 when there is none
 */
public record ServicePort(String name, Protocol protocol, int port, String targetPort, int nodePort)
{
    public ServicePort
    {
        KubernetesNames.requireSafe("port name", name);
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port " + port + " outside 1..65535");
        }
        if (nodePort < 0 || nodePort > 65535)
        {
            throw new IllegalArgumentException("nodePort " + nodePort + " outside 0..65535");
        }
    }
}
