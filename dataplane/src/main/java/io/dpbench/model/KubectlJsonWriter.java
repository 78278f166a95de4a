package io.dpbench.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a {@link ClusterModel} as {@code kubectl get services,endpointslices -A -o json} prints it: one {@code List}
 * of the Services (v1) then the EndpointSlices (discovery.k8s.io/v1), in the model's order, keys sorted as kubectl's, with what
 * {@link KubectlJsonLoader} reads back into the same model. So that a node ({@code dpbench run --cluster FILE}) can
 * run a cluster built in code, e.g. the synthetic cluster a load generator drives.
 * <p>
 * Services: type, clusterIP and clusterIPs (omitted when the model has none), ipFamilies IPv4, ports (name when it
 * has one, protocol, port, targetPort as a number or a port name, nodePort when there is one), externalIPs,
 * loadBalancerSourceRanges, sessionAffinity (with sessionAffinityConfig.clientIP.timeoutSeconds under ClientIP, as
 * the API server allows it only there), externalTrafficPolicy (NodePort and LoadBalancer Services, as the API server
 * clears it on the others; also any other Service whose model says Local), internalTrafficPolicy, healthCheckNodePort
 * when not 0, and status.loadBalancer.ingress's IPs. EndpointSlices: the {@code kubernetes.io/service-name} label
 * (and the controller's managed-by label), addressType IPv4, each endpoint's address, its ready, serving and
 * terminating conditions and its nodeName, and the ports. What the model does not hold (UIDs, resource versions,
 * timestamps, zones, targetRefs) is not written. A model the API server would refuse is written as it is.
 */
public final class KubectlJsonWriter
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** kubectl's layout: four spaces a level, one array element a line, "key": value, empty objects as {}. */
    private static final DefaultPrettyPrinter KUBECTL_LAYOUT = kubectlLayout();

    private static DefaultPrettyPrinter kubectlLayout()
    {
        final DefaultIndenter indenter = new DefaultIndenter("    ", "\n");
        final DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
            .withObjectFieldValueSpacing(Separators.Spacing.AFTER).withObjectEmptySeparator("")
            .withArrayEmptySeparator(""));
        printer.indentObjectsWith(indenter);
        printer.indentArraysWith(indenter);
        return printer;
    }

    private KubectlJsonWriter()
    {
    }

    /** The model as kubectl's JSON (pretty-printed, a newline at the end). */
    public static String write(final ClusterModel model)
    {
        final ObjectNode list = MAPPER.createObjectNode();
        list.put("apiVersion", "v1");
        final ArrayNode items = list.putArray("items");
        for (final Service service : model.services())
        {
            items.add(service(service));
        }
        for (final EndpointSlice slice : model.endpointSlices())
        {
            items.add(slice(slice));
        }
        list.put("kind", "List");
        list.putObject("metadata").put("resourceVersion", "");
        try
        {
            return MAPPER.writer(KUBECTL_LAYOUT).writeValueAsString(list) + "\n";
        }
        catch (final JsonProcessingException ex)
        {
            throw new UncheckedIOException(ex); // a tree of plain nodes always serializes
        }
    }

    /**
     * Write the model to {@code file} atomically: into a temporary file beside it, then renamed over it, so that a
     * reader (a node watching the file) sees the old content or the new, never part of it.
     */
    public static void write(final ClusterModel model, final Path file) throws IOException
    {
        final Path target = file.toAbsolutePath();
        final Path temporary = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
        try
        {
            Files.writeString(temporary, write(model), StandardCharsets.UTF_8);
            try
            {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (final AtomicMoveNotSupportedException ex)
            {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        finally
        {
            Files.deleteIfExists(temporary);
        }
    }

    private static ObjectNode service(final Service s)
    {
        final ObjectNode item = MAPPER.createObjectNode();
        item.put("apiVersion", "v1");
        item.put("kind", "Service");
        metadata(item, s.namespace(), s.name(), null);
        final ObjectNode spec = item.putObject("spec");
        if (!s.clusterIP().isEmpty())
        {
            spec.put("clusterIP", s.clusterIP());
            spec.putArray("clusterIPs").add(s.clusterIP());
        }
        if (!s.externalIPs().isEmpty())
        {
            final ArrayNode external = spec.putArray("externalIPs");
            s.externalIPs().forEach(external::add);
        }
        if (s.externalTrafficPolicy() != TrafficPolicy.CLUSTER || s.type() != ServiceType.CLUSTER_IP)
        {
            spec.put("externalTrafficPolicy", s.externalTrafficPolicy().apiName());
        }
        if (s.healthCheckNodePort() != 0)
        {
            spec.put("healthCheckNodePort", s.healthCheckNodePort());
        }
        spec.put("internalTrafficPolicy", s.internalTrafficPolicy().apiName());
        spec.putArray("ipFamilies").add("IPv4");
        spec.put("ipFamilyPolicy", "SingleStack");
        if (!s.loadBalancerSourceRanges().isEmpty())
        {
            final ArrayNode ranges = spec.putArray("loadBalancerSourceRanges");
            s.loadBalancerSourceRanges().forEach(ranges::add);
        }
        final ArrayNode ports = spec.putArray("ports");
        for (final ServicePort p : s.ports())
        {
            final ObjectNode port = ports.addObject();
            if (!p.name().isEmpty())
            {
                port.put("name", p.name());
            }
            if (p.nodePort() != 0)
            {
                port.put("nodePort", p.nodePort());
            }
            port.put("port", p.port());
            port.put("protocol", p.protocol().name());
            if (isPortNumber(p.targetPort()))
            {
                port.put("targetPort", Integer.parseInt(p.targetPort()));
            }
            else if (!p.targetPort().isEmpty())
            {
                port.put("targetPort", p.targetPort());
            }
        }
        spec.put("sessionAffinity", s.clientIPAffinity() ? "ClientIP" : "None");
        if (s.clientIPAffinity())
        {
            spec.putObject("sessionAffinityConfig").putObject("clientIP")
                .put("timeoutSeconds", s.affinityTimeoutSeconds());
        }
        spec.put("type", s.type().apiName());
        final ObjectNode loadBalancer = item.putObject("status").putObject("loadBalancer");
        if (!s.loadBalancerIngressIPs().isEmpty())
        {
            final ArrayNode ingress = loadBalancer.putArray("ingress");
            for (final String ip : s.loadBalancerIngressIPs())
            {
                ingress.addObject().put("ip", ip).put("ipMode", "VIP");
            }
        }
        return item;
    }

    private static ObjectNode slice(final EndpointSlice s)
    {
        final ObjectNode item = MAPPER.createObjectNode();
        item.put("addressType", "IPv4");
        item.put("apiVersion", "discovery.k8s.io/v1");
        final ArrayNode endpoints = item.putArray("endpoints");
        for (final Endpoint e : s.endpoints())
        {
            final ObjectNode endpoint = endpoints.addObject();
            endpoint.putArray("addresses").add(e.address());
            endpoint.putObject("conditions").put("ready", e.ready()).put("serving", e.serving())
                .put("terminating", e.terminating());
            if (!e.nodeName().isEmpty())
            {
                endpoint.put("nodeName", e.nodeName());
            }
        }
        item.put("kind", "EndpointSlice");
        metadata(item, s.namespace(), s.name(), s.serviceName());
        final ArrayNode ports = item.putArray("ports");
        for (final EndpointSlice.EndpointPort p : s.ports())
        {
            ports.addObject().put("name", p.name()).put("port", p.port()).put("protocol", p.protocol().name());
        }
        return item;
    }

    /** metadata: an EndpointSlice's labels (its Service's name, when not null), name, namespace; keys sorted, as kubectl's. */
    private static void metadata(final ObjectNode item, final String namespace, final String name,
        final String serviceName)
    {
        final ObjectNode metadata = item.putObject("metadata");
        if (serviceName != null)
        {
            metadata.putObject("labels").put("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
                .put("kubernetes.io/service-name", serviceName);
        }
        metadata.put("name", name);
        metadata.put("namespace", namespace);
    }

    /** What the loader reads back as the same text: 1..65535 without leading zeros. */
    private static boolean isPortNumber(final String text)
    {
        if (text.isEmpty() || text.length() > 5 || text.charAt(0) == '0' || !text.chars().allMatch(c -> c >= '0' && c <= '9'))
        {
            return false;
        }
        final int n = Integer.parseInt(text);
        return n >= 1 && n <= 65535;
    }
}
