package io.dpbench.model;

/** Kubernetes Service types that kube-proxy programs (ExternalName Services get no rules and are skipped on load). */
public enum ServiceType
{
    CLUSTER_IP("ClusterIP"), NODE_PORT("NodePort"), LOAD_BALANCER("LoadBalancer");

    private final String apiName;

    ServiceType(final String apiName)
    {
        this.apiName = apiName;
    }

    public String apiName()
    {
        return apiName;
    }

    public static ServiceType parse(final String apiName)
    {
        for (final ServiceType t : values())
        {
            if (t.apiName.equals(apiName))
            {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown Service type '" + apiName + "' (ClusterIP, NodePort, LoadBalancer)");
    }
}
