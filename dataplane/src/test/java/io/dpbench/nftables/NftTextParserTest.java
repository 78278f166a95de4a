package io.dpbench.nftables;

import io.dpbench.model.RuleParseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Both spellings of kube-proxy's table read to the same ruleset: {@code sample-dump.nft} (kube-proxy's dump syntax,
 * a part of TestOverallNFTablesRules' expectation) and {@code sample-dump.listed}, what this machine's nft 1.0.6 listed
 * after {@code nft -f sample-dump.nft} in a fresh network namespace.
 */
class NftTextParserTest
{
    static String resource(final String name) throws IOException
    {
        try (InputStream in = NftTextParserTest.class.getClassLoader().getResourceAsStream(name))
        {
            if (in == null)
            {
                throw new IOException("no resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void dumpAndKernelListingParseToTheSameRuleset() throws Exception
    {
        final NftRuleset dump = NftTextParser.parse(resource("nftables/sample-dump.nft"), "sample-dump.nft");
        final NftRuleset listed = NftTextParser.parse(resource("nftables/sample-dump.listed"), "sample-dump.listed");
        assertThat(listed.canonical()).isEqualTo(dump.canonical());
        assertThat(dump.chain("filter-prerouting-pre-dnat").priority).isEqualTo(-110);
        assertThat(listed.chain("nat-postrouting").priority).isEqualTo(100);
        assertThat(listed.set("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80").timeoutSeconds).isEqualTo(10800);
        assertThat(listed.chain("mark-for-masquerade").rules.get(0).text()).isEqualTo("meta mark set meta mark | 0x00004000");
        assertThat(dump.chain("masquerading").rules.get(0).text()).isEqualTo("meta mark & 0x00004000 == 0x00000000 return");
        assertThat(dump.chain("cluster-ips-check").rules.get(1).text()).isEqualTo("ip daddr 172.30.0.0/16 drop");
        assertThat(dump.chain("firewall-HVFWP5L3-ns5/svc5/tcp/p80").rules.get(0).text())
            .isEqualTo("ip saddr != { 192.168.0.0/24, 203.0.113.0/25 } drop");
    }

    @Test
    void aDumpReadBackDumpsTheSame() throws Exception
    {
        final NftRuleset once = NftTextParser.parse(resource("nftables/sample-dump.nft"), "a");
        final NftRuleset twice = NftTextParser.parse(once.dump(), "b");
        assertThat(twice.dump()).isEqualTo(once.dump());
    }

    @Test
    void aSetElementWithAValueIsNamed()
    {
        assertThatThrownBy(() -> NftTextParser.parse("add table ip kube-proxy\nadd set ip kube-proxy s { type ipv4_addr ; }\n"
            + "add element ip kube-proxy s { 1.2.3.4 : drop }\n", "x"))
            .isInstanceOf(RuleParseException.class).hasMessage("x:3: column 31: element of set s with a value");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "add rule ip kube-proxy nowhere accept|x:2: column 24: rule for chain 'nowhere', which was not added before",
        "add chain ip6 kube-proxy c|x:2: column 11: family 'ip6': only IPv4 ('ip') tables are modelled",
        "add chain ip other c|x:2: column 11: table 'other': only kube-proxy's table ('kube-proxy') is modelled",
        "add element ip kube-proxy s { 1.2.3.4 : drop }|x:2: column 27: element for 's', which was not added before",
        "add set ip kube-proxy t { flags x ; }|x:2: column 37: set t has no type",
        "frobnicate|x:2: column 1: expected 'add' (kube-proxy's dump syntax) or 'table' (nft list ruleset), found 'frobnicate'",
        "add rule ip kube-proxy c accept comment \"x|x:2: column 41: unterminated quoted string",
    })
    void badInputNamesLineAndColumn(final String line, final String message)
    {
        assertThatThrownBy(() -> NftTextParser.parse("add table ip kube-proxy\n" + line + "\n", "x"))
            .isInstanceOf(RuleParseException.class).hasMessage(message);
    }
}
