package io.dpbench.conntrack;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reply index answers as a plain map does through a long random run of inserts and removals at high load
 * (backward-shift deletion keeps every probe run intact), refuses a taken reply tuple, and removes a tuple only for
 * the connection that owns it.
 */
class ReplyIndexTest
{
    @Test
    void behavesAsAMapThroughChurn()
    {
        final int connections = 2_000;
        final ReplyIndex index = new ReplyIndex(connections);
        final Map<List<Long>, long[]> model = new HashMap<>();
        final List<List<Long>> keys = new ArrayList<>();
        final SplittableRandom random = new SplittableRandom(5);
        final long[] out = new long[2];
        for (int step = 0; step < 200_000; step++)
        {
            if (keys.size() < connections && (keys.isEmpty() || random.nextInt(100) < 55))
            {
                // few distinct address values, so that home slots collide and probe runs form and wrap
                final List<Long> key = List.of((long)random.nextInt(1, 64), (long)random.nextInt(1, 4096));
                final long[] original = {random.nextLong(), random.nextLong()};
                final boolean added = index.putIfAbsent(key.get(0), key.get(1), original[0], original[1]);
                assertThat(added).as("step %d", step).isEqualTo(!model.containsKey(key));
                if (added)
                {
                    model.put(key, original);
                    keys.add(key);
                }
            }
            else
            {
                final List<Long> key = keys.remove(random.nextInt(keys.size()));
                final long[] original = model.remove(key);
                assertThat(index.remove(key.get(0), key.get(1), original[0] + 1, original[1]))
                    .as("another connection's tuple").isFalse();
                assertThat(index.remove(key.get(0), key.get(1), original[0], original[1])).isTrue();
            }
            if (step % 1_000 == 0)
            {
                assertThat(index.size()).isEqualTo(model.size());
                for (final Map.Entry<List<Long>, long[]> e : model.entrySet())
                {
                    assertThat(index.original(e.getKey().get(0), e.getKey().get(1), out)).isTrue();
                    assertThat(out).containsExactly(e.getValue());
                }
                for (int k = 0; k < 200; k++)
                {
                    final List<Long> absent = List.of((long)random.nextInt(1, 64), (long)random.nextInt(1, 4096));
                    assertThat(index.contains(absent.get(0), absent.get(1))).isEqualTo(model.containsKey(absent));
                }
            }
        }
    }
}
