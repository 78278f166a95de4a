package io.dpbench.control;

import io.dpbench.ipvs.IpvsProxier;
import io.dpbench.ipvs.RealServer;
import io.dpbench.ipvs.sched.SchedulerFlags;
import io.dpbench.model.ClusterChange;
import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePortEndpoints;
import org.agrona.collections.LongHashSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control thread's side of IPVS mode: what every worker's virtual services are (the same on all workers: they
 * replay the same changes), kept as kube-proxy reads the kernel's (GetVirtualServers, GetRealServers), and the changes
 * that bring them to a new cluster, as kube-proxy's IPVS proxier computes them: only the changed Services' virtual
 * services are looked at; a new one is added, a gone one deleted, a changed one has real servers added (each at the
 * head of the list, as the kernel inserts them) and then the stale ones deleted. Never touches a worker's tables.
 * <p>
 * Two cases replace the virtual service instead, with one built here (the worker then swaps one reference): a change
 * of persistence, kind or source ranges (dpbench's {@code VirtualService} fixes them at construction; the kernel's
 * edit would keep its scheduler state), and a change of servers under sh, dh or mh without persistence, whose state is
 * a lookup table computed from the list alone: building it here, in the list order the kernel's adds and deletes
 * would leave, gives the same table and keeps its rebuild (~20 us for mh's 4093 slots, per add or delete) off the
 * worker. Removed servers go at once, not after kube-proxy's graceful termination (weight 0 until their TCP
 * connections end; UDP ones go at once there too): dpbench's established flows are translated by conntrack, not by
 * IPVS's own connection table, so a weight-0 server would only wait.
 */
final class IpvsSync
{
    /** Schedulers whose whole state is a table computed from the server list (see the class comment). */
    private static final Set<String> TABLE_SCHEDULERS = Set.of("sh", "dh", "mh");

    /** One virtual service as every worker has it: its spec and its servers in the kernel's list order. */
    private record Applied(IpvsProxier.Spec spec, long[] list, String owner)
    {
    }

    /** A plan: per worker, the changes in order; and what they amount to. */
    record Plan(IpvsChange[][] perWorker, int servicesAdded, int servicesRemoved, int servicesReplaced,
        int serversAdded, int serversRemoved)
    {
    }

    /** Builds specs and virtual services; its own table is never used. */
    private final IpvsProxier maker;
    private final boolean tableScheduler;
    private final Map<Long, Applied> applied = new HashMap<>();
    private final Map<String, List<Long>> byService = new HashMap<>();

    IpvsSync(final NodeConfig node, final String scheduler, final ClusterModel initial,
        final ServicePortEndpoints endpoints)
    {
        maker = new IpvsProxier(node, scheduler, SchedulerFlags.NONE);
        tableScheduler = TABLE_SCHEDULERS.contains(scheduler);
        for (final Service service : initial.services())
        {
            record(service.namespacedName(), maker.specs(service, endpoints));
        }
    }

    /** A worker's proxier over the initial cluster, as every worker starts. */
    static IpvsProxier initialProxier(final NodeConfig node, final String scheduler, final ClusterModel initial)
    {
        return new IpvsProxier(node, scheduler, SchedulerFlags.NONE).syncAll(initial);
    }

    private void record(final String service, final List<IpvsProxier.Spec> specs)
    {
        final List<Long> keys = new ArrayList<>();
        for (final IpvsProxier.Spec spec : specs)
        {
            applied.put(spec.key(), new Applied(spec, reversed(spec.servers()), service));
            keys.add(spec.key());
        }
        if (keys.isEmpty())
        {
            byService.remove(service);
        }
        else
        {
            byService.put(service, keys);
        }
    }

    /** Servers added one by one at the head of the list end up in reverse order. */
    private static long[] reversed(final long[] addOrder)
    {
        final long[] list = new long[addOrder.length];
        for (int i = 0; i < list.length; i++)
        {
            list[i] = addOrder[addOrder.length - 1 - i];
        }
        return list;
    }

    /**
     * The changes that bring every worker from the applied state to {@code next}; the applied state becomes {@code
     * next}'s. Only the Services of {@code change.changedServices()} are looked at.
     */
    Plan plan(final ClusterChange change, final ClusterModel next, final ServicePortEndpoints endpoints,
        final int workers)
    {
        final Map<String, Service> services = new HashMap<>();
        for (final Service s : next.services())
        {
            if (change.changedServices().contains(s.namespacedName()))
            {
                services.put(s.namespacedName(), s);
            }
        }
        final List<List<IpvsChange>> perWorker = new ArrayList<>();
        for (int w = 0; w < workers; w++)
        {
            perWorker.add(new ArrayList<>());
        }
        int added = 0;
        int removed = 0;
        int replaced = 0;
        int serversAdded = 0;
        int serversRemoved = 0;
        // computed in full first, committed after, so that a failure (a bad address in the model) changes nothing;
        // the overlay holds what this plan changed so far (null: removed), for Services that share a key
        final Map<Long, Applied> overlay = new HashMap<>();
        final Map<String, List<Long>> keysOf = new HashMap<>();
        for (final String name : change.changedServices())
        {
            final Service service = services.get(name);
            final List<IpvsProxier.Spec> specs = service == null ? List.of() : maker.specs(service, endpoints);
            final List<Long> keys = new ArrayList<>();
            for (final IpvsProxier.Spec spec : specs)
            {
                keys.add(spec.key());
            }
            keysOf.put(name, keys);
            for (final Long key : byService.getOrDefault(name, List.of()))
            {
                final Applied old = overlay.containsKey(key) ? overlay.get(key) : applied.get(key);
                if (!keys.contains(key) && old != null && old.owner().equals(name))
                {
                    final IpvsProxier.Spec s = old.spec();
                    perWorker.forEach(l -> l.add(new IpvsChange.Uninstall(s.protocol(), s.address(), s.port())));
                    overlay.put(key, null);
                    removed++;
                }
            }
            for (final IpvsProxier.Spec spec : specs)
            {
                final Applied old = overlay.containsKey(spec.key()) ? overlay.get(spec.key()) : applied.get(spec.key());
                if (old == null)
                {
                    for (final List<IpvsChange> l : perWorker)
                    {
                        l.add(new IpvsChange.Install(maker.build(spec, spec.servers()), spec.sourceRanges()));
                    }
                    overlay.put(spec.key(), new Applied(spec, reversed(spec.servers()), name));
                    added++;
                    continue;
                }
                final long[] adds = missing(spec.servers(), old.list());
                final long[] deletes = missing(old.list(), spec.servers());
                final long[] list = listAfter(old.list(), adds, deletes);
                overlay.put(spec.key(), new Applied(spec, list, name));
                serversAdded += adds.length;
                serversRemoved += deletes.length;
                final boolean sameService = spec.sameService(old.spec());
                if (sameService && adds.length == 0 && deletes.length == 0)
                {
                    continue;
                }
                if (!sameService || tableScheduler && spec.persistenceSeconds() == 0)
                {
                    for (final List<IpvsChange> l : perWorker)
                    {
                        l.add(new IpvsChange.Install(maker.build(spec, reversed(list)), spec.sourceRanges()));
                    }
                    replaced++;
                }
                else
                {
                    for (final List<IpvsChange> l : perWorker)
                    {
                        final RealServer[] servers = new RealServer[adds.length];
                        for (int i = 0; i < adds.length; i++)
                        {
                            servers[i] = new RealServer((int)(adds[i] >>> 16), (int)adds[i] & 0xFFFF, 1);
                        }
                        l.add(new IpvsChange.Servers(spec.protocol(), spec.address(), spec.port(), servers, deletes));
                    }
                }
            }
        }
        overlay.forEach((key, a) ->
        {
            if (a == null)
            {
                applied.remove(key);
            }
            else
            {
                applied.put(key, a);
            }
        });
        keysOf.forEach((name, keys) ->
        {
            if (keys.isEmpty())
            {
                byService.remove(name);
            }
            else
            {
                byService.put(name, keys);
            }
        });
        final IpvsChange[][] out = new IpvsChange[workers][];
        for (int w = 0; w < workers; w++)
        {
            out[w] = perWorker.get(w).toArray(new IpvsChange[0]);
        }
        return new Plan(out, added, removed, replaced, serversAdded, serversRemoved);
    }

    /** The servers of {@code wanted} (in its order) that {@code present} lacks. */
    private static long[] missing(final long[] wanted, final long[] present)
    {
        final LongHashSet have = set(present);
        return Arrays.stream(wanted).filter(s -> !have.contains(s)).toArray();
    }

    private static LongHashSet set(final long[] values)
    {
        final LongHashSet set = new LongHashSet(Math.max(8, values.length * 2));
        for (final long v : values)
        {
            set.add(v);
        }
        return set;
    }

    /** The kernel's list after adding {@code adds} in order (each at the head) and deleting {@code deletes}. */
    private static long[] listAfter(final long[] list, final long[] adds, final long[] deletes)
    {
        final long[] grown = new long[list.length + adds.length];
        for (int i = 0; i < adds.length; i++)
        {
            grown[adds.length - 1 - i] = adds[i];
        }
        System.arraycopy(list, 0, grown, adds.length, list.length);
        final LongHashSet gone = set(deletes);
        return Arrays.stream(grown).filter(s -> !gone.contains(s)).toArray();
    }

    /** Virtual services every worker has now. */
    int virtualServices()
    {
        return applied.size();
    }

    /** A virtual service's servers in list order as every worker has them (tests), or null. */
    long[] list(final long key)
    {
        final Applied a = applied.get(key);
        return a == null ? null : a.list().clone();
    }
}
