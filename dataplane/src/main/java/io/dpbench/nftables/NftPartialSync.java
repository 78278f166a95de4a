package io.dpbench.nftables;

import io.dpbench.model.ClusterModel;
import io.dpbench.model.NodeConfig;
import io.dpbench.model.Service;
import io.dpbench.model.ServicePortEndpoints;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * kube-proxy's nftables partial sync (syncProxyRules when no full sync is needed): for the Services that changed,
 * and only those, every chain of the Service is added and flushed and gets its rules again (ensureChain), the map
 * and set elements it owns are added, replaced (delete + add) or deleted (nftElementStorage), affinity sets it no
 * longer needs are deleted, and its chains that no longer exist are flushed now and deleted by the next sync (as
 * kube-proxy waits before deleting, so that a kernel before 6.2 has noticed the map element that pointed there is
 * gone). The transaction is proportional to the change, not to the number of Services.
 * <p>
 * Owns the master {@link NftProgram} (control thread): each sync's {@link NftTransaction} is resolved on it, then
 * handed to the workers, each of which applies it to its own copy. Keeps every Service's objects as last synced
 * (one small {@link NftRuleset} each) to diff against.
 */
public final class NftPartialSync
{
    private final NodeConfig node;
    private final NftablesSettings settings;
    private final NftProgram master;
    private final Map<String, NftRuleset> services = new HashMap<>();
    /**
     * Chains flushed because their Service no longer has them, with the time (ms) they were last flushed: a sync
     * deletes those flushed more than {@link #STALE_MILLIS} before it, in a transaction of its own that runs first;
     * the others it flushes again (kube-proxy's staleChains).
     */
    private final Map<String, Long> stale = new java.util.LinkedHashMap<>();

    /** kube-proxy deletes a stale chain once it has been stale for more than a second. */
    public static final long STALE_MILLIS = 1000;

    public NftPartialSync(final ClusterModel initial, final NodeConfig node, final NftablesSettings settings)
    {
        this.node = node;
        this.settings = settings;
        master = NftProgram.compile(NftablesRenderer.render(initial, node, settings));
        final ServicePortEndpoints endpoints = ServicePortEndpoints.of(initial, node);
        for (final Service s : initial.services())
        {
            services.put(s.namespacedName(), NftablesRenderer.renderService(s, endpoints, settings));
        }
    }

    /** The chains flushed and not yet deleted, as kube-proxy's table still holds them (empty). */
    public Set<String> staleChains()
    {
        return java.util.Collections.unmodifiableSet(stale.keySet());
    }

    /** The control thread's program: workers start from {@link NftProgram#copy() copies} of it. */
    public NftProgram master()
    {
        return master;
    }

    /**
     * The transaction for the Services named in {@code changed}, each mapped to a model holding that Service and its
     * EndpointSlices (or no Service: it was deleted), resolved on the master program.
     */
    public NftTransaction sync(final Map<String, ClusterModel> changed)
    {
        return sync(changed, System.currentTimeMillis());
    }

    /** As {@link #sync(Map)} at time {@code nowMillis} (what decides whether a stale chain is old enough to delete). */
    public NftTransaction sync(final Map<String, ClusterModel> changed, final long nowMillis)
    {
        final NftTransaction tx = new NftTransaction();
        // kube-proxy's pre-transaction: chains stale for more than a second are deleted before anything else
        for (final java.util.Iterator<Map.Entry<String, Long>> it = stale.entrySet().iterator(); it.hasNext(); )
        {
            final Map.Entry<String, Long> e = it.next();
            if (e.getValue() < nowMillis - STALE_MILLIS)
            {
                tx.deleteChain(e.getKey());
                it.remove();
            }
        }
        final Set<String> ensured = new LinkedHashSet<>();
        final List<Runnable> elementOps = new ArrayList<>();
        final Set<String> nowStale = new LinkedHashSet<>();
        for (final Map.Entry<String, ClusterModel> e : changed.entrySet())
        {
            final String name = e.getKey();
            final ClusterModel model = e.getValue();
            final NftRuleset before = services.get(name);
            NftRuleset after = null;
            for (final Service s : model.services())
            {
                if (s.namespacedName().equals(name))
                {
                    after = NftablesRenderer.renderService(s, ServicePortEndpoints.of(model, node), settings);
                }
            }
            diff(tx, before, after, ensured, nowStale, elementOps);
            if (after == null)
            {
                services.remove(name);
            }
            else
            {
                services.put(name, after);
            }
        }
        // stale chains a Service took up again are stale no more; the others are flushed again (kube-proxy flushes
        // every existing chain no Service uses at every sync) and their time starts again
        for (final java.util.Iterator<Map.Entry<String, Long>> it = stale.entrySet().iterator(); it.hasNext(); )
        {
            final Map.Entry<String, Long> e = it.next();
            if (ensured.contains(e.getKey()))
            {
                it.remove();
            }
            else if (!nowStale.contains(e.getKey()))
            {
                tx.flushChain(e.getKey());
                e.setValue(nowMillis);
            }
        }
        for (final String chain : nowStale)
        {
            stale.put(chain, nowMillis);
        }
        elementOps.forEach(Runnable::run);
        return tx.resolve(master);
    }

    /** The operations that turn one Service's objects {@code before} into {@code after} (either may be null). */
    private static void diff(final NftTransaction tx, final NftRuleset before, final NftRuleset after,
        final Set<String> ensured, final Set<String> nowStale, final List<Runnable> elementOps)
    {
        if (after != null)
        {
            for (final NftRuleset.NamedSet s : after.sets())
            {
                if (s.name.startsWith(NftChainNames.AFFINITY) && (before == null || before.set(s.name) == null))
                {
                    tx.addAffinitySet(s.name, s.timeoutSeconds);
                }
            }
            // every chain first (nft refuses a jump or goto to a chain that does not exist yet), then the rules
            for (final NftRuleset.Chain c : after.chains())
            {
                tx.ensureChain(c.name);
                ensured.add(c.name);
            }
            for (final NftRuleset.Chain c : after.chains())
            {
                for (final NftRuleset.Rule r : c.rules)
                {
                    tx.addRule(c.name, r.text(), r.comment());
                }
            }
        }
        if (before != null)
        {
            for (final NftRuleset.Chain c : before.chains())
            {
                if ((after == null || after.chain(c.name) == null) && nowStale.add(c.name))
                {
                    tx.flushChain(c.name);
                }
            }
            for (final NftRuleset.NamedSet s : before.sets())
            {
                if (s.name.startsWith(NftChainNames.AFFINITY) && (after == null || after.set(s.name) == null))
                {
                    tx.deleteSet(s.name);
                }
            }
        }
        // elements after every chain exists (a verdict names a chain): collected, emitted at the end
        for (final String set : NftablesRenderer.SHARED_SETS)
        {
            final Map<String, NftRuleset.Element> old = before == null ? Map.of() : before.set(set).elements;
            final Map<String, NftRuleset.Element> now = after == null ? Map.of() : after.set(set).elements;
            for (final NftRuleset.Element e : now.values())
            {
                final NftRuleset.Element was = old.get(e.key());
                if (was == null || !java.util.Objects.equals(was.value(), e.value()))
                {
                    elementOps.add(() ->
                    {
                        if (was != null)
                        {
                            tx.deleteElement(set, e.key());
                        }
                        tx.addElement(set, e.key(), e.value(), e.comment());
                    });
                }
            }
            for (final NftRuleset.Element e : old.values())
            {
                if (!now.containsKey(e.key()))
                {
                    elementOps.add(() -> tx.deleteElement(set, e.key()));
                }
            }
        }
    }

    /** The model of one Service and its EndpointSlices, out of a whole cluster (what a change tracker hands over). */
    public static ClusterModel serviceModel(final ClusterModel cluster, final String namespacedName)
    {
        final List<Service> services = new ArrayList<>(1);
        for (final Service s : cluster.services())
        {
            if (s.namespacedName().equals(namespacedName))
            {
                services.add(s);
            }
        }
        final List<io.dpbench.model.EndpointSlice> slices = new ArrayList<>();
        for (final io.dpbench.model.EndpointSlice slice : cluster.endpointSlices())
        {
            if ((slice.namespace() + "/" + slice.serviceName()).equals(namespacedName))
            {
                slices.add(slice);
            }
        }
        return new ClusterModel(services, slices);
    }

    /** The Services a change names, each with its model in {@code next} (see {@link #serviceModel}); one pass. */
    public static Map<String, ClusterModel> changedServices(final ClusterModel next, final Set<String> names)
    {
        final Map<String, List<Service>> services = new HashMap<>();
        final Map<String, List<io.dpbench.model.EndpointSlice>> slices = new HashMap<>();
        for (final String name : names)
        {
            services.put(name, new ArrayList<>(1));
            slices.put(name, new ArrayList<>());
        }
        for (final Service s : next.services())
        {
            final List<Service> list = services.get(s.namespacedName());
            if (list != null)
            {
                list.add(s);
            }
        }
        for (final io.dpbench.model.EndpointSlice slice : next.endpointSlices())
        {
            final List<io.dpbench.model.EndpointSlice> list = slices.get(slice.namespace() + "/" + slice.serviceName());
            if (list != null)
            {
                list.add(slice);
            }
        }
        final Map<String, ClusterModel> changed = new HashMap<>();
        for (final String name : names)
        {
            changed.put(name, new ClusterModel(services.get(name), slices.get(name)));
        }
        return changed;
    }
}
