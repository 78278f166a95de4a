package io.dpbench.ipvs;

import io.dpbench.ipvs.sched.Scheduler;
import io.dpbench.packet.Ipv4Address;
import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * An IPVS virtual service: (protocol, address, port), a scheduler, optional persistence (kube-proxy's ClientIP
 * affinity: {@code -p TIMEOUT}) and its real servers in the kernel's list order (each new server is inserted at the
 * head, as {@code list_add_rcu} in ip_vs_ctl.c does, so rr/wrr/mh walk the most recently added server first).
 * <p>
 * Changes (add, remove, re-weight a server) touch only this service: the scheduler rebuilds its own state (mh its
 * lookup table). Persistence templates are a bounded table from client address to (server, expiry); when full, new
 * clients are scheduled without a template, as the kernel does when it cannot allocate one. One owner thread.
 */
public final class VirtualService
{
    /** Most persistence templates a service keeps. */
    public static final int MAX_TEMPLATES = 1 << 16;

    private final int protocol;
    private final int address;
    private final int port;
    private final Scheduler scheduler;
    private final long persistenceNanos;
    private RealServer[] destinations = new RealServer[4];
    private int count;
    private final Long2LongHashMap templates;
    /** What kube-proxy created this service for (see {@link KubeServiceKind}); read by the masquerade decision. */
    private int kind;
    /** The table this service is in, and its slot there, whose line copies what new flows read; null when none. */
    private VirtualServiceTable owner;
    private int slot;

    public VirtualService(final int protocol, final int address, final int port, final Scheduler scheduler,
        final int persistenceSeconds)
    {
        this.protocol = protocol;
        this.address = address;
        this.port = port;
        this.scheduler = scheduler;
        this.persistenceNanos = persistenceSeconds * 1_000_000_000L;
        this.templates = persistenceSeconds > 0 ? new Long2LongHashMap(-1L) : null;
        scheduler.update(destinations, 0);
    }

    public static long key(final int protocol, final int address, final int port)
    {
        return ((long)(protocol & 0xFF) << 48) | ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    public long key()
    {
        return key(protocol, address, port);
    }

    public int protocol()
    {
        return protocol;
    }

    public int address()
    {
        return address;
    }

    public int port()
    {
        return port;
    }

    public int kind()
    {
        return kind;
    }

    public VirtualService kind(final int kind)
    {
        this.kind = kind;
        changed();
        return this;
    }

    VirtualServiceTable owner()
    {
        return owner;
    }

    void bind(final VirtualServiceTable table, final int slot)
    {
        this.owner = table;
        this.slot = slot;
    }

    void unbind()
    {
        this.owner = null;
    }

    /** Before the scheduler sees a changed list: a table's copy of rr's cursor returns to the scheduler. */
    private void beforeUpdate()
    {
        if (owner != null)
        {
            owner.pullCursor(slot);
        }
    }

    /** After the scheduler has seen the changed list: the table's line is rewritten from it (cursor included). */
    private void afterUpdate()
    {
        if (owner != null)
        {
            owner.refresh(slot);
        }
    }

    /**
     * A change the scheduler is not told of (kind, a server's overload flag): the line is rewritten, its rr cursor
     * kept (moved to the scheduler first, so that the rewrite copies it back).
     */
    void changed()
    {
        beforeUpdate();
        afterUpdate();
    }

    public Scheduler scheduler()
    {
        return scheduler;
    }

    public int persistenceSeconds()
    {
        return (int)(persistenceNanos / 1_000_000_000L);
    }

    public int destinationCount()
    {
        return count;
    }

    /** The i-th real server in list order. */
    public RealServer destination(final int i)
    {
        return destinations[i];
    }

    public int indexOf(final int serverAddress, final int serverPort)
    {
        for (int i = 0; i < count; i++)
        {
            if (destinations[i].address() == serverAddress && destinations[i].port() == serverPort)
            {
                return i;
            }
        }
        return -1;
    }

    /** ipvsadm -a: add a real server at the head of the list. Returns false when it is already there. */
    public boolean addDestination(final RealServer server)
    {
        if (indexOf(server.address(), server.port()) >= 0)
        {
            return false;
        }
        if (server.owner() != null)
        {
            throw new IllegalArgumentException("real server " + server + " already belongs to " + server.owner());
        }
        if (count == destinations.length)
        {
            destinations = Arrays.copyOf(destinations, count * 2);
        }
        beforeUpdate();
        System.arraycopy(destinations, 0, destinations, 1, count);
        destinations[0] = server;
        count++;
        server.owner(this);
        if (templates != null)
        {
            // every server moved one place down the list: templates follow their server (the kernel's point to it)
            templates.replaceAllLong((client, template) -> template + (1L << 48));
        }
        scheduler.update(destinations, count);
        afterUpdate();
        return true;
    }

    /** ipvsadm -d. Returns false when the server is not there. Templates pointing at it are dropped. */
    public boolean removeDestination(final int serverAddress, final int serverPort)
    {
        final int i = indexOf(serverAddress, serverPort);
        if (i < 0)
        {
            return false;
        }
        beforeUpdate();
        final RealServer removed = destinations[i];
        removed.owner(null);
        System.arraycopy(destinations, i + 1, destinations, i, count - i - 1);
        destinations[--count] = null;
        if (templates != null)
        {
            // template values are list indices: those of the removed server go (the kernel's would find it
            // unavailable and reschedule), those after it follow their server up the list
            final Long2LongHashMap.EntryIterator it = templates.entrySet().iterator();
            while (it.hasNext())
            {
                it.next();
                final int index = (int)(it.getLongValue() >>> 48);
                if (index == i)
                {
                    it.remove();
                }
                else if (index > i)
                {
                    it.setValue(it.getLongValue() - (1L << 48));
                }
            }
        }
        scheduler.update(destinations, count);
        afterUpdate();
        return true;
    }

    /** ipvsadm -e -w: change a weight (0 = no new connections, existing ones untouched). */
    public boolean reweight(final int serverAddress, final int serverPort, final int weight)
    {
        final int i = indexOf(serverAddress, serverPort);
        if (i < 0)
        {
            return false;
        }
        beforeUpdate();
        destinations[i].weight(weight);
        scheduler.update(destinations, count);
        afterUpdate();
        return true;
    }

    /**
     * Pick the real server for a new connection: the persistence template's server when one is alive and usable,
     * else the scheduler's choice (which then gets a template). Returns the index, or -1 when none is available.
     */
    public int schedule(final int sourceAddress, final int sourcePort, final long nowNanos)
    {
        return owner != null ? owner.schedule(slot, sourceAddress, sourcePort, nowNanos)
            : scheduleObject(sourceAddress, sourcePort, nowNanos);
    }

    /** {@link #schedule} on this object's own scheduler state (the table calls it when rr is not on its line). */
    int scheduleObject(final int sourceAddress, final int sourcePort, final long nowNanos)
    {
        if (templates != null)
        {
            final long template = templates.get(sourceAddress & 0xFFFF_FFFFL);
            if (template != -1L)
            {
                final int index = (int)(template >>> 48);
                final long expiryMillis = template & 0xFFFF_FFFF_FFFFL;
                // ip_vs_sched_persist: a template whose server has weight 0 is not used for new connections
                if (nowNanos / 1_000_000L <= expiryMillis && index < count && !destinations[index].unavailable())
                {
                    templates.put(sourceAddress & 0xFFFF_FFFFL, template(index, nowNanos));
                    return index;
                }
            }
        }
        final int chosen = scheduler.schedule(destinations, count, sourceAddress, sourcePort, address, port);
        if (chosen >= 0 && templates != null && (templates.size() < MAX_TEMPLATES || templates.containsKey(sourceAddress & 0xFFFF_FFFFL)))
        {
            templates.put(sourceAddress & 0xFFFF_FFFFL, template(chosen, nowNanos));
        }
        return chosen;
    }

    /** Template value: server index in the top 16 bits, expiry in milliseconds below (48 bits: ~8900 years). */
    private long template(final int index, final long nowNanos)
    {
        return ((long)index << 48) | (((nowNanos + persistenceNanos) / 1_000_000L) & 0xFFFF_FFFF_FFFFL);
    }

    @Override
    public String toString()
    {
        return Ipv4Address.toString(address) + ":" + port + "/" + protocol + " " + scheduler.name() + " (" + count + " servers)";
    }
}
