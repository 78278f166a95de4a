package io.dpbench.conntrack;

import io.dpbench.packet.FlowKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tuple filter never rules out a tuple the map holds (so conntrack's answers are what the map alone gives),
 * rules out most it does not, and follows removals; a reopened table's filter covers the entries it found.
 */
class TupleFilterTest
{
    @TempDir
    Path dir;

    @Test
    void noFalseNegativesAndFewFalsePositivesThroughAddsAndRemovals()
    {
        final int keys = 200_000;
        final TupleFilter filter = new TupleFilter(keys);
        final SplittableRandom random = new SplittableRandom(3);
        final long[] addresses = new long[keys];
        final long[] ports = new long[keys];
        for (int i = 0; i < keys; i++)
        {
            addresses[i] = random.nextLong();
            ports[i] = FlowKey.packPorts(6, random.nextInt(65536), random.nextInt(65536));
            filter.add(addresses[i], ports[i]);
        }
        for (int i = 0; i < keys; i++)
        {
            assertThat(filter.mayContain(addresses[i], ports[i])).as("tuple %d", i).isTrue();
        }
        int falsePositives = 0;
        for (int i = 0; i < 100_000; i++)
        {
            if (filter.mayContain(random.nextLong(), FlowKey.packPorts(17, random.nextInt(65536), 53)))
            {
                falsePositives++;
            }
        }
        assertThat(falsePositives).as("false positives of 100,000 at full load").isLessThan(10_000);
        // remove every other tuple: the rest stay covered, and the removed ones are mostly ruled out again
        int stillThere = 0;
        for (int i = 0; i < keys; i += 2)
        {
            filter.remove(addresses[i], ports[i]);
        }
        for (int i = 0; i < keys; i++)
        {
            if (i % 2 == 1)
            {
                assertThat(filter.mayContain(addresses[i], ports[i])).as("kept tuple %d", i).isTrue();
            }
            else if (filter.mayContain(addresses[i], ports[i]))
            {
                stillThere++;
            }
        }
        assertThat(stillThere).as("removed tuples still answered 'maybe'").isLessThan(keys / 2 / 10);
    }

    @Test
    void aTableAnswersAsItsMapDoesAndAReopenedTableKnowsItsEntries() throws Exception
    {
        final Path file = dir.resolve("ct.dat");
        final SplittableRandom random = new SplittableRandom(9);
        final int n = 5_000;
        final ConntrackRecord[] records = new ConntrackRecord[n];
        try (ConntrackTable table = ConntrackTable.persisted(file, 10_000))
        {
            for (int i = 0; i < n; i++)
            {
                records[i] = new ConntrackRecord().original(random.nextLong() | 1, FlowKey.packPorts(6, 1000 + i, 80))
                    .reply(random.nextLong() | 1, FlowKey.packPorts(6, 80, 1000 + i)).expiryMillis(Long.MAX_VALUE);
                assertThat(table.insert(records[i])).isTrue();
            }
            for (int i = 0; i < n; i += 2)
            {
                assertThat(table.remove(records[i])).isTrue();
            }
            assertThat(table.primaryCount()).isEqualTo(n / 2);
        }
        try (ConntrackTable reopened = ConntrackTable.persisted(file, 10_000))
        {
            final ConntrackRecord out = new ConntrackRecord();
            assertThat(reopened.primaryCount()).isEqualTo(n / 2);
            for (int i = 0; i < n; i++)
            {
                final int original = reopened.lookup(records[i].originalAddresses(), records[i].originalPorts(), out);
                final int reply = reopened.lookup(records[i].replyAddresses(), records[i].replyPorts(), out);
                if (i % 2 == 0)
                {
                    assertThat(original).as("removed %d", i).isEqualTo(ConntrackTable.NOT_FOUND);
                    assertThat(reply).isEqualTo(ConntrackTable.NOT_FOUND);
                }
                else
                {
                    assertThat(original).as("kept %d by its original tuple", i).isEqualTo(ConntrackTable.ORIGINAL);
                    assertThat(reply).as("kept %d by its reply tuple", i).isEqualTo(ConntrackTable.REPLY);
                }
            }
            // a reply-tuple clash takes nothing away: the filter still covers the clashing connection
            final ConntrackRecord clash = new ConntrackRecord().original(7, FlowKey.packPorts(6, 7, 7))
                .reply(records[1].replyAddresses(), records[1].replyPorts());
            assertThat(reopened.tryInsert(clash)).isEqualTo(ConntrackTable.CLASH);
            assertThat(reopened.lookup(records[1].replyAddresses(), records[1].replyPorts(), out))
                .isEqualTo(ConntrackTable.REPLY);
            assertThat(reopened.lookup(7, FlowKey.packPorts(6, 7, 7), out)).isEqualTo(ConntrackTable.NOT_FOUND);
        }
    }
}
