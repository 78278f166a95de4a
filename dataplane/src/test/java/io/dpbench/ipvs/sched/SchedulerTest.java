package io.dpbench.ipvs.sched;

import io.dpbench.ipvs.RealServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static io.dpbench.ipvs.sched.SchedulerTestSupport.VIP;
import static io.dpbench.ipvs.sched.SchedulerTestSupport.concat;
import static io.dpbench.ipvs.sched.SchedulerTestSupport.repeat;
import static io.dpbench.ipvs.sched.SchedulerTestSupport.sequence;
import static io.dpbench.ipvs.sched.SchedulerTestSupport.servers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchedulerTest
{
    private static final String[] ALL = {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh"};

    private static Scheduler updated(final Scheduler scheduler, final RealServer[] servers)
    {
        scheduler.update(servers, servers.length);
        return scheduler;
    }

    // ---- rr ----

    @Test
    void rrRotatesInListOrder()
    {
        final RealServer[] s = servers(1, 1, 1);
        assertThat(sequence(updated(new RoundRobinScheduler(), s), s, 7)).containsExactly(0, 1, 2, 0, 1, 2, 0);
    }

    @Test
    void rrSkipsWeightZeroAndOverloaded()
    {
        final RealServer[] s = servers(1, 0, 1, 1);
        s[3].overloaded(true);
        assertThat(sequence(updated(new RoundRobinScheduler(), s), s, 6)).containsExactly(0, 2, 0, 2, 0, 2);
    }

    @Test
    void rrReturnsTheOnlyAvailableServerAgain()
    {
        final RealServer[] s = servers(0, 1, 0);
        assertThat(sequence(updated(new RoundRobinScheduler(), s), s, 3)).containsExactly(1, 1, 1);
    }

    @Test
    void rrCursorFollowsItsServerWhenOneIsAddedAtTheHead()
    {
        final RealServer[] three = servers(1, 1, 1);
        final Scheduler rr = updated(new RoundRobinScheduler(), three);
        assertThat(sequence(rr, three, 2)).containsExactly(0, 1); // cursor on three[1]
        final RealServer added = new RealServer(0x0A0000FF, 8080, 1);
        final RealServer[] four = {added, three[0], three[1], three[2]};
        rr.update(four, 4);
        // the kernel's cursor still points at the same server: next is three[2], then the new head
        assertThat(sequence(rr, four, 4)).containsExactly(3, 0, 1, 2);
    }

    @Test
    void rrCursorFallsBackToThePreviousEntryWhenItsServerIsRemoved()
    {
        final RealServer[] three = servers(1, 1, 1);
        final Scheduler rr = updated(new RoundRobinScheduler(), three);
        assertThat(sequence(rr, three, 2)).containsExactly(0, 1);
        final RealServer[] two = {three[0], three[2]};
        rr.update(two, 2);
        // ip_vs_rr_del_dest: cursor = the removed entry's predecessor (three[0]), so three[2] comes next
        assertThat(sequence(rr, two, 3)).containsExactly(1, 0, 1);
    }

    // ---- wrr ----

    @Test
    void wrrWeights432FollowTheKernelMarkSequence()
    {
        // mw = 4, di = 1; passes cw = 4: A; cw = 3: A B; cw = 2: A B C; cw = 1: A B C
        final RealServer[] s = servers(4, 3, 2);
        assertThat(sequence(updated(new WeightedRoundRobinScheduler(), s), s, 18))
            .containsExactly(repeat(2, 0, 0, 1, 0, 1, 2, 0, 1, 2));
    }

    @Test
    void wrrWeights51FollowTheKernelMarkSequence()
    {
        // cw = 5, 4, 3, 2: A only; cw = 1: A B
        final RealServer[] s = servers(5, 1);
        assertThat(sequence(updated(new WeightedRoundRobinScheduler(), s), s, 12))
            .containsExactly(repeat(2, 0, 0, 0, 0, 0, 1));
    }

    @Test
    void wrrUsesTheGcdStepAndLowersMaxWeightByDiMinusOne()
    {
        // di = 2, mw = 4 - 1 = 3: cw = 3: A; cw = 1: A B
        final RealServer[] s = servers(4, 2);
        assertThat(sequence(updated(new WeightedRoundRobinScheduler(), s), s, 9))
            .containsExactly(repeat(3, 0, 0, 1));
    }

    @Test
    void wrrServiceBuiltOneServerAtATimeFollowsDestChanged()
    {
        // As VirtualService does: init on the empty list, then add C(2), B(3), A(4) at the head.
        // init: mw = cw = 0; add C: di = 2, mw = 1, cw 0 -> 1; add B: mw = 3, cw stays 1; add A: mw = 4, cw stays 1.
        final RealServer[] abc = servers(4, 3, 2);
        final Scheduler wrr = new WeightedRoundRobinScheduler();
        wrr.update(new RealServer[0], 0);
        wrr.update(new RealServer[] {abc[2]}, 1);
        wrr.update(new RealServer[] {abc[1], abc[2]}, 2);
        wrr.update(abc, 3);
        assertThat(sequence(wrr, abc, 12)).containsExactly(concat(new int[] {0, 1, 2}, repeat(1, 0, 0, 1, 0, 1, 2, 0, 1, 2)));
    }

    @Test
    void wrrSkipsOverloadedAndGivesUpWhenAllAreOverloaded()
    {
        final RealServer[] s = servers(2, 1);
        final Scheduler wrr = updated(new WeightedRoundRobinScheduler(), s);
        s[0].overloaded(true);
        assertThat(sequence(wrr, s, 3)).containsExactly(1, 1, 1);
        s[1].overloaded(true);
        assertThat(sequence(wrr, s, 2)).containsExactly(-1, -1);
        s[0].overloaded(false);
        assertThat(sequence(wrr, s, 2)).containsExactly(0, 0);
    }

    // ---- lc ----

    @Test
    void lcPicksLeastOverheadWithActiveCountedTimes256()
    {
        final RealServer[] s = servers(1, 1, 1);
        s[0].connections(2, 0);   // 512
        s[1].connections(1, 10);  // 266
        s[2].connections(0, 300); // 300
        assertThat(updated(new LeastConnectionScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void lcBreaksTiesByListOrderAndIgnoresWeightAboveZero()
    {
        final RealServer[] s = servers(1, 100, 1);
        s[0].connections(1, 0);
        s[1].connections(0, 200);
        s[2].connections(0, 200);
        assertThat(updated(new LeastConnectionScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void lcSkipsWeightZeroAndOverloaded()
    {
        final RealServer[] s = servers(0, 1, 1);
        s[1].overloaded(true);
        s[2].connections(50, 50);
        assertThat(updated(new LeastConnectionScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(2);
    }

    // ---- wlc ----

    @Test
    void wlcPicksLeastOverheadPerWeight()
    {
        final RealServer[] s = servers(1, 3);
        s[0].connections(1, 0); // 256 / 1
        s[1].connections(2, 0); // 512 / 3
        assertThat(updated(new WeightedLeastConnectionScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void wlcTieKeepsTheEarlierServer()
    {
        final RealServer[] s = servers(1, 2);
        s[0].connections(1, 0); // 256 / 1
        s[1].connections(2, 0); // 512 / 2
        assertThat(updated(new WeightedLeastConnectionScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(0);
    }

    @Test
    void wlcCountsInactiveConnections()
    {
        final RealServer[] s = servers(1, 1);
        s[0].connections(1, 0);   // 256
        s[1].connections(0, 300); // 300
        assertThat(updated(new WeightedLeastConnectionScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(0);
    }

    @Test
    void wlcNeverPicksWeightZeroEvenWhenIdle()
    {
        final RealServer[] s = servers(0, 1, 0);
        s[1].connections(5, 0);
        assertThat(updated(new WeightedLeastConnectionScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(1);
    }

    // ---- sed ----

    @Test
    void sedPicksSmallestActivePlusOnePerWeight()
    {
        final RealServer[] s = servers(1, 4);
        s[0].connections(0, 0); // 1 / 1
        s[1].connections(2, 0); // 3 / 4
        assertThat(updated(new ShortestExpectedDelayScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void sedTieKeepsTheEarlierServerAndIgnoresInactive()
    {
        final RealServer[] s = servers(1, 3);
        s[0].connections(0, 1000); // 1 / 1
        s[1].connections(2, 0);    // 3 / 3
        assertThat(updated(new ShortestExpectedDelayScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(0);
    }

    @Test
    void sedDiffersFromWlcOnIdleServersOfDifferentWeight()
    {
        // wlc: 0 * 10 > 0 * 1 is false, keeps the first; sed: 1 * 10 > 1 * 1, takes the heavier one
        final RealServer[] s = servers(1, 10);
        assertThat(updated(new WeightedLeastConnectionScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(0);
        assertThat(updated(new ShortestExpectedDelayScheduler(), s).schedule(s, 2, 1, 1, VIP, 80)).isEqualTo(1);
    }

    // ---- nq ----

    @Test
    void nqTakesTheFirstIdleServerWhateverItsWeight()
    {
        final RealServer[] s = servers(10, 1, 1);
        s[0].connections(5, 0);
        assertThat(updated(new NeverQueueScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void nqFallsBackToSedWithoutIdleServers()
    {
        final RealServer[] s = servers(1, 3, 3);
        s[0].connections(1, 0); // 2 / 1
        s[1].connections(3, 0); // 4 / 3
        s[2].connections(2, 0); // 3 / 3
        assertThat(updated(new NeverQueueScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(2);
        s[2].connections(3, 0); // tie with s[1]: the earlier one stays
        assertThat(updated(new NeverQueueScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(1);
    }

    @Test
    void nqSkipsIdleServersThatAreWeightZeroOrOverloaded()
    {
        final RealServer[] s = servers(0, 1, 1);
        s[1].overloaded(true);
        s[2].connections(7, 0);
        assertThat(updated(new NeverQueueScheduler(), s).schedule(s, 3, 1, 1, VIP, 80)).isEqualTo(2);
    }

    // ---- every scheduler ----

    @ParameterizedTest
    @ValueSource(strings = {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh"})
    void weightZeroServersNeverGetNewConnections(final String name)
    {
        for (final SchedulerFlags flags : new SchedulerFlags[] {
            SchedulerFlags.NONE, new SchedulerFlags(true, false), new SchedulerFlags(true, true)})
        {
            final RealServer[] s = servers(1, 0, 2, 0);
            final Scheduler scheduler = updated(Schedulers.create(name, flags), s);
            final SplittableRandom random = new SplittableRandom(11);
            for (int i = 0; i < 5_000; i++)
            {
                final int pick = scheduler.schedule(s, s.length, random.nextInt(), random.nextInt(1, 65536),
                    random.nextInt(), 80);
                assertThat(pick).as("%s %s", name, flags).isIn(-1, 0, 2);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh"})
    void nothingAvailableGivesMinusOne(final String name)
    {
        final SchedulerFlags fallback = new SchedulerFlags(true, false);
        final Scheduler empty = Schedulers.create(name, fallback);
        empty.update(new RealServer[0], 0);
        assertThat(empty.schedule(new RealServer[0], 0, 1, 1, VIP, 80)).isEqualTo(-1);

        final RealServer[] zero = servers(0, 0, 0);
        final Scheduler allZero = updated(Schedulers.create(name, fallback), zero);
        final RealServer[] over = servers(1, 2, 3);
        for (final RealServer server : over)
        {
            server.overloaded(true);
        }
        final Scheduler allOver = updated(Schedulers.create(name, fallback), over);
        for (int i = 0; i < 300; i++)
        {
            assertThat(allZero.schedule(zero, 3, 0x0B000000 + i, 1000 + i, VIP + i, 80)).isEqualTo(-1);
            assertThat(allOver.schedule(over, 3, 0x0B000000 + i, 1000 + i, VIP + i, 80)).isEqualTo(-1);
        }
    }

    @Test
    void factoryCreatesEveryKernelSchedulerByName()
    {
        for (final String name : ALL)
        {
            assertThat(Schedulers.create(name, SchedulerFlags.NONE).name()).isEqualTo(name);
        }
        assertThat(Schedulers.create("mh", null)).isInstanceOf(MaglevScheduler.class);
    }

    @Test
    void factoryRejectsUnknownNamesListingTheValidOnes()
    {
        assertThatThrownBy(() -> Schedulers.create("lblc", SchedulerFlags.NONE))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("lblc")
            .hasMessageContaining("rr, wrr, lc, wlc, sed, nq, sh, dh, mh");
    }
}
