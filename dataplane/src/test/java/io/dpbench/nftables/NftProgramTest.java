package io.dpbench.nftables;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the compiler refuses, as the kernel refuses it at load, and what a walk does at its bounds. */
class NftProgramTest
{
    private static NftRuleset parse(final String text) throws Exception
    {
        return NftTextParser.parse(text, "t");
    }

    @Test
    void jumpLoopsAreRefusedAsTheKernelRefusesThem() throws Exception
    {
        // goto b, b goto c, c goto b: nft -f answers "Too many links"
        final NftRuleset gotoLoop = parse("""
            add table ip kube-proxy
            add chain ip kube-proxy a { type filter hook prerouting priority 0 ; }
            add chain ip kube-proxy b
            add chain ip kube-proxy c
            add rule ip kube-proxy a goto b
            add rule ip kube-proxy b goto c
            add rule ip kube-proxy c goto b
            """);
        assertThatThrownBy(() -> NftProgram.compile(gotoLoop)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("chain b: its jumps and gotos loop back to it (b -> c -> b); the kernel refuses such a ruleset");
        // through a verdict map's element
        final NftRuleset mapLoop = parse("""
            add table ip kube-proxy
            add map ip kube-proxy m { type inet_proto . inet_service : verdict ; }
            add chain ip kube-proxy a { type filter hook input priority 0 ; }
            add chain ip kube-proxy b
            add rule ip kube-proxy a jump b
            add rule ip kube-proxy b meta l4proto . th dport vmap @m
            add element ip kube-proxy m { tcp . 80 : jump b }
            """);
        assertThatThrownBy(() -> NftProgram.compile(mapLoop)).hasMessageContaining("loop back to it (b -> b)");
    }

    @Test
    void aMissingChainOrSetIsNamed() throws Exception
    {
        final NftRuleset missing = parse("""
            add table ip kube-proxy
            add chain ip kube-proxy a { type filter hook input priority 0 ; }
            add rule ip kube-proxy a ip daddr @nowhere drop
            """);
        assertThatThrownBy(() -> NftProgram.compile(missing))
            .hasMessage("line 3: chain a, rule 1 ('ip daddr @nowhere drop'): no set or map 'nowhere'");
    }

    @Test
    void aWalkDropsAtTheKernelsJumpDepth() throws Exception
    {
        // 20 chains jumping one to the next: the kernel's jump stack holds 16; dpbench never goes deeper
        final StringBuilder text = new StringBuilder("add table ip kube-proxy\n"
            + "add chain ip kube-proxy c0 { type filter hook input priority 0 ; }\n");
        for (int i = 1; i <= 20; i++)
        {
            text.append("add chain ip kube-proxy c").append(i).append('\n');
        }
        for (int i = 0; i < 20; i++)
        {
            text.append("add rule ip kube-proxy c").append(i).append(" jump c").append(i + 1).append('\n');
        }
        final NftEngine engine = new NftEngine(NftProgram.compile(parse(text.toString())), List.of("192.168.0.2"), 1);
        final NftPacket p = new NftPacket().reset(6, 0x0a000001, 1000, 0xc0a80002, 80);
        engine.classify(p);
        assertThat(p.verdict).isEqualTo(NftEngine.DROP);
    }
}
