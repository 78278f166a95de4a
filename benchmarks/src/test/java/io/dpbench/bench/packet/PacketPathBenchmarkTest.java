package io.dpbench.bench.packet;

import io.dpbench.bench.Main;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark measures what it says: every frame parses OK and is rewritten, pass after pass. */
class PacketPathBenchmarkTest
{
    @Test
    void everyFrameStaysValidAcrossManyPassesOfAlternatingRewrites()
    {
        for (final String size : new String[]{"imix", "64"})
        {
            final PacketPathBenchmark bench = new PacketPathBenchmark();
            bench.size = size;
            bench.setUp();
            final int invocations = 5 * PacketPathBenchmark.POOL / PacketPathBenchmark.BATCH; // five passes
            for (int i = 0; i < invocations; i++)
            {
                assertThat(bench.parseValidateDnat()).as("frames rewritten in invocation %d", i)
                    .isEqualTo(PacketPathBenchmark.BATCH);
            }
            for (int i = 0; i < invocations; i++)
            {
                assertThat(bench.parseValidate()).isPositive();
            }
            bench.tearDown(); // throws if any frame went invalid
        }
    }

    @Test
    void theJvmFlagsTravelInTheJar() throws Exception
    {
        assertThat(Main.jvmFlags()).contains("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "-Dchronicle.analytics.disable=true").noneMatch(f -> f.startsWith("#"));
    }
}
