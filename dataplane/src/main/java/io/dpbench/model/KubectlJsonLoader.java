package io.dpbench.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads cluster state as {@code kubectl get services,endpointslices -A -o json} prints it: a {@code List} (or
 * {@code ServiceList} / {@code EndpointSliceList}, or one object) whose items are Services and EndpointSlices. Several
 * JSON documents one after another are read as one cluster (e.g. the outputs of two kubectl calls concatenated).
 * <p>
 * Faithful to what kube-proxy uses: ExternalName and headless Services program nothing and are skipped, as are
 * non-IPv4 slices and slices without the {@code kubernetes.io/service-name} label; each skip is reported in
 * {@link Result#notes()}. Defaults follow the API (type ClusterIP, protocol TCP, policies Cluster, ready when the
 * condition is absent). Anything malformed is a {@link ClusterLoadException} naming the object and the field.
 */
public final class KubectlJsonLoader
{
    private static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private KubectlJsonLoader()
    {
    }

    /** What was loaded, and what was skipped and why. */
    public record Result(ClusterModel model, List<String> notes)
    {
    }

    public static Result load(final Path file) throws ClusterLoadException, IOException
    {
        return load(Files.readString(file), file.toString());
    }

    public static Result load(final String json, final String source) throws ClusterLoadException
    {
        final List<Service> services = new ArrayList<>();
        final List<EndpointSlice> slices = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        final ObjectMapper mapper = new ObjectMapper();
        final Seen seen = new Seen();
        int document = 0;
        try (MappingIterator<JsonNode> documents = mapper.readerFor(JsonNode.class)
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readValues(json))
        {
            while (documents.hasNextValue())
            {
                final JsonNode root = documents.nextValue();
                final String where = source + (document > 0 ? " (document " + (document + 1) + ")" : "");
                document++;
                if (!root.isObject())
                {
                    throw new ClusterLoadException(where + ": expected a JSON object (kubectl -o json), got " + root.getNodeType());
                }
                if (root.has("items"))
                {
                    final JsonNode items = root.get("items");
                    if (!items.isArray())
                    {
                        throw new ClusterLoadException(where + ": items: expected an array");
                    }
                    for (int i = 0; i < items.size(); i++)
                    {
                        item(items.get(i), where + ": items[" + i + "]", services, slices, notes, seen);
                    }
                }
                else
                {
                    item(root, where, services, slices, notes, seen);
                }
            }
        }
        catch (final JsonProcessingException ex)
        {
            final var location = ex.getLocation();
            throw new ClusterLoadException(source + (location == null ? "" : ": line " + location.getLineNr()
                + ", column " + location.getColumnNr()) + ": not valid JSON: " + ex.getOriginalMessage(), ex);
        }
        catch (final IOException ex)
        {
            throw new ClusterLoadException(source + ": " + ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            if (ex.getCause() instanceof JsonProcessingException)
            {
                final JsonProcessingException jpe = (JsonProcessingException)ex.getCause();
                throw new ClusterLoadException(source + ": line " + jpe.getLocation().getLineNr() + ": not valid JSON: "
                    + jpe.getOriginalMessage(), ex);
            }
            throw ex;
        }
        if (document == 0)
        {
            throw new ClusterLoadException(source + ": empty: expected what 'kubectl get services,endpointslices -A -o"
                + " json' prints");
        }
        if (services.isEmpty())
        {
            notes.add(source + ": no Services to proxy: the rules will hold only kube-proxy's fixed chains");
        }
        return new Result(new ClusterModel(services, slices), notes);
    }

    /** What was seen so far, for the API server's uniqueness rules: object names and cluster IPs. */
    private static final class Seen
    {
        final Map<String, String> services = new HashMap<>();
        final Map<String, String> slices = new HashMap<>();
        final Map<String, String> clusterIPs = new HashMap<>();
    }

    /** One name checked against its rule: the error names the field and the value. */
    private static String name(final String value, final String rule, final String where) throws ClusterLoadException
    {
        final String problem = switch (rule)
        {
            case "dns1035" -> KubernetesNames.checkDns1035Label(value);
            case "dns1123" -> KubernetesNames.checkDns1123Label(value);
            case "subdomain" -> KubernetesNames.checkDns1123Subdomain(value);
            case "label" -> KubernetesNames.checkLabelValue(value);
            default -> KubernetesNames.checkIanaServiceName(value);
        };
        if (problem != null)
        {
            throw new ClusterLoadException(where + ": invalid value " + KubernetesNames.quote(value) + ": " + problem);
        }
        return value;
    }

    private static void item(final JsonNode item, final String where, final List<Service> services,
        final List<EndpointSlice> slices, final List<String> notes, final Seen seen) throws ClusterLoadException
    {
        if (!item.isObject())
        {
            throw new ClusterLoadException(where + ": expected an object");
        }
        final String kind = text(item, "kind", where, "");
        final JsonNode metadata = item.path("metadata");
        if (!metadata.isMissingNode() && !metadata.isObject())
        {
            throw new ClusterLoadException(where + " (" + kind + "): metadata: expected an object, got " + metadata);
        }
        final String name = text(metadata, "name", where + ".metadata", "");
        final String namespace = text(metadata, "namespace", where + ".metadata", "default");
        final String object = where + " (" + KubernetesNames.escape(kind) + " " + KubernetesNames.escape(namespace)
            + "/" + KubernetesNames.escape(name) + ")";
        if (name.isEmpty())
        {
            throw new ClusterLoadException(where + " (" + KubernetesNames.escape(kind) + "): metadata.name: missing");
        }
        switch (kind)
        {
            case "Service":
            {
                name(name, "dns1035", object + ": metadata.name");
                name(namespace, "dns1123", object + ": metadata.namespace");
                final String previous = seen.services.putIfAbsent(namespace + "/" + name, where);
                if (previous != null)
                {
                    throw new ClusterLoadException(object + ": metadata.name: Duplicate value: Service " + namespace
                        + "/" + name + " is already " + previous);
                }
                final Service service = service(item, namespace, name, object, notes);
                if (service != null)
                {
                    if (service.hasClusterIP())
                    {
                        final String owner = seen.clusterIPs.putIfAbsent(service.clusterIP(), object);
                        if (owner != null)
                        {
                            throw new ClusterLoadException(object + ": spec.clusterIP: Invalid value: "
                                + service.clusterIP() + ": provided IP is already allocated (to " + owner + ")");
                        }
                    }
                    services.add(service);
                }
                break;
            }
            case "EndpointSlice":
            {
                name(name, "subdomain", object + ": metadata.name");
                name(namespace, "dns1123", object + ": metadata.namespace");
                final String previous = seen.slices.putIfAbsent(namespace + "/" + name, where);
                if (previous != null)
                {
                    throw new ClusterLoadException(object + ": metadata.name: Duplicate value: EndpointSlice "
                        + namespace + "/" + name + " is already " + previous);
                }
                final EndpointSlice slice = slice(item, namespace, name, object, notes);
                if (slice != null)
                {
                    slices.add(slice);
                }
                break;
            }
            case "Endpoints":
                notes.add(object + ": skipped: kube-proxy reads EndpointSlices, not Endpoints");
                break;
            default:
                throw new ClusterLoadException(object + ": kind: expected Service or EndpointSlice, got '"
                    + KubernetesNames.escape(kind) + "'");
        }
    }

    private static Service service(final JsonNode item, final String namespace, final String name, final String object,
        final List<String> notes) throws ClusterLoadException
    {
        final JsonNode spec = item.path("spec");
        final String typeName = text(spec, "type", object + ": spec", "ClusterIP");
        if ("ExternalName".equals(typeName))
        {
            notes.add(object + ": skipped: ExternalName Services get no proxy rules");
            return null;
        }
        final ServiceType type;
        try
        {
            type = ServiceType.parse(typeName);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ClusterLoadException(object + ": spec.type: " + ex.getMessage());
        }
        String clusterIP = text(spec, "clusterIP", object + ": spec", "");
        if (clusterIP.contains(":"))
        {
            clusterIP = "";
            for (final JsonNode ip : array(spec, "clusterIPs", object + ": spec"))
            {
                if (ip.isTextual() && !ip.asText().contains(":"))
                {
                    clusterIP = ip.asText();
                    break;
                }
            }
            if (clusterIP.isEmpty())
            {
                notes.add(object + ": skipped: IPv6-only Service (dpbench models IPv4)");
                return null;
            }
        }
        if ("None".equals(clusterIP))
        {
            notes.add(object + ": skipped: headless Service (clusterIP None) gets no proxy rules");
            return null;
        }
        if (!clusterIP.isEmpty())
        {
            ipv4(clusterIP, object + ": spec.clusterIP");
        }
        final List<String> externalIPs = ipList(spec, "externalIPs", object + ": spec", false);
        final List<String> sourceRanges = ipList(spec, "loadBalancerSourceRanges", object + ": spec", true);
        final List<String> ingress = new ArrayList<>();
        final List<JsonNode> ingressArray = array(item.path("status").path("loadBalancer"), "ingress",
            object + ": status.loadBalancer");
        for (int i = 0; i < ingressArray.size(); i++)
        {
            final JsonNode ip = ingressArray.get(i).get("ip");
            if (ip != null && ip.isTextual() && !ip.asText().contains(":"))
            {
                ingress.add(ipv4(ip.asText(), object + ": status.loadBalancer.ingress[" + i + "].ip"));
            }
        }
        final List<ServicePort> ports = new ArrayList<>();
        final List<JsonNode> portsNode = array(spec, "ports", object + ": spec");
        final Map<String, Integer> portNames = new HashMap<>();
        final Map<String, Integer> portNumbers = new HashMap<>();
        final Map<String, Integer> nodePorts = new HashMap<>();
        for (int i = 0; i < portsNode.size(); i++)
        {
            final String field = object + ": spec.ports[" + i + "]";
            final JsonNode p = portsNode.get(i);
            if (!p.isObject())
            {
                throw new ClusterLoadException(field + ": expected an object, got " + p);
            }
            final String portName = text(p, "name", field, "");
            if (portName.isEmpty() && portsNode.size() > 1)
            {
                throw new ClusterLoadException(field + ".name: Required value (a Service with more than one port names"
                    + " every port)");
            }
            if (!portName.isEmpty())
            {
                name(portName, "iana", field + ".name");
                unique(portNames, portName, i, field + ".name", "spec.ports");
            }
            final Protocol protocol = protocol(text(p, "protocol", field, "TCP"), field + ".protocol");
            final int port = integer(p, "port", field, -1, 1, 65535);
            unique(portNumbers, port + "/" + protocol, i, field, "spec.ports (port and protocol)");
            final String targetPort = targetPort(p.get("targetPort"), field + ".targetPort");
            final int nodePort = integer(p, "nodePort", field, 0, 0, 65535);
            if (nodePort != 0)
            {
                unique(nodePorts, nodePort + "/" + protocol, i, field + ".nodePort", "spec.ports (nodePort and protocol)");
            }
            ports.add(new ServicePort(portName, protocol, port, targetPort, nodePort));
        }
        final TrafficPolicy external = policy(text(spec, "externalTrafficPolicy", object + ": spec", "Cluster"),
            object + ": spec.externalTrafficPolicy");
        final TrafficPolicy internal = policy(text(spec, "internalTrafficPolicy", object + ": spec", "Cluster"),
            object + ": spec.internalTrafficPolicy");
        final String affinity = text(spec, "sessionAffinity", object + ": spec", "None");
        if (!"None".equals(affinity) && !"ClientIP".equals(affinity))
        {
            throw new ClusterLoadException(object + ": spec.sessionAffinity: expected None or ClientIP, got '" + affinity + "'");
        }
        final int timeout = integer(spec.path("sessionAffinityConfig").path("clientIP"), "timeoutSeconds",
            object + ": spec.sessionAffinityConfig.clientIP", Service.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 1, 86400);
        final int healthCheckNodePort = integer(spec, "healthCheckNodePort", object + ": spec", 0, 0, 65535);
        return new Service(namespace, name, type, clusterIP, externalIPs, ingress, sourceRanges, ports, external, internal,
            "ClientIP".equals(affinity), timeout, healthCheckNodePort);
    }

    private static EndpointSlice slice(final JsonNode item, final String namespace, final String name,
        final String object, final List<String> notes) throws ClusterLoadException
    {
        final String addressType = text(item, "addressType", object, "");
        if (!"IPv4".equals(addressType))
        {
            notes.add(object + ": skipped: addressType '" + addressType + "' (dpbench models IPv4)");
            return null;
        }
        final JsonNode label = item.path("metadata").path("labels").get(SERVICE_NAME_LABEL);
        if (label == null || !label.isTextual() || label.asText().isEmpty())
        {
            notes.add(object + ": skipped: no " + SERVICE_NAME_LABEL + " label, so no Service owns it");
            return null;
        }
        name(label.asText(), "label", object + ": metadata.labels." + SERVICE_NAME_LABEL);
        final List<Endpoint> endpoints = new ArrayList<>();
        final List<JsonNode> endpointsNode = array(item, "endpoints", object);
        for (int i = 0; i < endpointsNode.size(); i++)
        {
            final String field = object + ": endpoints[" + i + "]";
            final JsonNode e = endpointsNode.get(i);
            if (!e.isObject())
            {
                throw new ClusterLoadException(field + ": expected an object, got " + e);
            }
            final JsonNode addresses = e.path("addresses");
            if (!addresses.isArray() || addresses.size() == 0)
            {
                throw new ClusterLoadException(field + ".addresses: expected a non-empty array");
            }
            final String address = ipv4(addresses.get(0).asText(), field + ".addresses[0]");
            final JsonNode conditions = e.path("conditions");
            final boolean ready = bool(conditions, "ready", field + ".conditions", true);
            final boolean serving = bool(conditions, "serving", field + ".conditions", ready);
            final boolean terminating = bool(conditions, "terminating", field + ".conditions", false);
            final String nodeName = text(e, "nodeName", field, "");
            if (!nodeName.isEmpty())
            {
                name(nodeName, "subdomain", field + ".nodeName");
            }
            endpoints.add(new Endpoint(address, ready, serving, terminating, nodeName));
        }
        final List<EndpointSlice.EndpointPort> ports = new ArrayList<>();
        final List<JsonNode> portsNode = array(item, "ports", object);
        final Map<String, Integer> portNames = new HashMap<>();
        for (int i = 0; i < portsNode.size(); i++)
        {
            final String field = object + ": ports[" + i + "]";
            final JsonNode p = portsNode.get(i);
            if (!p.isObject())
            {
                throw new ClusterLoadException(field + ": expected an object, got " + p);
            }
            final String portName = text(p, "name", field, "");
            if (!portName.isEmpty())
            {
                name(portName, "dns1123", field + ".name");
            }
            unique(portNames, portName, i, field + ".name", "ports");
            if (p.get("port") == null || p.get("port").isNull())
            {
                notes.add(field + ": skipped: a port without a number ('all ports') is not proxied");
                continue;
            }
            ports.add(new EndpointSlice.EndpointPort(portName,
                protocol(text(p, "protocol", field, "TCP"), field + ".protocol"), integer(p, "port", field, -1, 1, 65535)));
        }
        return new EndpointSlice(namespace, name, label.asText(), endpoints, ports);
    }

    private static void unique(final Map<String, Integer> seen, final String key, final int index, final String where,
        final String list) throws ClusterLoadException
    {
        final Integer first = seen.putIfAbsent(key, index);
        if (first != null)
        {
            throw new ClusterLoadException(where + ": Duplicate value: " + KubernetesNames.quote(key) + " (also "
                + list + "[" + first + "])");
        }
    }

    /** A targetPort: absent, a number 1..65535, or a named port (IANA_SVC_NAME), as the API server allows. */
    private static String targetPort(final JsonNode value, final String where) throws ClusterLoadException
    {
        if (value == null || value.isNull())
        {
            return "";
        }
        if (value.isIntegralNumber())
        {
            if (value.asLong() < 1 || value.asLong() > 65535)
            {
                throw new ClusterLoadException(where + ": expected 1..65535 or a port name, got " + value);
            }
            return value.asText();
        }
        if (!value.isTextual())
        {
            throw new ClusterLoadException(where + ": expected a number or a port name, got " + value);
        }
        final String text = value.asText();
        if (text.chars().allMatch(Character::isDigit) && !text.isEmpty() && text.length() <= 5
            && Integer.parseInt(text) >= 1 && Integer.parseInt(text) <= 65535)
        {
            return text;
        }
        return name(text, "iana", where);
    }

    /** A field's place in a message: "OBJECT: field" at an object's top level, "OBJECT: spec.field" below it. */
    private static String at(final String where, final String field)
    {
        return where + (where.endsWith(")") ? ": " : ".") + field;
    }

    private static String text(final JsonNode node, final String field, final String where, final String absent)
        throws ClusterLoadException
    {
        final JsonNode value = node.get(field);
        if (value == null || value.isNull())
        {
            return absent;
        }
        if (!value.isTextual())
        {
            throw new ClusterLoadException(at(where, field) + ": expected a string, got " + value);
        }
        return value.asText();
    }

    private static int integer(final JsonNode node, final String field, final String where, final int absent,
        final int min, final int max) throws ClusterLoadException
    {
        final JsonNode value = node.get(field);
        if (value == null || value.isNull())
        {
            if (absent < 0)
            {
                throw new ClusterLoadException(at(where, field) + ": missing");
            }
            return absent;
        }
        if (!value.isIntegralNumber() || value.asLong() < min || value.asLong() > max)
        {
            throw new ClusterLoadException(at(where, field) + ": expected an integer " + min + ".." + max + ", got " + value);
        }
        return value.asInt();
    }

    private static boolean bool(final JsonNode node, final String field, final String where, final boolean absent)
        throws ClusterLoadException
    {
        final JsonNode value = node.get(field);
        if (value == null || value.isNull())
        {
            return absent;
        }
        if (!value.isBoolean())
        {
            throw new ClusterLoadException(at(where, field) + ": expected true or false, got " + value);
        }
        return value.asBoolean();
    }

    private static List<JsonNode> array(final JsonNode node, final String field, final String where)
        throws ClusterLoadException
    {
        final JsonNode value = node.get(field);
        final List<JsonNode> out = new ArrayList<>();
        if (value == null || value.isNull())
        {
            return out;
        }
        if (!value.isArray())
        {
            throw new ClusterLoadException(at(where, field) + ": expected an array, got " + value);
        }
        value.forEach(out::add);
        return out;
    }

    private static List<String> ipList(final JsonNode node, final String field, final String where, final boolean cidr)
        throws ClusterLoadException
    {
        final List<String> out = new ArrayList<>();
        final List<JsonNode> values = array(node, field, where);
        for (int i = 0; i < values.size(); i++)
        {
            final JsonNode v = values.get(i);
            final String at = at(where, field) + "[" + i + "]";
            if (!v.isTextual())
            {
                throw new ClusterLoadException(at + ": expected a string, got " + v);
            }
            final String text = v.asText().strip();
            if (text.contains(":"))
            {
                continue; // IPv6: not modelled
            }
            out.add(cidr ? Cidr.parse(text, at).toString() : ipv4(text, at));
        }
        return out;
    }

    private static String ipv4(final String text, final String where) throws ClusterLoadException
    {
        try
        {
            io.dpbench.packet.Ipv4Address.parse(text);
            return text;
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ClusterLoadException(where + ": " + ex.getMessage());
        }
    }

    private static Protocol protocol(final String text, final String where) throws ClusterLoadException
    {
        try
        {
            return Protocol.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ClusterLoadException(where + ": " + ex.getMessage());
        }
    }

    private static TrafficPolicy policy(final String text, final String where) throws ClusterLoadException
    {
        try
        {
            return TrafficPolicy.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ClusterLoadException(where + ": " + ex.getMessage());
        }
    }
}
