package io.dpbench.bench.vxlan;

import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayForwarder;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The overlay stages alone, per packet, over batches of {@value #BATCH} frames from a pool of {@value #POOL} held
 * off-heap (TCP and UDP between 64 pods and 64 remote pods): {@code encapsulate} (the flow's source port and the
 * headers written into the headroom, outer UDP checksum over the whole frame), {@code forward} (what the node does:
 * TTL with its checksum, the MTU check, then encapsulation; each frame's original IPv4 header is copied back first so
 * that the TTL never runs out, 20 bytes per packet) and {@code decapsulate} (every outer header validated, the UDP
 * checksum verified). Sizes: "imix" is 64/594/1464-byte inner frames, 7:4:1 (IMIX with its large frame cut to the
 * overlay MTU, so nothing is fragmented), or a fixed size. Allocation-free.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class VxlanBenchmark
{
    static final int BATCH = 256;
    static final int POOL = 4096;
    static final int STRIDE = 2048;
    /** Where each inner frame starts in its slot: room for the outer headers before it. */
    static final int AT = VxlanConfig.OVERHEAD;

    /** Inner frame sizes: "imix" (64/594/1464, 7:4:1) or a fixed size in bytes. */
    @Param({"imix", "64"})
    public String size;

    private ByteBuffer innerMemory;
    private ByteBuffer outerMemory;
    private UnsafeBuffer inner;
    private UnsafeBuffer outer;
    private final byte[] originalHeaders = new byte[POOL * 20];
    private final int[] lengths = new int[POOL];
    private final int[] outerOffsets = new int[POOL];
    private final int[] outerLengths = new int[POOL];
    private VxlanEncapsulator encapsulator;
    private OverlayForwarder forwarder;
    private VxlanDecapsulator decapsulator;
    private RemoteVtep remote;
    private long sunk;
    private final OverlayForwarder.FrameSink sink = (buffer, offset, length) -> sunk += length;
    private int cursor;

    @Setup(Level.Trial)
    public void setUp()
    {
        final LocalVtep local = new LocalVtep(Ipv4Address.parse("192.168.0.10"), 0x02_00_00_00_0a_0aL,
            0x0a_00_00_00_00_01L, Ipv4Address.parse("10.244.0.1"));
        remote = new RemoteVtep(Ipv4Address.parse("192.168.0.11"), 0x02_00_00_00_0b_0bL, 0x0a_00_00_00_00_02L);
        encapsulator = new VxlanEncapsulator(VxlanConfig.flannel(), local);
        forwarder = new OverlayForwarder(new VxlanEncapsulator(VxlanConfig.flannel(), local), local);
        decapsulator = new VxlanDecapsulator(VxlanConfig.flannel());
        innerMemory = ByteBuffer.allocateDirect(POOL * STRIDE);
        outerMemory = ByteBuffer.allocateDirect(POOL * STRIDE);
        inner = new UnsafeBuffer(innerMemory);
        outer = new UnsafeBuffer(outerMemory);
        final SplittableRandom random = new SplittableRandom(42);
        final FrameBuilder builder = new FrameBuilder().macs(0x02_00_00_00_00_05L, 0x02_00_00_00_00_01L);
        final byte[] payload = new byte[1500];
        for (int i = 0; i < POOL; i++)
        {
            final int frameLength = frameLength(random);
            final int headers = 14 + 20 + (i % 2 == 0 ? 20 : 8);
            builder.addresses(Ipv4Address.parse("10.244.0.2") + random.nextInt(64), Ipv4Address.parse("10.244.1.2") + random.nextInt(64))
                .payload(payload, Math.max(0, frameLength - headers));
            if (i % 2 == 0)
            {
                builder.tcp(32768 + random.nextInt(28232), 8080, 0x10);
            }
            else
            {
                builder.udp(32768 + random.nextInt(28232), 53);
            }
            lengths[i] = builder.build(inner, i * STRIDE + AT);
            inner.getBytes(i * STRIDE + AT + 14, originalHeaders, i * 20, 20);
            // the decapsulation pool: the same frames, encapsulated once
            outer.putBytes(i * STRIDE + AT, inner, i * STRIDE + AT, lengths[i]);
            final int ip = i * STRIDE + AT + 14;
            outerOffsets[i] = encapsulator.encapsulate(outer, ip, lengths[i] - 14, remote, encapsulator.sourcePortFor(outer, ip));
            outerLengths[i] = lengths[i] + VxlanConfig.OVERHEAD;
        }
    }

    private int frameLength(final SplittableRandom random)
    {
        if (!"imix".equals(size))
        {
            return Integer.parseInt(size);
        }
        final int pick = random.nextInt(12);
        return pick < 7 ? 64 : pick < 11 ? 594 : 1464;
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (decapsulator.dropsTotal() != 0)
        {
            throw new IllegalStateException(decapsulator.dropsTotal() + " encapsulated frames failed decapsulation");
        }
        BufferUtil.free(innerMemory);
        BufferUtil.free(outerMemory);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int encapsulate()
    {
        final UnsafeBuffer b = inner;
        final VxlanEncapsulator e = encapsulator;
        final RemoteVtep r = remote;
        final int start = cursor;
        int sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int slot = (start + i) & (POOL - 1);
            final int ip = slot * STRIDE + AT + 14;
            sum += e.encapsulate(b, ip, lengths[slot] - 14, r, e.sourcePortFor(b, ip));
        }
        cursor = (start + BATCH) & (POOL - 1);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int forward()
    {
        final UnsafeBuffer b = inner;
        final OverlayForwarder f = forwarder;
        final RemoteVtep r = remote;
        final int start = cursor;
        int frames = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int slot = (start + i) & (POOL - 1);
            final int frame = slot * STRIDE + AT;
            b.putBytes(frame + 14, originalHeaders, slot * 20, 20); // the TTL as it arrived
            frames += f.forward(b, frame, lengths[slot], r, sink);
        }
        cursor = (start + BATCH) & (POOL - 1);
        if (frames != BATCH)
        {
            throw new IllegalStateException("a frame was not encapsulated whole");
        }
        return frames;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int decapsulate()
    {
        final UnsafeBuffer b = outer;
        final VxlanDecapsulator d = decapsulator;
        final int start = cursor;
        int sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int slot = (start + i) & (POOL - 1);
            sum += d.decapsulate(b, outerOffsets[slot], outerLengths[slot]);
        }
        cursor = (start + BATCH) & (POOL - 1);
        return sum;
    }
}
