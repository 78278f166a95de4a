package io.dpbench.model;

/** externalTrafficPolicy / internalTrafficPolicy. */
public enum TrafficPolicy
{
    CLUSTER("Cluster"), LOCAL("Local");

    private final String apiName;

    TrafficPolicy(final String apiName)
    {
        this.apiName = apiName;
    }

    public String apiName()
    {
        return apiName;
    }

    public static TrafficPolicy parse(final String apiName)
    {
        for (final TrafficPolicy t : values())
        {
            if (t.apiName.equals(apiName))
            {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown traffic policy '" + apiName + "' (Cluster or Local)");
    }
}
