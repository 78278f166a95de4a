package io.dpbench.bench.packet;

import io.dpbench.loadgen.frames.MixedFrameGenerator;
import io.dpbench.packet.NatRewriter;
import io.dpbench.packet.PacketParser;
import io.dpbench.packet.ParsedPacket;
import io.dpbench.packet.Verdict;
import io.dpbench.packet.Ipv4Address;
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
import java.util.concurrent.TimeUnit;

/**
 * The packet layer's per-packet cost: parse + validate (IPv4 header checksum verified) + DNAT rewrite with
 * incremental IPv4 and L4 checksum updates, over batches of {@value #BATCH} varied frames (TCP/UDP/ICMP, VLAN-tagged
 * or not, IMIX sizes or fixed) held off-heap. Reported per packet.
 * <p>
 * Each frame's destination alternates between two backends from one pass over the pool to the next, so every rewrite
 * changes real bytes and the frames stay valid (a wrong incremental checksum would turn up as a bad-checksum verdict,
 * which {@link #tearDown()} refuses). The batch cursor walks a pool of {@value #POOL} frames so the working set
 * (about 1 MB with IMIX) is not a single cache-resident batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class PacketPathBenchmark
{
    static final int BATCH = 256;
    static final int POOL = 4096;
    static final int STRIDE = 2048;

    /** Frame sizes: "imix" (64/594/1518, 7:4:1) or a fixed size in bytes. */
    @Param({"imix", "64"})
    public String size;

    private ByteBuffer memory;
    private UnsafeBuffer frames;
    private final int[] lengths = new int[POOL];
    private final PacketParser parser = new PacketParser(false);
    private final ParsedPacket packet = new ParsedPacket();
    private final int[] backendAddress = {Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.244.2.7")};
    private final int[] backendPort = {8080, 8443};
    private int cursor;
    private int pass;

    @Setup(Level.Trial)
    public void setUp()
    {
        memory = ByteBuffer.allocateDirect(POOL * STRIDE);
        frames = new UnsafeBuffer(memory);
        final MixedFrameGenerator generator = new MixedFrameGenerator(42, 1024, 256, 70, 25, 10,
            "imix".equals(size) ? MixedFrameGenerator.IMIX : Integer.parseInt(size));
        for (int i = 0; i < POOL; i++)
        {
            lengths[i] = generator.next(frames, i * STRIDE);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (parser.count(Verdict.OK) != parser.total())
        {
            throw new IllegalStateException("frames went invalid during the run: " + (parser.total() - parser.count(Verdict.OK))
                + " of " + parser.total() + " (a checksum update is wrong)");
        }
        BufferUtil.free(memory);
    }

    /** Parse + validate alone: the share of {@link #parseValidateDnat()} that is not the rewrite. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int parseValidate()
    {
        final UnsafeBuffer buffer = frames;
        final PacketParser p = parser;
        final ParsedPacket pkt = packet;
        final int start = cursor;
        int ok = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int slot = (start + i) & (POOL - 1);
            if (p.parse(buffer, slot * STRIDE, lengths[slot], pkt) == Verdict.OK)
            {
                ok += pkt.destinationPort;
            }
        }
        cursor = (start + BATCH) & (POOL - 1);
        return ok;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int parseValidateDnat()
    {
        final UnsafeBuffer buffer = frames;
        final PacketParser p = parser;
        final ParsedPacket pkt = packet;
        final int which = pass & 1;
        final int address = backendAddress[which];
        final int port = backendPort[which];
        final int start = cursor;
        int ok = 0;
        for (int i = 0; i < BATCH; i++)
        {
            final int slot = (start + i) & (POOL - 1);
            if (p.parse(buffer, slot * STRIDE, lengths[slot], pkt) == Verdict.OK)
            {
                NatRewriter.rewriteDestination(pkt, address, port);
                ok++;
            }
        }
        cursor = (start + BATCH) & (POOL - 1);
        if (cursor == 0)
        {
            pass++; // next pass over the pool rewrites every frame to the other backend
        }
        return ok;
    }
}
