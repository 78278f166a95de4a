package io.dpbench.control;

import io.dpbench.conntrack.ConntrackRecord;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.conntrack.FlowCache;
import io.dpbench.ipvs.RealServer;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.ipvs.VirtualService;
import io.dpbench.ipvs.sched.Schedulers;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.Endpoint;
import io.dpbench.model.EndpointSlice;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Protocol;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePort;
import io.dpbench.model.ServiceType;
import io.dpbench.model.TrafficPolicy;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterSyncTest
{
    static final NodeConfig NODE = NodeConfig.defaults();
    static final int TCP = 6;
    static final int UDP = 17;
    static final int WEB = Ipv4Address.parse("10.96.0.1");
    static final int OTHER = Ipv4Address.parse("10.96.0.2");
    static final int STICKY = Ipv4Address.parse("10.96.0.3");
    static final int DNS = Ipv4Address.parse("10.96.0.10");

    private static Service service(final String name, final String ip, final Protocol protocol, final int port,
        final boolean affinity)
    {
        return new Service("default", name, ServiceType.CLUSTER_IP, ip, List.of(), List.of(), List.of(),
            List.of(new ServicePort("p", protocol, port, "", 0)), TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER,
            affinity, affinity ? 10800 : 0, 0);
    }

    private static EndpointSlice slice(final String service, final Protocol protocol, final int port,
        final List<String> ips)
    {
        return new EndpointSlice("default", service + "-x", service,
            ips.stream().map(ip -> new Endpoint(ip, true, true, false, "node-1")).toList(),
            List.of(new EndpointSlice.EndpointPort("p", protocol, port)));
    }

    /** web (TCP), other (TCP, unchanged by the tests), sticky (TCP, ClientIP affinity), dns (UDP). */
    static ClusterModel cluster(final List<String> web, final List<String> sticky, final List<String> dns)
    {
        return new ClusterModel(
            List.of(service("web", "10.96.0.1", Protocol.TCP, 80, false),
                service("other", "10.96.0.2", Protocol.TCP, 80, false),
                service("sticky", "10.96.0.3", Protocol.TCP, 80, true),
                service("dns", "10.96.0.10", Protocol.UDP, 53, false)),
            List.of(slice("web", Protocol.TCP, 8080, web),
                slice("other", Protocol.TCP, 8080, List.of("10.244.5.1", "10.244.5.2", "10.244.5.3")),
                slice("sticky", Protocol.TCP, 8080, sticky),
                slice("dns", Protocol.UDP, 5353, dns)));
    }

    static ClusterModel before()
    {
        return cluster(List.of("10.244.1.1", "10.244.1.2"), List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"),
            List.of("10.244.2.1", "10.244.2.2"));
    }

    static int client(final int i)
    {
        return Ipv4Address.parse("10.244.0.2") + i;
    }

    /** The backend (address) a new flow gets, or -1 when it is not DNATed. */
    static int backend(final NewFlowSelector s, final int protocol, final int client, final int port, final int vip,
        final int vport, final long now)
    {
        final NewFlowDecision d = new NewFlowDecision();
        s.select(protocol, client, port, vip, vport, now, d);
        return d.verdict == NewFlowDecision.DNAT ? d.dnatAddress : -1;
    }

    static Set<String> backends(final NewFlowSelector s, final int vip, final int flows)
    {
        final Set<String> seen = new HashSet<>();
        for (int i = 0; i < flows; i++)
        {
            final int b = backend(s, TCP, client(i % 50), 30000 + i, vip, 80, i);
            seen.add(b < 0 ? "none" : Ipv4Address.toString(b));
        }
        return seen;
    }

    @ParameterizedTest
    @CsvSource({"iptables, rr", "ipvs, rr", "ipvs, mh", "ipvs, wlc", "nftables, rr"})
    void newFlowsReachOnlyCurrentEndpointsOnceAWorkerPicksTheVersionUp(final String mode, final String scheduler)
    {
        final ClusterSync sync = new ClusterSync(mode, scheduler, 7, NODE, before(), 2);
        assertThat(sync.version()).isZero();
        assertThat(sync.lastReport()).isNull();
        final NewFlowSelector[] old = {sync.selector(0), sync.selector(1)};
        for (final NewFlowSelector s : old)
        {
            assertThat(backends(s, WEB, 200)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.2");
        }

        final ClusterModel after = cluster(List.of("10.244.1.1", "10.244.1.3"),
            List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"), List.of("10.244.2.1", "10.244.2.2"));
        final SyncReport report = sync.apply(after);
        assertThat(report.version()).isEqualTo(1);
        assertThat(sync.version()).isEqualTo(1);
        assertThat(report.change().endpointsAdded()).isEqualTo(1);
        assertThat(report.change().endpointsRemoved()).isEqualTo(1);
        assertThat(report.change().changedServices()).containsExactly("default/web");
        assertThat(report.staleUdp()).as("web is TCP: nothing for conntrack").isNull();
        assertThat(report.durationNanos()).isPositive().isGreaterThanOrEqualTo(report.diffNanos());
        assertThat(report.totals().syncs()).isEqualTo(1);
        assertThat(report.totals().totalNanos()).isEqualTo(report.durationNanos());
        assertThat(report.totals().endpointsAdded()).isEqualTo(1);
        assertThat(sync.lastReport()).isSameAs(report);
        assertThat(sync.model()).isSameAs(after);
        assertThat(report.summary()).startsWith("sync v1 (" + mode + ") ").contains("endpoints +1 -1 ~0")
            .contains(mode.equals("ipvs") ? "real servers +1 -1" : mode.equals("nftables") ? "partial sync of 1 Services"
                : "rules compiled");

        // worker 1 has not looked: it still decides with the old state, untouched by the control thread
        assertThat(sync.pickedUpVersion(1)).isZero();
        assertThat(backends(old[1], WEB, 200)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.2");

        final NewFlowSelector now0 = sync.selector(0);
        assertThat(sync.pickedUpVersion(0)).isEqualTo(1);
        assertThat(backends(now0, WEB, 300)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.3");
        assertThat(backends(sync.selector(1), WEB, 300)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.3");
        assertThat(sync.selector(0)).as("nothing new: the same selector").isSameAs(now0);

        // an apply that changes nothing publishes nothing
        final SyncReport noop = sync.apply(after);
        assertThat(noop.version()).isEqualTo(1);
        assertThat(sync.version()).isEqualTo(1);
        assertThat(noop.change().isEmpty()).isTrue();
        assertThat(noop.totals().syncs()).isEqualTo(1);
        assertThat(noop.totals().noopSyncs()).isEqualTo(1);
        assertThat(noop.backendWork()).isEqualTo("nothing to do");

        // a Service added and one removed
        final ClusterModel grown = new ClusterModel(
            List.of(service("web", "10.96.0.1", Protocol.TCP, 80, false),
                service("new", "10.96.0.50", Protocol.TCP, 80, false)),
            List.of(slice("web", Protocol.TCP, 8080, List.of("10.244.1.1", "10.244.1.3")),
                slice("new", Protocol.TCP, 8080, List.of("10.244.9.9"))));
        final SyncReport third = sync.apply(grown);
        assertThat(third.version()).isEqualTo(2);
        assertThat(third.change().servicePortsAdded()).hasSize(1);
        assertThat(third.change().servicePortsRemoved()).hasSize(3);
        final NewFlowSelector s = sync.selector(0);
        assertThat(backends(s, Ipv4Address.parse("10.96.0.50"), 10)).containsExactly("10.244.9.9");
        assertThat(backends(s, OTHER, 10)).as("a removed Service is no longer translated").containsExactly("none");
        assertThat(sync.totals().syncs()).isEqualTo(2);
        assertThat(sync.totals().servicePortsAdded()).isEqualTo(1);
    }

    @Test
    void ipvsKeepsTheSchedulerStateOfWhatDidNotChangeAndChangesServersInPlace()
    {
        final ClusterSync sync = new ClusterSync("ipvs", "rr", 7, NODE, before(), 1);
        NewFlowSelector s = sync.selector(0);
        // rr walks the list, the last added first: sorted endpoints added in order, so .3, .2, .1
        assertThat(backend(s, TCP, client(0), 1000, OTHER, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.5.3"));
        // web: list .2, .1; the cursor on .2
        assertThat(backend(s, TCP, client(0), 1001, WEB, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.1.2"));

        sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2", "10.244.1.3"),
            List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"), List.of("10.244.2.1", "10.244.2.2")));
        s = sync.selector(0);
        assertThat(backend(s, TCP, client(0), 1002, OTHER, 80, 0)).as("other's cursor moved on, not restarted")
            .isEqualTo(Ipv4Address.parse("10.244.5.2"));
        // web got .3 at the head (list .3, .2, .1) and kept its cursor on .2, as the kernel's ip_vs_add_dest does
        assertThat(backend(s, TCP, client(0), 1003, WEB, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.1.1"));
        assertThat(backend(s, TCP, client(0), 1004, WEB, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.1.3"));
        assertThat(sync.lastReport().backendWork())
            .isEqualTo("ipvs: virtual services +0 -0 ~0, real servers +1 -0");

        // a fresh node over the same cluster starts at the head instead
        final NewFlowSelector fresh = new ClusterSync("ipvs", "rr", 7, NODE, sync.model(), 1).selector(0);
        assertThat(backend(fresh, TCP, client(0), 1000, OTHER, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.5.3"));
        assertThat(backend(fresh, TCP, client(0), 1001, WEB, 80, 0)).isEqualTo(Ipv4Address.parse("10.244.1.3"));
    }

    @Test
    void mhIsReplacedByATableBuiltAsTheKernelsAddsAndDeletesWouldLeaveIt()
    {
        final ClusterSync sync = new ClusterSync("ipvs", "mh", 7, NODE, before(), 1);
        sync.selector(0);
        final SyncReport r = sync.apply(cluster(List.of("10.244.1.1", "10.244.1.3"),
            List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"), List.of("10.244.2.1", "10.244.2.2")));
        assertThat(r.backendWork()).isEqualTo("ipvs: virtual services +0 -0 ~1, real servers +1 -1");
        final NewFlowSelector s = sync.selector(0);

        // the kernel's way: web created with .1 then .2, then ipvsadm -a .3 and -d .2, each rebuilding mh's table
        final VirtualService reference = new VirtualService(TCP, WEB, 80,
            Schedulers.create("mh", SchedulerFlags.NONE), 0);
        for (final String ip : List.of("10.244.1.1", "10.244.1.2", "10.244.1.3"))
        {
            reference.addDestination(new RealServer(Ipv4Address.parse(ip), 8080, 1));
        }
        reference.removeDestination(Ipv4Address.parse("10.244.1.2"), 8080);
        for (int i = 0; i < 2000; i++)
        {
            final int c = Ipv4Address.parse("10.244.0.0") + i * 7919;
            final int expected = reference.destination(reference.schedule(c, 40000, 0)).address();
            assertThat(backend(s, TCP, c, 40000, WEB, 80, 0)).as("client %s", Ipv4Address.toString(c))
                .isEqualTo(expected);
        }
    }

    @Test
    void ipvsPersistenceFollowsEachClientsServerAcrossAddsAndDeletes()
    {
        final ClusterSync sync = new ClusterSync("ipvs", "rr", 7, NODE, before(), 1);
        NewFlowSelector s = sync.selector(0);
        final int[] bound = new int[30];
        for (int i = 0; i < bound.length; i++)
        {
            bound[i] = backend(s, TCP, client(i), 2000 + i, STICKY, 80, 1_000_000_000L);
        }
        assertThat(java.util.Arrays.stream(bound).distinct().count()).isEqualTo(3);

        // .4 added at the head of the list: every index moves, the templates must follow their servers
        sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2"),
            List.of("10.244.3.1", "10.244.3.2", "10.244.3.3", "10.244.3.4"), List.of("10.244.2.1", "10.244.2.2")));
        s = sync.selector(0);
        for (int i = 0; i < bound.length; i++)
        {
            assertThat(backend(s, TCP, client(i), 3000 + i, STICKY, 80, 2_000_000_000L)).as("client %d", i)
                .isEqualTo(bound[i]);
        }
        // .2 deleted: its clients move, the others stay
        sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2"),
            List.of("10.244.3.1", "10.244.3.3", "10.244.3.4"), List.of("10.244.2.1", "10.244.2.2")));
        s = sync.selector(0);
        final int gone = Ipv4Address.parse("10.244.3.2");
        for (int i = 0; i < bound.length; i++)
        {
            final int now = backend(s, TCP, client(i), 4000 + i, STICKY, 80, 3_000_000_000L);
            assertThat(now).isNotEqualTo(gone);
            if (bound[i] != gone)
            {
                assertThat(now).as("client %d", i).isEqualTo(bound[i]);
            }
        }
    }

    @Test
    void iptablesClientIpAffinitySurvivesARecompile()
    {
        final ClusterSync sync = new ClusterSync("iptables", "rr", 7, NODE, before(), 1);
        NewFlowSelector s = sync.selector(0);
        final int[] bound = new int[30];
        for (int i = 0; i < bound.length; i++)
        {
            bound[i] = backend(s, TCP, client(i), 2000 + i, STICKY, 80, 1_000_000_000L);
        }
        assertThat(java.util.Arrays.stream(bound).distinct().count()).isGreaterThan(1);
        // web changes (sticky's rules are rewritten by the full render, their recent tables kept), then sticky
        // itself gains an endpoint
        sync.apply(cluster(List.of("10.244.1.1"), List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"),
            List.of("10.244.2.1", "10.244.2.2")));
        sync.apply(cluster(List.of("10.244.1.1"), List.of("10.244.3.1", "10.244.3.2", "10.244.3.3", "10.244.3.4"),
            List.of("10.244.2.1", "10.244.2.2")));
        s = sync.selector(0);
        for (int i = 0; i < bound.length; i++)
        {
            assertThat(backend(s, TCP, client(i), 3000 + i, STICKY, 80, 2_000_000_000L)).as("client %d", i)
                .isEqualTo(bound[i]);
        }
        // a new client may reach the new endpoint
        final Set<Integer> fresh = new HashSet<>();
        for (int i = 100; i < 300; i++)
        {
            fresh.add(backend(s, TCP, client(i), 5000, STICKY, 80, 2_000_000_000L));
        }
        assertThat(fresh).contains(Ipv4Address.parse("10.244.3.4"));
    }

    /** A connection as the dataplane records it after the selector's decision. */
    private static ConntrackRecord connection(final int client, final int sport, final int backend)
    {
        return new ConntrackRecord().clear()
            .original(FlowKey.packAddresses(client, DNS), FlowKey.packPorts(UDP, sport, 53))
            .reply(FlowKey.packAddresses(backend, client), FlowKey.packPorts(UDP, 5353, sport))
            .status(ConntrackRecord.IPS_DST_NAT).expiryMillis(120_000);
    }

    @ParameterizedTest
    @CsvSource({"iptables, rr", "ipvs, rr", "nftables, rr"})
    void removedUdpEndpointsFlowsAreCleanedByEachWorkerFromItsOwnViewAndCache(final String mode, final String scheduler)
    {
        final int workers = 2;
        final ClusterSync sync = new ClusterSync(mode, scheduler, 7, NODE, before(), workers);
        try (ConntrackTable table = ConntrackTable.inMemory(10_000))
        {
            final ConntrackTable[] views = new ConntrackTable[workers];
            final FlowCache[] caches = new FlowCache[workers];
            for (int w = 0; w < workers; w++)
            {
                final int worker = w;
                views[w] = table.view((addresses, ports) -> (int)((addresses >>> 32) & 1) == worker);
                caches[w] = new FlowCache(views[w], 4096); // room for every flow: none evicted
            }
            final int gone = Ipv4Address.parse("10.244.2.2");
            final int[] toGone = new int[workers];
            final List<ConntrackRecord> kept = new ArrayList<>();
            for (int i = 0; i < 400; i++)
            {
                final int c = client(i);
                final int w = c & 1;
                final int b = backend(sync.selector(w), UDP, c, 40000, DNS, 53, 0);
                final ConntrackRecord r = connection(c, 40000, b);
                assertThat(views[w].insert(r)).isTrue();
                caches[w].admit(r, 0);
                if (b == gone)
                {
                    toGone[w]++;
                }
                else
                {
                    kept.add(r);
                }
            }
            assertThat(toGone[0]).isPositive();
            assertThat(toGone[1]).isPositive();

            final SyncReport r = sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2"),
                List.of("10.244.3.1", "10.244.3.2", "10.244.3.3"), List.of("10.244.2.1")));
            assertThat(r.staleUdp()).isNotNull();
            assertThat(r.staleUdp().frontendCount()).isEqualTo(1);
            assertThat(r.totals().conntrackCleanups()).isEqualTo(1);
            assertThat(r.summary()).contains("conntrack: reconcile 1 UDP service ports");
            for (int w = 0; w < workers; w++)
            {
                assertThat(sync.cleanStaleUdp(w, views[w], caches[w], 4)).as("not picked up yet").isZero();
                final NewFlowSelector s = sync.selector(w);
                assertThat(sync.staleUdpPending(w)).isTrue();
                int removed = 0;
                int passes = 0;
                while (sync.staleUdpPending(w))
                {
                    removed += sync.cleanStaleUdp(w, views[w], caches[w], 4);
                    passes++;
                }
                assertThat(passes).isEqualTo((table.segments() + 3) / 4);
                assertThat(removed).isEqualTo(toGone[w]);
                assertThat(sync.staleFlowsRemoved(w)).isEqualTo(toGone[w]);
                assertThat(backend(s, UDP, client(1000 + w), 41000, DNS, 53, 0)).as("a new flow")
                    .isEqualTo(Ipv4Address.parse("10.244.2.1"));
            }
            assertThat(table.primaryCount()).isEqualTo(kept.size());
            final ConntrackRecord found = new ConntrackRecord();
            for (final ConntrackRecord k : kept)
            {
                assertThat(table.lookup(k.originalAddresses(), k.originalPorts(), found)).isEqualTo(ConntrackTable.ORIGINAL);
                final int w = (int)((k.originalAddresses() >>> 32) & 1);
                assertThat(caches[w].lookup(k.originalAddresses(), k.originalPorts())).isNotNegative();
            }
            for (int w = 0; w < workers; w++)
            {
                for (int i = 0; i < 400; i++)
                {
                    final int slot = caches[w].lookup(FlowKey.packAddresses(client(i), DNS), FlowKey.packPorts(UDP, 40000, 53));
                    if (slot >= 0)
                    {
                        assertThat((int)(caches[w].record(slot).replyAddresses() >>> 32)).isNotEqualTo(gone);
                    }
                }
            }
        }
    }

    @Test
    void theNewestUdpCleanupReplacesAnUnfinishedOne()
    {
        final ClusterSync sync = new ClusterSync("ipvs", "rr", 7, NODE, before(), 1);
        sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2"), List.of("10.244.3.1"), List.of("10.244.2.1")));
        try (ConntrackTable table = ConntrackTable.inMemory(1000))
        {
            // dns goes back to .2 only: the reconcile against the newest state is the one that counts
            final ConntrackRecord toOne = connection(client(1), 40000, Ipv4Address.parse("10.244.2.1"));
            assertThat(table.insert(toOne)).isTrue();
            sync.selector(0);
            sync.cleanStaleUdp(0, table, null, 1); // one segment of the first pass
            sync.apply(cluster(List.of("10.244.1.1", "10.244.1.2"), List.of("10.244.3.1"), List.of("10.244.2.2")));
            sync.selector(0);
            int removed = 0;
            while (sync.staleUdpPending(0))
            {
                removed += sync.cleanStaleUdp(0, table, null, 8);
            }
            assertThat(removed).isEqualTo(1);
            assertThat(table.primaryCount()).isZero();
        }
    }

    @Test
    void aFollowingSelectorPicksNewVersionsUpByItself()
    {
        final ClusterSync sync = new ClusterSync("ipvs", "rr", 7, NODE, before(), 1);
        final NewFlowSelector following = sync.followingSelector(0);
        assertThat(following.mode()).isEqualTo("ipvs");
        assertThat(backends(following, WEB, 10)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.2");
        sync.apply(cluster(List.of("10.244.1.7"), List.of("10.244.3.1"), List.of("10.244.2.1")));
        assertThat(backends(following, WEB, 10)).containsExactly("10.244.1.7");
        assertThat(sync.pickedUpVersion(0)).isEqualTo(1);
    }

    @Test
    void badInputIsRefusedAndAFailedApplyPublishesNothing()
    {
        assertThatThrownBy(() -> new ClusterSync("nft", "rr", 1, NODE, before(), 1))
            .hasMessage("mode: expected iptables, ipvs or nftables, got 'nft'");
        assertThatThrownBy(() -> new ClusterSync("ipvs", "fifo", 1, NODE, before(), 1))
            .hasMessageStartingWith("scheduler: ");
        for (final String mode : List.of("iptables", "ipvs"))
        {
            final ClusterSync sync = new ClusterSync(mode, "rr", 1, NODE, before(), 1);
            final ClusterModel broken = cluster(List.of("10.244.1.300"), List.of("10.244.3.1"), List.of("10.244.2.1"));
            assertThatThrownBy(() -> sync.apply(broken)).isInstanceOf(RuntimeException.class);
            assertThat(sync.version()).isZero();
            assertThat(sync.model()).isNotSameAs(broken);
            assertThat(backends(sync.selector(0), WEB, 20)).containsExactlyInAnyOrder("10.244.1.1", "10.244.1.2");
            // and the next good apply is computed against the state before the failed one
            final SyncReport r = sync.apply(cluster(List.of("10.244.1.1"), List.of("10.244.3.1", "10.244.3.2",
                "10.244.3.3"), List.of("10.244.2.1", "10.244.2.2")));
            assertThat(r.change().endpointsRemoved()).as(mode).isEqualTo(1);
            assertThat(backends(sync.selector(0), WEB, 20)).containsExactly("10.244.1.1");
        }
    }

    /**
     * Workers decide new flows while the control thread applies changes: every decision a worker makes after picking
     * up version v goes to an endpoint of version v, and nothing throws.
     */
    @ParameterizedTest
    @CsvSource({"iptables, rr", "ipvs, rr", "ipvs, mh", "nftables, rr"})
    void workersNeverSeeAHalfAppliedChange(final String mode, final String scheduler) throws Exception
    {
        final int workers = 2;
        final ClusterModel start = before();
        final ClusterSync sync = new ClusterSync(mode, scheduler, 7, NODE, start, workers);
        final Map<Long, Set<Integer>> allowed = new ConcurrentHashMap<>();
        allowed.put(0L, Set.of(Ipv4Address.parse("10.244.1.1"), Ipv4Address.parse("10.244.1.2")));
        final AtomicBoolean done = new AtomicBoolean();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final long[] decisions = new long[workers];
        final long[] versionsSeen = new long[workers];
        final Thread[] threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            final int worker = w;
            threads[w] = new Thread(() ->
            {
                try
                {
                    long seen = -1;
                    NewFlowSelector s = null;
                    int port = 0;
                    boolean last = false;
                    while (!last)
                    {
                        last = done.get();
                        if (sync.version() != seen)
                        {
                            s = sync.selector(worker);
                            seen = sync.pickedUpVersion(worker);
                            versionsSeen[worker]++;
                        }
                        final Set<Integer> ok = allowed.get(seen);
                        for (int i = 0; i < 64; i++) // a batch
                        {
                            port = (port + 1) & 0x7FFF;
                            final int b = backend(s, TCP, client(i), 10000 + port, WEB, 80, port);
                            decisions[worker]++;
                            if (!ok.contains(b))
                            {
                                errors.add("worker " + worker + " v" + seen + " chose " + Ipv4Address.toString(b));
                                return;
                            }
                        }
                    }
                    if (seen != sync.version())
                    {
                        errors.add("worker " + worker + " ended on v" + seen + " of " + sync.version());
                    }
                }
                catch (final RuntimeException ex)
                {
                    errors.add("worker " + worker + ": " + ex);
                }
            }, "sync-test-worker-" + w);
            threads[w].start();
        }
        final SplittableRandom random = new SplittableRandom(11);
        final List<String> candidates = List.of("10.244.1.1", "10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.5",
            "10.244.1.6");
        ClusterModel previous = start;
        for (int n = 1; n <= 150 && errors.isEmpty(); n++)
        {
            final List<String> web = candidates.stream().filter(c -> random.nextBoolean()).collect(Collectors.toList());
            if (web.isEmpty())
            {
                web.add(candidates.get(random.nextInt(candidates.size())));
            }
            if (web.equals(previous.endpointSlices().get(0).endpoints().stream().map(Endpoint::address).toList()))
            {
                web.add(web.contains("10.244.1.9") ? "10.244.1.8" : "10.244.1.9");
                web.sort(null);
            }
            // the sticky Service comes and goes too, so IPVS adds and deletes whole virtual services
            final ClusterModel next = n % 3 == 0
                ? new ClusterModel(List.of(start.services().get(0)), List.of(slice("web", Protocol.TCP, 8080, web)))
                : cluster(web, List.of("10.244.3.1"), List.of("10.244.2.1"));
            allowed.put((long)n, web.stream().map(Ipv4Address::parse).collect(Collectors.toSet()));
            final SyncReport r = sync.apply(next);
            assertThat(r.version()).isEqualTo(n);
            previous = next;
            Thread.sleep(0, 200_000);
        }
        done.set(true);
        for (final Thread t : threads)
        {
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(errors).isEmpty();
        for (int w = 0; w < workers; w++)
        {
            assertThat(decisions[w]).isGreaterThan(1000);
            assertThat(versionsSeen[w]).as("worker %d picked up several versions", w).isGreaterThan(5);
            assertThat(sync.pickedUpVersion(w)).isEqualTo(150);
        }
    }

    /**
     * The figures the README quotes: one endpoint change among 1,000 Services (synthetic, realistic mix) applied to
     * 4 workers, by mode; and, for IPVS, a worker's share when it picks the change up. Bounds are loose (a shared CI
     * machine); the figures are printed.
     */
    @Test
    void oneEndpointChangeAtAThousandServices()
    {
        final ClusterModel base = io.dpbench.model.SyntheticCluster.generate(1000, 4, 1,
            io.dpbench.model.SyntheticCluster.Mix.REALISTIC);
        final List<EndpointSlice> slices = new ArrayList<>(base.endpointSlices());
        final EndpointSlice first = slices.get(0);
        slices.set(0, new EndpointSlice(first.namespace(), first.name(), first.serviceName(),
            first.endpoints().subList(1, first.endpoints().size()), first.ports()));
        final ClusterModel changed = new ClusterModel(base.services(), slices);
        final Map<String, Long> medians = new java.util.LinkedHashMap<>();
        for (final String[] ms : new String[][]{{"iptables", "rr"}, {"ipvs", "rr"}, {"ipvs", "mh"}, {"nftables", "rr"}})
        {
            final ClusterSync sync = new ClusterSync(ms[0], ms[1], 1, NODE, base, 4);
            final int warmup = ms[0].equals("iptables") ? 10 : 100; // JIT first: the figures are of warm code
            final long[] apply = new long[20];
            final long[] diff = new long[20];
            final long[] pickup = new long[20];
            for (int i = -warmup; i < apply.length; i++)
            {
                final SyncReport r = sync.apply((i & 1) == 0 ? changed : base);
                assertThat(r.change().endpointChanges()).hasSize(1);
                final long t0 = System.nanoTime();
                for (int w = 0; w < 4; w++)
                {
                    sync.selector(w);
                }
                final long t1 = System.nanoTime();
                if (i >= 0)
                {
                    apply[i] = r.durationNanos();
                    diff[i] = r.diffNanos();
                    pickup[i] = (t1 - t0) / 4;
                }
            }
            final String name = ms[0] + (ms[0].equals("ipvs") ? "/" + ms[1] : "");
            medians.put(name, median(apply));
            System.out.printf("MEASURED sync %s, 1,000 Services, 4 workers, one endpoint change: apply median %.3f ms"
                + " (diff %.3f ms), min %.3f ms; worker pick-up median %.1f us%n", name, median(apply) / 1e6,
                median(diff) / 1e6, java.util.Arrays.stream(apply).min().getAsLong() / 1e6, median(pickup) / 1e3);
        }
        assertThat(medians.get("ipvs/rr")).as("IPVS changes only what changed").isLessThan(medians.get("iptables"));
        assertThat(medians.get("nftables")).as("nftables syncs partially").isLessThan(medians.get("iptables"));
    }

    private static long median(final long[] values)
    {
        final long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
