package io.dpbench;

import net.openhft.chronicle.map.ChronicleMap;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The build's one list of JVM flags (jvm.flags) reaches surefire's forks: Chronicle Map, which fails to start on
 * Java 17 without them, creates and uses a map, and its analytics are off.
 */
class JvmFlagsTest
{
    @Test
    void chronicleMapRunsWithTheCentralFlagsAndAnalyticsOff()
    {
        assertThat(System.getProperty("chronicle.analytics.disable")).isEqualTo("true");
        try (ChronicleMap<Long, Long> map = ChronicleMap.of(Long.class, Long.class).entries(1_000).create())
        {
            for (long i = 0; i < 1_000; i++)
            {
                map.put(i, i * i);
            }
            assertThat(map.size()).isEqualTo(1_000);
            assertThat(map.get(999L)).isEqualTo(998_001L);
        }
    }
}
