package io.dpbench.bench.conntrack;

import io.dpbench.conntrack.ConntrackRecord;
import io.dpbench.conntrack.ConntrackTable;
import io.dpbench.packet.FlowKey;
import io.dpbench.packet.Ipv4Address;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The conntrack table on Chronicle Map with N live connections (each stored under both tuples, so 2N map entries):
 * a lookup hit by a random connection's original tuple, and an insert (of a new connection, removed again in the
 * same operation so N stays fixed: the figure is insert + remove).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ConntrackBenchmark
{
    static final int POOL = 1 << 14;

    @Param({"10000", "100000", "1000000"})
    public int connections;

    private ConntrackTable table;
    private final ConntrackRecord record = new ConntrackRecord();
    private final long[] addresses = new long[POOL];
    private final long[] ports = new long[POOL];
    private int cursor;
    private int fresh;

    @Setup(Level.Trial)
    public void setUp()
    {
        table = ConntrackTable.inMemory(connections + 1024);
        final int vip = Ipv4Address.parse("10.96.0.10");
        final int backend = Ipv4Address.parse("10.244.1.7");
        for (int i = 0; i < connections; i++)
        {
            final int client = Ipv4Address.parse("10.244.0.0") + (i >>> 15);
            final int port = 1024 + (i & 0x7FFF);
            record.clear().original(FlowKey.packAddresses(client, vip), FlowKey.packPorts(6, port, 80))
                .reply(FlowKey.packAddresses(backend, client), FlowKey.packPorts(6, 8080, port))
                .status(ConntrackRecord.IPS_DST_NAT).expiryMillis(Long.MAX_VALUE);
            if (!table.insert(record))
            {
                throw new IllegalStateException("setup insert failed at " + i);
            }
        }
        final SplittableRandom random = new SplittableRandom(3);
        for (int k = 0; k < POOL; k++)
        {
            final int i = random.nextInt(connections);
            addresses[k] = FlowKey.packAddresses(Ipv4Address.parse("10.244.0.0") + (i >>> 15), vip);
            ports[k] = FlowKey.packPorts(6, 1024 + (i & 0x7FFF), 80);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        table.close();
    }

    @Benchmark
    public int lookupHit()
    {
        final int k = cursor++ & (POOL - 1);
        final int direction = table.lookup(addresses[k], ports[k], record);
        if (direction != ConntrackTable.ORIGINAL)
        {
            throw new IllegalStateException("miss");
        }
        return direction;
    }

    @Benchmark
    public boolean insertAndRemove()
    {
        final int client = Ipv4Address.parse("10.250.0.0") + (fresh >>> 16);
        final int port = fresh++ & 0xFFFF;
        record.clear().original(FlowKey.packAddresses(client, Ipv4Address.parse("10.96.0.10")), FlowKey.packPorts(6, port, 80))
            .reply(FlowKey.packAddresses(Ipv4Address.parse("10.244.1.7"), client), FlowKey.packPorts(6, 8080, port))
            .status(ConntrackRecord.IPS_DST_NAT).expiryMillis(Long.MAX_VALUE);
        if (!table.insert(record))
        {
            throw new IllegalStateException("insert refused");
        }
        return table.remove(record);
    }
}
