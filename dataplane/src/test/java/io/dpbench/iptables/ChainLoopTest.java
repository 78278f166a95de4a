package io.dpbench.iptables;

import io.dpbench.NetnsSandbox;
import io.dpbench.model.RuleParseException;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Jump and goto loops are refused when the rules are compiled, naming the chains of the cycle, as the kernel refuses
 * them at load; a loop no built-in chain reaches is accepted, as the kernel accepts it. Before, a goto loop made
 * {@code trace} (and the packet path) spin forever and a jump loop gave a silent DROP.
 */
class ChainLoopTest
{
    private final NetnsSandbox sandbox = new NetnsSandbox();

    static final String GOTO_LOOP = """
        *nat
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :KUBE-SERVICES - [0:0]
        :LOOPA - [0:0]
        :LOOPB - [0:0]
        -A PREROUTING -j KUBE-SERVICES
        -A KUBE-SERVICES -d 10.96.0.1/32 -j LOOPA
        -A LOOPA -g LOOPB
        -A LOOPB -g LOOPA
        COMMIT
        """;

    static final String JUMP_LOOP = """
        *nat
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :LOOPA - [0:0]
        :LOOPB - [0:0]
        :LOOPC - [0:0]
        -A OUTPUT -j LOOPA
        -A LOOPA -p tcp -j LOOPB
        -A LOOPB -j LOOPC
        -A LOOPC -j LOOPA
        COMMIT
        """;

    static final String UNREACHED_LOOP = """
        *nat
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :LOOPA - [0:0]
        :LOOPB - [0:0]
        -A LOOPA -g LOOPB
        -A LOOPB -g LOOPA
        COMMIT
        """;

    @AfterEach
    void deleteNamespaces() throws Exception
    {
        sandbox.close();
    }

    private static CompiledRules compile(final String text) throws Exception
    {
        return ChainEngine.compile(IptablesSaveParser.parse(text, "rules"), "rules", List.of("192.168.0.10"),
            IpSets.EMPTY);
    }

    @Test
    @Timeout(10)
    void gotoLoopIsRefusedNamingItsChainsAndTheLineThatClosesIt()
    {
        assertThatThrownBy(() -> compile(GOTO_LOOP))
            .isInstanceOf(RuleParseException.class)
            .hasMessageContaining("rules:10:")
            .hasMessageContaining("LOOPA -> LOOPB -> LOOPA")
            .hasMessageContaining("table nat");
    }

    @Test
    @Timeout(10)
    void jumpLoopIsRefusedNamingEveryChainOfTheCycle()
    {
        assertThatThrownBy(() -> compile(JUMP_LOOP))
            .isInstanceOf(RuleParseException.class)
            .hasMessageContaining("rules:10:")
            .hasMessageContaining("LOOPA -> LOOPB -> LOOPC -> LOOPA")
            .hasMessageContaining("reached from OUTPUT");
    }

    @Test
    void selfJumpIsALoop()
    {
        assertThatThrownBy(() -> compile("*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-A INPUT -j X\n-A X -j X\nCOMMIT\n"))
            .isInstanceOf(RuleParseException.class)
            .hasMessageContaining("X -> X");
    }

    @Test
    void loopNoBuiltInChainReachesIsAcceptedAsTheKernelAcceptsIt() throws Exception
    {
        final CompiledRules rules = compile(UNREACHED_LOOP);
        final Tracer.Result r = Tracer.trace(rules, Ipv4Address.parse("192.168.0.10"), 6,
            Ipv4Address.parse("10.244.0.5"), 40000, Ipv4Address.parse("10.96.0.1"), 80, 0);
        assertThat(r.verdict()).isEqualTo("ACCEPT");
    }

    @Test
    void sharedChainsWithoutACycleAreNotALoop() throws Exception
    {
        // a diamond: two chains both jump to one chain (kube-proxy's KUBE-MARK-MASQ is reached from many)
        compile("*nat\n:PREROUTING ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n:C - [0:0]\n"
            + "-A PREROUTING -j A\n-A PREROUTING -j B\n-A A -j C\n-A B -g C\n-A A -j B\nCOMMIT\n");
    }

    @Test
    void nestingDeeperThanTheReturnStackIsRefused()
    {
        final StringBuilder text = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n");
        final int chains = Classifier.MAX_DEPTH + 1;
        for (int i = 0; i < chains; i++)
        {
            text.append(":C").append(i).append(" - [0:0]\n");
        }
        text.append("-A INPUT -j C0\n");
        for (int i = 0; i + 1 < chains; i++)
        {
            text.append("-A C").append(i).append(" -j C").append(i + 1).append('\n');
        }
        text.append("COMMIT\n");
        assertThatThrownBy(() -> compile(text.toString()))
            .isInstanceOf(RuleParseException.class)
            .hasMessageContaining("nests " + (Classifier.MAX_DEPTH + 1) + " chains deep");
    }

    @Test
    void theKernelAgrees() throws Exception
    {
        NetnsSandbox.requireOrSkip("iptables-restore");
        final String ns = sandbox.create();
        for (final String refused : List.of(GOTO_LOOP, JUMP_LOOP))
        {
            assertThat(sandbox.exec(ns, refused, "iptables-restore").exit()).as(refused).isNotZero();
        }
        assertThat(sandbox.exec(ns, UNREACHED_LOOP, "iptables-restore").exit()).isZero();
    }
}
