package io.dpbench.bench.vxlan;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark measures what it says: every frame is forwarded whole, encapsulated and decapsulated, pass after pass. */
class VxlanBenchmarkTest
{
    @Test
    void everyFrameIsForwardedEncapsulatedAndDecapsulatedAcrossPasses()
    {
        for (final String size : new String[]{"imix", "64"})
        {
            final VxlanBenchmark bench = new VxlanBenchmark();
            bench.size = size;
            bench.setUp();
            final int invocations = 3 * VxlanBenchmark.POOL / VxlanBenchmark.BATCH; // three passes: TTLs restored each time
            for (int i = 0; i < invocations; i++)
            {
                assertThat(bench.forward()).as("frames forwarded whole in invocation %d", i).isEqualTo(VxlanBenchmark.BATCH);
                assertThat(bench.encapsulate()).isPositive();
                assertThat(bench.decapsulate()).as("decapsulated: a sum of inner offsets, no -1").isPositive();
            }
            bench.tearDown(); // throws if a decapsulation dropped anything
        }
    }
}
