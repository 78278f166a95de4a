package io.dpbench.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Cluster input validated as the API server validates it (apimachinery's name rules, unique names, ports and cluster
 * IPs), each error naming the item, the field and the rule; and the model's own guard that keeps anything but a
 * Kubernetes name's characters out of rule text whoever builds it.
 */
class ClusterValidationTest
{
    private static final String SERVICE = """
        {"kind": "Service", "metadata": {"name": "@N@", "namespace": "@NS@"},
         "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "@P@", "port": 80, "targetPort": 8080}]}}""";

    private static String service(final String name, final String namespace, final String portName)
    {
        return SERVICE.replace("@N@", name).replace("@NS@", namespace).replace("@P@", portName);
    }

    private static String list(final String... items)
    {
        return "{\"kind\": \"List\", \"items\": [" + String.join(",", items) + "]}";
    }

    private static void assertError(final String json, final String... parts)
    {
        assertThatThrownBy(() -> KubectlJsonLoader.load(json, "c.json"))
            .isInstanceOf(ClusterLoadException.class)
            .satisfies(ex -> assertThat(ex.getMessage()).contains(parts).doesNotContain("\n"));
    }

    @Test
    void injectionThroughAServiceNameIsRefusedNamingTheFieldAndTheRule()
    {
        // the reproduction: a quote and line breaks in the name once printed an attacker's rule into restore text
        final String evil = "web\\\" -j ACCEPT\\n-I KUBE-FORWARD 1 -j ACCEPT\\n#";
        assertError(list(service(evil, "shop", "http")), "items[0]", "metadata.name: invalid value",
            "\\n-I KUBE-FORWARD", "DNS-1035 label");
        final String slice = """
            {"kind": "EndpointSlice", "addressType": "IPv4",
             "metadata": {"name": "web-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "LABEL"}},
             "endpoints": [{"addresses": ["10.244.1.5"]}], "ports": [{"name": "http", "port": 8080}]}""";
        assertError(list(service("web", "shop", "http"), slice.replace("LABEL", evil)), "items[1]",
            "metadata.labels.kubernetes.io/service-name: invalid value", "label value");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "Web|shop|http|metadata.name|DNS-1035",
        "1web|shop|http|metadata.name|DNS-1035",
        "web-|shop|http|metadata.name|DNS-1035",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|shop|http|metadata.name|no more than 63",
        "web|Shop|http|metadata.namespace|DNS-1123",
        "web|sh_op|http|metadata.namespace|DNS-1123",
        "web|shop|Http|spec.ports[0].name|lower case",
        "web|shop|http--alt|spec.ports[0].name|consecutive hyphens",
        "web|shop|-http|spec.ports[0].name|begin or end",
        "web|shop|8080|spec.ports[0].name|at least one letter",
        "web|shop|abcdefghijklmnop|spec.ports[0].name|no more than 15",
    })
    void namesFollowTheApiServersRules(final String name, final String namespace, final String port,
        final String field, final String rule)
    {
        assertError(list(service(name, namespace, port)), "items[0]", field, rule);
    }

    @Test
    void validNamesAtTheirLimitsLoad() throws Exception
    {
        final String name = "a" + "-".repeat(61) + "b";
        final KubectlJsonLoader.Result r = KubectlJsonLoader.load(list(service(name, "0ns", "a-b-1")), "c.json");
        assertThat(r.model().services()).singleElement().satisfies(s -> assertThat(s.name()).isEqualTo(name));
    }

    @Test
    void aServiceListedTwiceIsADuplicateNotTwiceTheRules()
    {
        assertError(list(service("web", "shop", "http"), service("web", "shop", "http").replace("10.96.0.10", "10.96.0.11")),
            "items[1]", "Duplicate value: Service shop/web is already c.json: items[0]");
        assertError(list(service("web", "shop", "http"), service("api", "shop", "http")),
            "items[1] (Service shop/api): spec.clusterIP", "10.96.0.10", "already allocated", "items[0]");
    }

    @Test
    void duplicatePortsAndMissingNamesOfAMultiPortService()
    {
        final String twoPorts = SERVICE.replace("@N@", "web").replace("@NS@", "shop").replace(
            "[{\"name\": \"@P@\", \"port\": 80, \"targetPort\": 8080}]", "[{\"name\": \"a\", \"port\": 80},"
                + " {\"name\": \"NAME2\", \"port\": PORT2}]");
        assertError(list(twoPorts.replace("NAME2", "a").replace("PORT2", "81")), "spec.ports[1].name: Duplicate value");
        assertError(list(twoPorts.replace("NAME2", "b").replace("PORT2", "80")), "spec.ports[1]: Duplicate value",
            "80/TCP");
        assertError(list(twoPorts.replace("\"name\": \"NAME2\", ", "").replace("PORT2", "81")),
            "spec.ports[1].name: Required value");
    }

    @Test
    void aListWhereAnArrayBelongsNamesTheField()
    {
        // the reproduction: "ports": {} gave an internal null-pointer message
        assertError(list(SERVICE.replace("@N@", "web").replace("@NS@", "shop")
                .replace("[{\"name\": \"@P@\", \"port\": 80, \"targetPort\": 8080}]", "{}")),
            "items[0] (Service shop/web): spec.ports: expected an array, got {}");
        assertError(list(service("web", "shop", "http").replace("\"clusterIP\"", "\"externalIPs\": {\"a\": 1}, \"clusterIP\"")),
            "spec.externalIPs: expected an array");
        assertError(list("""
            {"kind": "EndpointSlice", "addressType": "IPv4",
             "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
             "endpoints": {"addresses": ["10.244.1.5"]}}"""), "items[0] (EndpointSlice default/web-1): endpoints: expected an array");
        assertError(list("""
            {"kind": "EndpointSlice", "addressType": "IPv4",
             "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
             "endpoints": [], "ports": [7]}"""), "ports[0]: expected an object, got 7");
        assertError(list("{\"kind\": \"Service\", \"metadata\": \"web\"}"), "items[0] (Service): metadata: expected an object");
    }

    @Test
    void anEmptyFileIsAnErrorAndAClusterWithoutServicesSaysSo() throws Exception
    {
        assertError("", "c.json: empty");
        assertError("  \n\t\n", "c.json: empty");
        final KubectlJsonLoader.Result r = KubectlJsonLoader.load("{\"kind\": \"List\", \"items\": []}", "c.json");
        assertThat(r.model().services()).isEmpty();
        assertThat(r.notes()).anyMatch(n -> n.contains("no Services"));
    }

    @Test
    void slicePortNamesNodeNamesAndTargetPorts()
    {
        final String slice = """
            {"kind": "EndpointSlice", "addressType": "IPv4",
             "metadata": {"name": "web-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
             "endpoints": [{"addresses": ["10.244.1.5"], "nodeName": "NODE"}], "ports": [{"name": "PORT", "port": 8080}]}""";
        assertError(list(slice.replace("NODE", "Node A").replace("PORT", "http")), "endpoints[0].nodeName", "subdomain");
        assertError(list(slice.replace("NODE", "node-a").replace("PORT", "Http")), "ports[0].name", "DNS-1123 label");
        assertError(list(service("web", "shop", "http").replace("8080", "\"a b\"")), "spec.ports[0].targetPort",
            "IANA_SVC_NAME");
        assertError(list(service("web", "shop", "http").replace("8080", "70000")), "spec.ports[0].targetPort",
            "1..65535");
    }

    @Test
    void theModelRefusesRuleTextCharactersWhoeverBuildsIt()
    {
        assertThatThrownBy(() -> new ServicePort("a\"b", Protocol.TCP, 80, "", 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port name \"a\\\"b\"");
        assertThatThrownBy(() -> new EndpointSlice("ns", "s", "web\n-A X", java.util.List.of(), java.util.List.of()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("web\\n-A X");
    }
}
