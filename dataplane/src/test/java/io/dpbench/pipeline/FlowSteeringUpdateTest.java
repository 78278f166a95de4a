package io.dpbench.pipeline;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.SyntheticCluster;
import io.dpbench.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After a cluster change, steering still sends the packets of connections to a Service (or from an endpoint) that
 * went away to the worker that holds them: conntrack keeps translating them until they expire.
 */
class FlowSteeringUpdateTest
{
    @Test
    void connectionsOfAServiceThatWentAwayKeepTheirWorker()
    {
        final NodeConfig node = NodeConfig.defaults();
        final ClusterModel before = SyntheticCluster.generate(40, 4, 1, SyntheticCluster.Mix.CLUSTER_IP, 4);
        final FlowSteering steering = FlowSteering.of(before, node, 4, 0);
        final ClusterModel after = new ClusterModel(before.services().subList(0, 10), before.endpointSlices().subList(0, 10));
        final int[] workers = new int[30 * 64];
        int k = 0;
        for (final Service gone : before.services().subList(10, 40))
        {
            final int vip = Ipv4Address.parse(gone.clusterIP());
            final int port = gone.ports().get(0).port();
            for (int c = 0; c < 64; c++)
            {
                workers[k++] = steering.worker(6, Ipv4Address.parse("10.244.0.100") + c * 7, 40000 + c, vip, port);
            }
        }
        steering.update(after, node);
        k = 0;
        for (final Service gone : before.services().subList(10, 40))
        {
            final int vip = Ipv4Address.parse(gone.clusterIP());
            final int port = gone.ports().get(0).port();
            for (int c = 0; c < 64; c++)
            {
                assertThat(steering.worker(6, Ipv4Address.parse("10.244.0.100") + c * 7, 40000 + c, vip, port))
                    .as("a client's connection to %s after its Service went away", gone.name()).isEqualTo(workers[k++]);
            }
        }
        // and the workers a client's connections go to are spread (the check is not vacuous)
        assertThat(List.of(workers[0], workers[1], workers[2], workers[3], workers[4], workers[5], workers[6],
            workers[7]).stream().distinct().count()).isGreaterThan(1);
    }
}
