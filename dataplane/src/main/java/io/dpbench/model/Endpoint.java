package io.dpbench.model;

/**
 * One endpoint address of an EndpointSlice, with its conditions.
 *
 * @param address     the pod IP
 * @param ready       conditions.ready (a missing condition counts as true, as the API says)
 * @param serving     conditions.serving (missing: same as ready)
 * @param terminating conditions.terminating (missing: false)
 * @param nodeName    the node the endpoint runs on, or ""
 */
public record Endpoint(String address, boolean ready, boolean serving, boolean terminating, String nodeName)
{
}
