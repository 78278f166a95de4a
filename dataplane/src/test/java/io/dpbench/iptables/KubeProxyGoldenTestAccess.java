package io.dpbench.iptables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;

import java.util.ArrayList;
import java.util.List;

/** Test fixtures of this package for other packages' tests (the IPVS mode runs the same stories). */
public final class KubeProxyGoldenTestAccess
{
    private KubeProxyGoldenTestAccess()
    {
    }

    public static ClusterModel overallCluster()
    {
        return KubeProxyGoldenTest.overallCluster();
    }

    public static NodeConfig testNode()
    {
        return KubeProxyGoldenTest.TEST_NODE;
    }

    /** The same cluster with ClientIP affinity (timeout seconds) on every Service. */
    public static ClusterModel withAffinity(final ClusterModel cluster, final int timeoutSeconds)
    {
        final List<Service> services = new ArrayList<>();
        for (final Service s : cluster.services())
        {
            services.add(new Service(s.namespace(), s.name(), s.type(), s.clusterIP(), s.externalIPs(),
                s.loadBalancerIngressIPs(), s.loadBalancerSourceRanges(), s.ports(), s.externalTrafficPolicy(),
                s.internalTrafficPolicy(), true, timeoutSeconds, s.healthCheckNodePort()));
        }
        return new ClusterModel(services, cluster.endpointSlices());
    }
}
