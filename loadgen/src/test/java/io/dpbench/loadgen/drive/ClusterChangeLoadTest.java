package io.dpbench.loadgen.drive;

import io.dpbench.control.SyncReport;
import io.dpbench.loadgen.workload.WorkloadSpec;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.SyntheticCluster;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** The load generator told of a cluster change mid-run, in-process: its node follows, and so do its checks. */
class ClusterChangeLoadTest
{
    private static WorkloadSpec workload()
    {
        return new WorkloadSpec(100, 4, 1, 4, 200, 0.25, 1.0, WorkloadSpec.IMIX, 0.7);
    }

    /** The workload's cluster with the first endpoint of every slice that has more than one gone. */
    private static ClusterModel fewerEndpoints(final WorkloadSpec spec, final int[] removed)
    {
        final ClusterModel model = SyntheticCluster.generate(spec.services(), spec.endpoints(), spec.seed(),
            spec.mix(), spec.nodes());
        final List<EndpointSlice> slices = new ArrayList<>();
        for (final EndpointSlice s : model.endpointSlices())
        {
            if (s.endpoints().size() > 1)
            {
                slices.add(new EndpointSlice(s.namespace(), s.name(), s.serviceName(),
                    s.endpoints().subList(1, s.endpoints().size()), s.ports()));
                removed[0] += s.ports().size();
            }
            else
            {
                slices.add(s);
            }
        }
        return new ClusterModel(model.services(), slices);
    }

    /** Runs 3 s, telling {@code change} the new cluster after 1 s from another thread. */
    private static LoadGenerator runWithChangeAfterOneSecond(final String mode, final int workers,
        final Consumer<LoadGenerator> change, final AtomicReference<LoadResult> result) throws InterruptedException
    {
        final LoadGenerator g = new LoadGenerator(new LoadGenerator.Options(mode, "rr", workers, 3_000_000_000L, 0, 0,
            workload(), 0, 1 << 19, null, false), line -> { }, null);
        final Thread control = new Thread(() ->
        {
            try
            {
                Thread.sleep(1_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
            change.accept(g);
        }, "test-control");
        control.start();
        result.set(g.run());
        control.join();
        return g;
    }

    private static void assertChecksHold(final LoadResult r)
    {
        assertThat(r.accountingHolds()).as("sent %d = received %d + counted drops %d (%s)", r.sent(), r.received(),
            r.countedDrops(), r.drops()).isTrue();
        assertThat(r.backendChanged()).as("flows that changed backend").isZero();
        assertThat(r.untranslated()).as("replies not from the VIP:port").isZero();
        assertThat(r.unexpected()).isZero();
    }

    @Test
    void newFlowsReachOnlyTheEndpointsLeftAfterTheChangeInBothModes() throws InterruptedException
    {
        for (final String mode : List.of("ipvs", "iptables"))
        {
            final int[] removed = new int[1];
            final ClusterModel next = fewerEndpoints(workload(), removed);
            final AtomicReference<SyncReport> report = new AtomicReference<>();
            final AtomicReference<LoadResult> result = new AtomicReference<>();
            // two workers: only endpoints leave, so every reply still comes from a backend the steering knows
            final LoadGenerator g = runWithChangeAfterOneSecond(mode, 2, gen -> report.set(gen.clusterChanged(next)),
                result);
            final LoadResult r = result.get();
            assertChecksHold(r);
            assertThat(report.get()).as(mode).isNotNull();
            assertThat(report.get().version()).isEqualTo(1);
            assertThat(report.get().change().endpointsRemoved()).isEqualTo(removed[0]);
            assertThat(g.clusterChanges()).isEqualTo(1);
            assertThat(g.newFlowsChecked()).as("%s: new flows checked", mode).isGreaterThan(100);
            assertThat(g.staleBackends()).as("%s: new flows to a removed endpoint", mode).isZero();
            assertThat(r.flowsCompleted()).isGreaterThan(100);
        }
    }

    @Test
    void theChecksCatchANodeThatWasNotTold() throws InterruptedException
    {
        final int[] removed = new int[1];
        final ClusterModel next = fewerEndpoints(workload(), removed);
        final AtomicReference<LoadResult> result = new AtomicReference<>();
        // only the generator's checks follow: its node still sends new flows to the endpoints that left
        final LoadGenerator g = runWithChangeAfterOneSecond("ipvs", 1, gen -> gen.expectCluster(next), result);
        assertThat(g.clusterChanges()).isEqualTo(1);
        assertThat(g.staleBackends()).isPositive();
        assertThat(g.staleBackends()).isLessThan(g.newFlowsChecked());
        assertThat(result.get().accountingHolds()).isTrue();
    }
}
