package io.dpbench.fuzz;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short fuzz run of every target, in every build: the target's corpus replayed (its seeds and the reproducers
 * of past findings, which are regression inputs), then a fixed number of seeded mutations of it. Deterministic: the
 * same inputs every run. Findings are written to {@code target/fuzz-findings/<target>/} (move them into the corpus
 * once fixed). Long, coverage-guided runs: {@code scripts/fuzz}.
 */
class FuzzTest
{
    /** An input that takes longer than this is a hang. */
    static final long TIMEOUT_MILLIS = 5_000;

    @ParameterizedTest(name = "{0}: corpus + {1} mutations")
    @CsvSource({
        "iptables-save, 8000",
        "ipvsadm, 100000",
        "kubectl-json, 50000",
        // each input opens a PcapReader (1.25 MB of direct buffers, freed only by a GC): ~7 ms per input in a
        // surefire JVM's large heap; scripts/fuzz runs it with -Xmx256m at ~0.17 ms
        "pcap, 1000",
        "frame, 1000000",
        "vxlan-receive, 200000",
        "nftables, 20000",
    })
    void corpusAndShortRun(final String name, final int mutations)
    {
        final FuzzTarget target = FuzzTargets.named(name);
        final int corpus = FuzzTargets.corpusFiles(target).size();
        assertThat(corpus).as("corpus files of " + name).isPositive();
        final FuzzRunner.Result result = FuzzRunner.run(target,
            FuzzRunner.corpusThenMutations(target, 0x5EED_0000L + name.hashCode(), 16_384), corpus + mutations,
            TIMEOUT_MILLIS, Path.of("target", "fuzz-findings", name));
        System.out.println("fuzz " + result.summary());
        assertThat(result.escapes()).as(result.summary()).isEmpty();
        assertThat(result.hangs()).as(result.summary()).isZero();
        assertThat(result.inputs()).isEqualTo(corpus + mutations);
    }
}
