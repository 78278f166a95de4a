package io.dpbench.conntrack;

import io.dpbench.conntrack.proto.ConntrackTimeouts;
import io.dpbench.conntrack.proto.IcmpConntrack;
import io.dpbench.conntrack.proto.TcpTrack;
import io.dpbench.conntrack.proto.UdpConntrack;
import io.dpbench.packet.DropCounters;
import io.dpbench.packet.DropReason;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Flyweight;
import io.dpbench.packet.NatRewriter;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import io.dpbench.select.NewFlowDecision;
import io.dpbench.select.NewFlowSelector;
import org.agrona.MutableDirectBuffer;

/**
 * The first end-to-end path, one thread: parse and validate, look the flow up in conntrack, on a miss ask the proxy
 * mode (iptables chains or IPVS) and create the connection with its NAT binding, then translate the packet in place
 * from the connection: forward packets to the chosen backend (and SNATed source), replies back to the Service's
 * VIP:port (and the client). As in Linux, only a flow's first packet meets the rules.
 * <p>
 * Protocol state follows the kernel's trackers ({@code conntrack.proto}); packets conntrack calls INVALID are dropped
 * and counted, as kube-proxy's {@code -m conntrack --ctstate INVALID -j DROP} does. Connections are looked up in a
 * worker {@link FlowCache} first; every state, status and NAT change is written through to the table (the source of
 * truth) at once, counters and expiry at most a second later.
 * Source-NAT port allocation keeps the client's port when the reply tuple is free and otherwise walks the ephemeral
 * range, as nf_nat_get_unique_tuple does.
 */
public final class ConntrackNatEngine
{
    private static final int NAT_PORT_FIRST = 32768;
    private static final int NAT_PORT_COUNT = 28232;
    private static final int NAT_PORT_TRIES = 128;

    private final PacketParser parser = new PacketParser(false);
    private final ParsedPacket packet = new ParsedPacket();
    private final NewFlowSelector selector;
    private final NewFlowDecision decision = new NewFlowDecision();
    private final ConntrackTable table;
    private final ConntrackTimeouts timeouts;
    private final ConntrackRecord record = new ConntrackRecord();
    private final FlowCache cache;
    private final DropCounters drops = new DropCounters();
    /** Why the last frame {@link #process} refused was dropped. */
    private DropReason lastDrop;
    private int natCursor;
    /** SNAT source ports this dataplane may choose: those with port % natPortModulus == natPortResidue. */
    private int natPortResidue;
    private int natPortModulus = 1;
    private long packetsIn;
    private long packetsOut;
    private long newFlows;

    /** Default worker cache: 128Ki connections (4-way sets; ~17 MB of records). */
    public static final int DEFAULT_CACHE_SLOTS = 1 << 17;

    public ConntrackNatEngine(final NewFlowSelector selector, final ConntrackTable table, final ConntrackTimeouts timeouts)
    {
        this(selector, table, timeouts, DEFAULT_CACHE_SLOTS);
    }

    public ConntrackNatEngine(final NewFlowSelector selector, final ConntrackTable table, final ConntrackTimeouts timeouts,
        final int cacheSlots)
    {
        this.selector = selector;
        this.table = table;
        this.timeouts = timeouts;
        this.cache = new FlowCache(table, cacheSlots);
        // kube-proxy's iptables mode drops what conntrack marks INVALID (KUBE-FORWARD), and IPVS mode's rules do too;
        // its nftables mode has no such rule: the packet goes on untranslated (no NAT for an INVALID packet)
        this.dropsInvalid = !"nftables".equals(selector.mode());
    }

    private final boolean dropsInvalid;
    private long invalidPassed;

    /** Packets conntrack marked INVALID that went on untranslated (nftables mode: no rule drops them). */
    public long invalidPassed()
    {
        return invalidPassed;
    }

    /** An INVALID packet: dropped (iptables and IPVS modes), or passed on untranslated (nftables mode). */
    private boolean invalid()
    {
        if (dropsInvalid)
        {
            drop(DropReason.CONNTRACK_INVALID);
            return false;
        }
        invalidPassed++;
        packetsOut++;
        return true;
    }

    /** Process one frame in place; true when it leaves the node (translated), false when dropped (and counted). */
    public boolean process(final MutableDirectBuffer buffer, final int offset, final int length, final long nowNanos)
    {
        return process(packet, parser.inspect(buffer, offset, length, packet), length, nowNanos);
    }

    /**
     * Process a frame already parsed (rx's parse, travelling with the frame in its batch): {@code verdict} is the
     * parse's, counted here, where it is acted on. The packet's fields are kept current through NAT.
     */
    public boolean process(final ParsedPacket p, final Verdict verdict, final int length, final long nowNanos)
    {
        packetsIn++;
        if (nowNanos - lastHousekeepingNanos >= HOUSEKEEPING_INTERVAL_NANOS)
        {
            lastHousekeepingNanos = nowNanos;
            housekeeping(nowNanos / 1_000_000L);
        }
        parser.record(verdict);
        if (verdict != Verdict.OK)
        {
            drop(verdict.reason());
            return false;
        }
        final long nowMillis = nowNanos / 1_000_000L;
        final long addresses = FlowKey.packAddresses(p.sourceAddress, p.destinationAddress);
        final long ports = FlowKey.packPorts(p.protocol, p.sourcePort, p.destinationPort);
        int slot = cache.lookup(addresses, ports);
        int direction;
        if (slot >= 0)
        {
            direction = cache.direction;
        }
        else
        {
            direction = table.lookup(addresses, ports, record);
            if (direction != ConntrackTable.NOT_FOUND)
            {
                slot = cache.admit(record, nowMillis);
            }
        }
        if (direction != ConntrackTable.NOT_FOUND && nowMillis > cache.record(slot).expiryMillis())
        {
            table.remove(cache.record(slot)); // expired: the kernel's gc would have reaped it
            cache.invalidate(slot);
            direction = ConntrackTable.NOT_FOUND;
        }
        if (direction == ConntrackTable.NOT_FOUND)
        {
            return newFlow(p, length, nowMillis, nowNanos);
        }
        return established(p, direction, slot, length, nowMillis, nowNanos);
    }

    private boolean established(final ParsedPacket p, final int direction, final int slot, final int length,
        final long nowMillis, final long nowNanos)
    {
        final ConntrackRecord r = cache.record(slot);
        final int oldStatus = r.status();
        final int oldState = r.state();
        boolean stateChanged = false;
        int status = oldStatus;
        long expiry = r.expiryMillis();
        boolean destroy = false;
        switch (p.protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
            {
                final int old = r.state();
                final int word = TcpTrack.packet(old, direction, p.tcpFlags);
                final int verdict = TcpTrack.verdict(word);
                if (verdict == TcpTrack.INVALID)
                {
                    return invalid();
                }
                if (verdict == TcpTrack.REOPEN)
                {
                    table.remove(r);
                    cache.invalidate(slot);
                    return newFlow(p, length, nowMillis, nowNanos);
                }
                destroy = verdict == TcpTrack.DESTROY;
                final int timeout = TcpTrack.timeoutSeconds(old, word, p.tcpFlags, timeouts);
                if (timeout != TcpTrack.NO_REFRESH)
                {
                    expiry = nowMillis + timeout * 1000L;
                }
                r.state(word);
                stateChanged = TcpTrack.state(word) != TcpTrack.state(oldState);
                status |= (TcpTrack.seenReply(word) ? ConntrackRecord.IPS_SEEN_REPLY : 0)
                    | (TcpTrack.assured(word) ? ConntrackRecord.IPS_ASSURED : 0);
                break;
            }
            case Ipv4Flyweight.PROTOCOL_UDP:
            {
                if (direction == ConntrackTable.REPLY)
                {
                    status |= ConntrackRecord.IPS_SEEN_REPLY;
                }
                final boolean seen = (status & ConntrackRecord.IPS_SEEN_REPLY) != 0;
                expiry = nowMillis + UdpConntrack.timeoutSeconds(seen, r.createdMillis(), nowMillis, timeouts) * 1000L;
                if (UdpConntrack.assuredAfter(seen, (status & ConntrackRecord.IPS_ASSURED) != 0, r.createdMillis(), nowMillis))
                {
                    status |= ConntrackRecord.IPS_ASSURED;
                }
                break;
            }
            default:
            {
                if (direction == ConntrackTable.REPLY)
                {
                    status |= ConntrackRecord.IPS_SEEN_REPLY;
                }
                expiry = nowMillis + IcmpConntrack.timeoutSeconds(timeouts) * 1000L;
                break;
            }
        }
        r.status(status).expiryMillis(expiry).count(direction, length);
        translate(p, direction, r);
        if (destroy)
        {
            table.remove(r);
            cache.invalidate(slot);
        }
        else if (stateChanged || status != oldStatus)
        {
            table.update(r); // state and status go through at once: the table is the source of truth
            cache.written(slot, nowMillis);
        }
        else
        {
            cache.dirty(slot); // counters and expiry only: may trail by up to a second
            cache.flushIfDue(slot, nowMillis);
        }
        packetsOut++;
        return true;
    }

    private boolean newFlow(final ParsedPacket p, final int length, final long nowMillis, final long nowNanos)
    {
        int state = 0;
        int timeout;
        switch (p.protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP:
                state = TcpTrack.open(p.tcpFlags);
                if (TcpTrack.verdict(state) == TcpTrack.INVALID)
                {
                    return invalid();
                }
                timeout = TcpTrack.timeoutSeconds(TcpTrack.FRESH, state, p.tcpFlags, timeouts);
                break;
            case Ipv4Flyweight.PROTOCOL_UDP:
                timeout = UdpConntrack.timeoutSeconds(false, nowMillis, nowMillis, timeouts);
                break;
            default:
                if (!IcmpConntrack.canCreate(p.icmpType))
                {
                    return invalid();
                }
                timeout = IcmpConntrack.timeoutSeconds(timeouts);
                break;
        }
        final NewFlowDecision d = decision;
        selector.select(p.protocol, p.sourceAddress, p.sourcePort, p.destinationAddress, p.destinationPort, nowNanos, d);
        if (d.verdict == NewFlowDecision.DROP)
        {
            drop(DropReason.FILTERED);
            return false;
        }
        if (d.verdict == NewFlowDecision.REJECT)
        {
            drop(DropReason.REJECTED);
            return false;
        }
        final boolean dnat = d.verdict == NewFlowDecision.DNAT;
        final boolean icmp = p.protocol == Ipv4Flyweight.PROTOCOL_ICMP;
        final int replySource = dnat ? d.dnatAddress : p.destinationAddress;
        final int replySourcePort = icmp ? p.sourcePort : (dnat ? d.dnatPort : p.destinationPort);
        final int replyDestination = d.sourceNat ? d.snatAddress : p.sourceAddress;
        int natPort = d.sourceNat && d.snatPort >= 0 ? d.snatPort : p.sourcePort;
        if (d.sourceNat && d.snatPort < 0 && !icmp && natPortModulus > 1
            && !SnatPorts.owns(natPortResidue, natPortModulus, natPort))
        {
            natPort = nextNatPort(); // the client's port would steer the replies to another worker
        }
        final ConntrackRecord r = record;
        int status = ConntrackRecord.IPS_CONFIRMED | (dnat ? ConntrackRecord.IPS_DST_NAT : 0)
            | (d.sourceNat ? ConntrackRecord.IPS_SRC_NAT : 0);
        for (int attempt = 0; ; attempt++)
        {
            r.clear()
                .original(FlowKey.packAddresses(p.sourceAddress, p.destinationAddress),
                    FlowKey.packPorts(p.protocol, p.sourcePort, p.destinationPort))
                .reply(FlowKey.packAddresses(replySource, replyDestination),
                    FlowKey.packPorts(p.protocol, replySourcePort, natPort))
                .status(status).state(state).createdMillis(nowMillis).expiryMillis(nowMillis + timeout * 1000L)
                .count(0, length);
            final int outcome = table.tryInsert(r);
            if (outcome == ConntrackTable.INSERTED)
            {
                break;
            }
            if (outcome == ConntrackTable.FULL)
            {
                drop(DropReason.CONNTRACK_FULL);
                return false;
            }
            if (!d.sourceNat || icmp || attempt == NAT_PORT_TRIES)
            {
                drop(DropReason.NAT_CLASH);
                return false;
            }
            natPort = nextNatPort();
        }
        newFlows++;
        cache.admit(r, nowMillis);
        translate(p, ConntrackTable.ORIGINAL, r);
        packetsOut++;
        return true;
    }

    /**
     * One worker among {@code workers}: the SNAT source ports it picks are those with port % workers == worker, so
     * that steering sends their replies back to it ({@link SnatPorts}); the client's own port is kept when it is one of them
     * and free (as nf_nat_get_unique_tuple keeps it), else the range is walked. One worker keeps Linux's choice.
     */
    public ConntrackNatEngine natPorts(final int worker, final int workers)
    {
        if (workers < 1 || worker < 0 || worker >= workers)
        {
            throw new IllegalArgumentException("worker " + worker + " of " + workers);
        }
        this.natPortResidue = worker;
        this.natPortModulus = workers;
        return this;
    }

    /** The next candidate SNAT port in the ephemeral range, walking it as nf_nat_get_unique_tuple does, ours only. */
    private int nextNatPort()
    {
        int port = NAT_PORT_FIRST + (natCursor % NAT_PORT_COUNT);
        natCursor = (natCursor + natPortModulus) % NAT_PORT_COUNT;
        port += Math.floorMod(natPortResidue - port, natPortModulus);
        if (port >= NAT_PORT_FIRST + NAT_PORT_COUNT)
        {
            port = NAT_PORT_FIRST + Math.floorMod(natPortResidue - NAT_PORT_FIRST, natPortModulus);
        }
        return port;
    }

    /**
     * How often, in packet time, housekeeping runs: one segment of expiry reaping and the table's clock. Time-based
     * like the kernel's conntrack gc worker, so its cost per packet falls as the packet rate rises.
     */
    static final long HOUSEKEEPING_INTERVAL_NANOS = 100_000_000L;
    private long lastHousekeepingNanos = Long.MIN_VALUE / 2;

    /** Bounded background work: reap one segment of expired connections and store the clock. */
    public void housekeeping(final long nowMillis)
    {
        reaped += table.reap(nowMillis, 1, cache);
        table.clock(nowMillis);
        if (housekeeper != null)
        {
            housekeeper.run(table, cache);
        }
    }

    /** More bounded work on the engine's own thread at each housekeeping turn (e.g. the control path's cleanups). */
    @FunctionalInterface
    public interface Housekeeper
    {
        void run(ConntrackTable view, FlowCache cache);
    }

    private Housekeeper housekeeper;

    /** Run {@code work} at each housekeeping turn, on the engine's thread. */
    public ConntrackNatEngine housekeeper(final Housekeeper work)
    {
        this.housekeeper = work;
        return this;
    }

    /**
     * Delete the connection whose original tuple this is (what {@code conntrack -D} does), from the table and this
     * engine's cache. Returns false when there is none.
     */
    public boolean delete(final long originalAddresses, final long originalPorts)
    {
        if (table.lookup(originalAddresses, originalPorts, record) != ConntrackTable.ORIGINAL)
        {
            return false;
        }
        final int slot = cache.slotOf(originalAddresses, originalPorts);
        if (slot >= 0)
        {
            cache.invalidate(slot);
        }
        return table.remove(record);
    }

    /** Write every change the cache still holds through to the table (end of a replay, shutdown). */
    public void flush(final long nowMillis)
    {
        cache.flushAll(nowMillis);
    }

    public FlowCache cache()
    {
        return cache;
    }

    private long reaped;

    public long reaped()
    {
        return reaped;
    }

    /** Rewrite the packet from its connection's tuples (nf_nat_packet). */
    private static void translate(final ParsedPacket p, final int direction, final ConntrackRecord r)
    {
        final int status = r.status();
        if (direction == ConntrackTable.ORIGINAL)
        {
            if ((status & ConntrackRecord.IPS_DST_NAT) != 0)
            {
                // the reply tuple's source is where the original's destination goes
                NatRewriter.rewriteDestination(p, (int)(r.replyAddresses() >>> 32), (int)(r.replyPorts() >>> 24) & 0xFFFF);
            }
            if ((status & ConntrackRecord.IPS_SRC_NAT) != 0)
            {
                NatRewriter.rewriteSource(p, (int)r.replyAddresses(), (int)(r.replyPorts() >>> 8) & 0xFFFF);
            }
        }
        else
        {
            if ((status & ConntrackRecord.IPS_DST_NAT) != 0)
            {
                NatRewriter.rewriteSource(p, (int)r.originalAddresses(), (int)(r.originalPorts() >>> 8) & 0xFFFF);
            }
            if ((status & ConntrackRecord.IPS_SRC_NAT) != 0)
            {
                NatRewriter.rewriteDestination(p, (int)(r.originalAddresses() >>> 32), (int)(r.originalPorts() >>> 24) & 0xFFFF);
            }
        }
    }

    public long packetsIn()
    {
        return packetsIn;
    }

    public long packetsOut()
    {
        return packetsOut;
    }

    public long newFlows()
    {
        return newFlows;
    }

    public long drops(final DropReason reason)
    {
        return drops.get(reason);
    }

    /** Every drop so far, by reason (the parser's verdicts, conntrack's, the rules'). */
    public DropCounters drops()
    {
        return drops;
    }

    /** Why the last frame {@link #process} returned false for was dropped. */
    public DropReason lastDrop()
    {
        return lastDrop;
    }

    private void drop(final DropReason reason)
    {
        drops.count(reason);
        lastDrop = reason;
    }

    public PacketParser parser()
    {
        return parser;
    }

    public ConntrackTable table()
    {
        return table;
    }
}
