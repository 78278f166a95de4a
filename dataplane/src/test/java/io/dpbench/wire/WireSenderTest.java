package io.dpbench.wire;

import io.dpbench.model.SyntheticCluster;
import io.dpbench.node.Node;
import io.dpbench.node.NodeConfig;
import io.dpbench.packet.FrameBuilder;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.pipeline.FrameOutput;
import io.dpbench.pipeline.PacketBatch;
import io.dpbench.pipeline.Pipeline;
import io.dpbench.vxlan.OverlayTopology;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanEncapsulator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wire edge's sender takes where a frame goes from the stages, never from the frame's bytes: a frame handed over
 * as encapsulated goes, as it is, to the VTEP of the node its batch's next hop names; any other frame goes with this
 * node's VXLAN header to this node's pods. Every frame here is a whole outer VXLAN frame to node 2 (Ethernet, IPv4 to
 * node 2's underlay address 192.168.0.12, UDP to 8472): what the sender used to parse and route by, to node 2.
 */
class WireSenderTest
{
    private static final OverlayTopology TOPOLOGY = OverlayTopology.generate(4);
    private static final int VNI = 1;

    /** [0]: this node's pods (127.0.2.0), [k]: node k's VTEP (127.0.1.k), all on the overlay's one port. */
    private final DatagramChannel[] sockets = new DatagramChannel[4];
    private Node node;
    private WireNode wire;
    private WireNode.WireOutput output;

    @BeforeEach
    void start() throws Exception
    {
        sockets[0] = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress("127.0.2.0", 0));
        final int port = ((InetSocketAddress)sockets[0].getLocalAddress()).getPort(); // a free port, from the kernel
        for (int k = 1; k < 4; k++)
        {
            sockets[k] = DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress("127.0.1." + k, port));
        }
        for (final DatagramChannel c : sockets)
        {
            c.configureBlocking(false);
        }
        // the wire's node as `dpbench run` builds it, one worker
        node = Node.open(NodeConfig.builder().mode("iptables").workers(1).overlayNodes(TOPOLOGY.nodes())
            .vxlan(VxlanConfig.flannel().withVni(VNI)).encapsulation(WireNode.ENCAPSULATION)
            .stages("conntrack,route,encap,tx").ringBatches(4).maxFrame(WireNode.MAX_FRAME)
            .overflow(Pipeline.Overflow.DROP).idle(Pipeline.Idle.BACKOFF).maxConntrack(1024).build(),
            SyntheticCluster.generate(5, 1, 1, SyntheticCluster.Mix.REALISTIC, TOPOLOGY.nodes()));
        final AtomicReference<FrameOutput> worker0 = new AtomicReference<>();
        wire = new WireNode(new WireAddresses(TOPOLOGY, port), outputs -> node.start(w ->
        {
            worker0.set(outputs.apply(w));
            return worker0.get();
        }, WireNode::flushStage), VNI, false, 1, false);
        output = (WireNode.WireOutput)worker0.get();
    }

    @AfterEach
    void stop() throws Exception
    {
        if (wire != null)
        {
            wire.close();
        }
        if (node != null)
        {
            node.close();
        }
        for (final DatagramChannel c : sockets)
        {
            if (c != null)
            {
                c.close();
            }
        }
    }

    /**
     * Called as the encap stage and the tx stage call it (the worker is idle: nothing else sends): an encapsulated
     * frame whose batch says node 3 reaches node 3 byte for byte (sent from the memory it lies in); a plain frame
     * whose batch says node 2 (an ICMP error the encap stage answers a frame for node 2 with) reaches the pods; an
     * encapsulated frame without a next hop is counted unroutable. Node 2 gets nothing.
     */
    @Test
    void encapsulatedFramesGoToTheBatchsNextHopAndPlainFramesToThePods() throws Exception
    {
        final byte[] toNode2 = vxlanFrameToNode2();

        // encapsulated, next hop node 3, in memory the frame's owner holds (a received datagram's buffer)
        final ByteBuf received = Unpooled.directBuffer(WireNode.RX_HEADROOM + toNode2.length);
        received.setBytes(WireNode.RX_HEADROOM, toNode2);
        final PacketBatch external = new PacketBatch(WireNode.MAX_FRAME);
        assertThat(external.addExternal(received.memoryAddress() + WireNode.RX_HEADROOM, WireNode.RX_HEADROOM,
            toNode2.length, received, owner -> ((ByteBuf)owner).release(), 0, 0)).isTrue();
        external.nextHop(0, 3);
        output.encapsulated(external, 0, external.buffer(0), external.offset(0), external.length(0));

        // a plain frame from a batch slot, whose batch says node 2
        final PacketBatch slots = new PacketBatch(WireNode.MAX_FRAME);
        assertThat(slots.add(new UnsafeBuffer(toNode2), 0, toNode2.length, 0, 1)).isTrue();
        slots.nextHop(0, 2);
        output.frame(slots, 0, slots.buffer(0), slots.offset(0), slots.length(0));

        // encapsulated with no overlay node to go to
        slots.nextHop(0, PacketBatch.LOCAL);
        output.encapsulated(slots, 0, slots.buffer(0), slots.offset(0), slots.length(0));
        output.flush();

        assertThat(receive(3)).as("node 3: the frame as the encap stage left it").isEqualTo(toNode2);
        final byte[] pods = receive(0);
        assertThat(Arrays.copyOf(pods, 8)).as("the pods: this node's VXLAN header (I flag, VNI)")
            .isEqualTo(new byte[]{0x08, 0, 0, 0, 0, 0, VNI, 0});
        assertThat(Arrays.copyOfRange(pods, 8, pods.length)).as("then the frame whole").isEqualTo(toNode2);
        Thread.sleep(200);
        for (int k = 0; k < 4; k++)
        {
            assertThat(sockets[k].receive(ByteBuffer.allocate(4096))).as("nothing more at socket %d", k).isNull();
        }
        external.clear(); // the worker's hand-back of the received buffer
        assertThat(wire.sent()).isEqualTo(2);
        assertThat(wire.unroutable()).isEqualTo(1);
        assertThat(wire.txZeroCopy()).as("the frame in a received buffer, sent from it").isEqualTo(1);
        assertThat(wire.txCopied()).as("the frame in a batch slot, copied").isEqualTo(1);
        assertThat(received.refCnt()).as("the slice sent and released, the owner given back").isZero();
    }

    /**
     * Through the node: a pod's frame that happens to be a VXLAN frame to node 2 (UDP to 192.168.0.12:8472) is, for
     * this node, a frame leaving the overlay (the route stage gives it no next hop): it goes to the pods with a VXLAN
     * header, whole, not to node 2 with its first 42 bytes cut off.
     */
    @Test
    void aPodsFrameThatLooksLikeVxlanLeavesAsAPlainFrame() throws Exception
    {
        final byte[] toNode2 = vxlanFrameToNode2();
        final byte[] datagram = new byte[8 + toNode2.length];
        datagram[0] = 0x08;
        datagram[6] = VNI;
        System.arraycopy(toNode2, 0, datagram, 8, toNode2.length);
        sockets[1].send(ByteBuffer.wrap(datagram), new InetSocketAddress("127.0.1.0", wire.localPort()));

        assertThat(receive(0)).isEqualTo(datagram);
        Thread.sleep(200);
        assertThat(sockets[2].receive(ByteBuffer.allocate(4096))).as("nothing at node 2").isNull();
        assertThat(wire.unroutable()).isZero();
    }

    /** A whole VXLAN frame (full outer headers) from this node to node 2, around a pod-to-pod frame. */
    private static byte[] vxlanFrameToNode2()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[512]);
        final int at = VxlanEncapsulator.HEADROOM - 14;
        final int inner = new FrameBuilder().addresses(Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.244.2.7"))
            .udp(5353, 53).payload(new byte[100], 100).build(b, at);
        final int frame = new VxlanEncapsulator(VxlanConfig.flannel().withVni(VNI), TOPOLOGY.local())
            .encapsulate(b, at + 14, inner - 14, TOPOLOGY.remote(2), 40_000);
        final byte[] f = new byte[at + inner - frame];
        b.getBytes(frame, f);
        assertThat(b.getInt(frame + 14 + 16, ByteOrder.BIG_ENDIAN)).isEqualTo(Ipv4Address.parse("192.168.0.12"));
        assertThat(b.getShort(frame + 14 + 20 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF).isEqualTo(8472);
        return f;
    }

    /** The next datagram socket {@code k} receives (waits up to 5 s). */
    private byte[] receive(final int k) throws Exception
    {
        final ByteBuffer b = ByteBuffer.allocate(4096);
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (sockets[k].receive(b) == null)
        {
            assertThat(System.nanoTime()).as("a datagram at socket %d", k).isLessThan(deadline);
            Thread.sleep(5);
        }
        b.flip();
        final byte[] d = new byte[b.remaining()];
        b.get(d);
        return d;
    }
}
