package io.dpbench.bench.pipeline;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline benchmark measures what it says: every packet offered is processed and sent, most encapsulated. */
class PipelineBenchmarkTest
{
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void everyOfferedPacketIsProcessedAndSent(final int workers) throws Exception
    {
        final PipelineBenchmark bench = new PipelineBenchmark();
        bench.workers = workers;
        bench.setUp();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                bench.established();
            }
            bench.drain();
            final long[] counts = bench.processedAndEncapsulated();
            assertThat(counts[0]).isEqualTo(6L * PipelineBenchmark.FLOWS);
            // 3 of 4 nodes are remote: about three packets in four leave encapsulated
            assertThat((double)counts[1] / counts[0]).isBetween(0.6, 0.9);
        }
        finally
        {
            bench.tearDown(); // throws when a processed frame did not leave
        }
    }
}
