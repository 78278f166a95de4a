package io.dpbench.cli;

import io.dpbench.packet.DropReason;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dpbench.packet.Ipv4Address;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import io.dpbench.verb.Verb;
import io.dpbench.vxlan.LocalVtep;
import io.dpbench.vxlan.OverlayForwarder;
import io.dpbench.vxlan.RemoteVtep;
import io.dpbench.vxlan.VxlanConfig;
import io.dpbench.vxlan.VxlanDecapsulator;
import io.dpbench.vxlan.VxlanEncapsulator;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code dpbench vxlan encap|decap}: the overlay's stages alone, pcap to pcap. */
@Command(
    name = "vxlan",
    mixinStandardHelpOptions = true,
    header = "VXLAN encapsulation or decapsulation of a pcap, as a flannel node's vxlan device does it.",
    description = {
        "encap: each frame of --in is a frame from a local pod to a pod on the --remote node. It is forwarded as",
        "the node would: TTL decremented (ICMP time exceeded at 1), larger than the overlay MTU (--mtu minus 50)",
        "with DF set: ICMP fragmentation-needed back to the pod; without DF: fragmented; then encapsulated (outer",
        "Ethernet --local-mac to --remote-mac, IPv4 --local to --remote, UDP to --dstport from a port hashed from",
        "the inner flow, VXLAN --vni; inner MACs --vtep-mac to --remote-vtep-mac). --out gets every frame that leaves",
        "the node, in order, ICMP errors included, with the input frame's timestamp.",
        "decap: each frame of --in arrived on the underlay; the inner frames of those the device accepts go to --out,",
        "the others are counted by reason (wrong flags, unknown VNI, truncated or bad outer headers, ...).",
        "",
        "Examples:",
        "  dpbench vxlan encap --in pods.pcap --out wire.pcap --local 10.0.0.1 --remote 10.0.0.2",
        "  dpbench vxlan decap --in wire.pcap --out inner.pcap --vni 1 --dstport 8472"
    })
public final class VxlanVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "encap|decap", description = "what to do")
    String action;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "pcap to read")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "pcap to write")
    Path out;

    @Option(names = "--vni", paramLabel = "N", defaultValue = "1", description = "VXLAN network identifier (default: ${DEFAULT-VALUE}, flannel's)")
    int vni;

    @Option(names = "--dstport", paramLabel = "PORT", defaultValue = "8472",
        description = "outer UDP destination port (default: ${DEFAULT-VALUE}, Linux's and flannel's; IANA's is 4789)")
    int destinationPort;

    @Option(names = "--local", paramLabel = "IP", defaultValue = "192.168.0.10", description = "this node's underlay address (default: ${DEFAULT-VALUE})")
    String local;

    @Option(names = "--remote", paramLabel = "IP", defaultValue = "192.168.0.11", description = "the remote node's underlay address (default: ${DEFAULT-VALUE})")
    String remote;

    @Option(names = "--local-mac", paramLabel = "MAC", defaultValue = "02:00:00:00:0a:0a", description = "this node's underlay MAC (default: ${DEFAULT-VALUE})")
    String localMac;

    @Option(names = "--remote-mac", paramLabel = "MAC", defaultValue = "02:00:00:00:0b:0b", description = "the underlay next hop's MAC (default: ${DEFAULT-VALUE})")
    String remoteMac;

    @Option(names = "--vtep-mac", paramLabel = "MAC", defaultValue = "0a:00:00:00:00:01", description = "this node's vxlan device MAC (default: ${DEFAULT-VALUE})")
    String vtepMac;

    @Option(names = "--remote-vtep-mac", paramLabel = "MAC", defaultValue = "0a:00:00:00:00:02", description = "the remote vxlan device's MAC (default: ${DEFAULT-VALUE})")
    String remoteVtepMac;

    @Option(names = "--gateway", paramLabel = "IP", defaultValue = "10.244.0.1",
        description = "this node's address on the pod network, source of ICMP errors to pods (default: ${DEFAULT-VALUE})")
    String gateway;

    @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "1500", description = "underlay MTU; the overlay's is 50 less (default: ${DEFAULT-VALUE})")
    int mtu;

    @Option(names = "--noudpcsum", description = "send outer UDP checksums as 0 (iproute2's noudpcsum)")
    boolean noUdpChecksum;

    @Option(names = "--json", description = "print the counters as one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception
    {
        final VxlanConfig config;
        try
        {
            config = new VxlanConfig(vni, destinationPort, !noUdpChecksum, mtu, 64, 32768, 60999);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final Map<String, Object> counters = new LinkedHashMap<>();
        switch (action)
        {
            case "encap" -> encap(config, counters);
            case "decap" -> decap(config, counters);
            default -> throw new ParameterException(spec.commandLine(), "unknown action '" + action + "' (encap or decap)");
        }
        final PrintWriter o = spec.commandLine().getOut();
        if (json)
        {
            o.println(new ObjectMapper().writeValueAsString(counters));
        }
        else
        {
            counters.forEach((k, v) -> o.printf("%-22s %s%n", k.replace('_', ' '), v));
        }
        o.flush();
        return 0;
    }

    private void encap(final VxlanConfig config, final Map<String, Object> counters) throws Exception
    {
        final LocalVtep vtep = new LocalVtep(address("--local", local), mac("--local-mac", localMac),
            mac("--vtep-mac", vtepMac), address("--gateway", gateway));
        final RemoteVtep peer = new RemoteVtep(address("--remote", remote), mac("--remote-mac", remoteMac),
            mac("--remote-vtep-mac", remoteVtepMac));
        final OverlayForwarder forwarder = new OverlayForwarder(new VxlanEncapsulator(config, vtep), vtep);
        final UnsafeBuffer work = new UnsafeBuffer(new byte[VxlanEncapsulator.HEADROOM + PcapReader.MAX_FRAME_LENGTH]);
        final int at = VxlanConfig.OVERHEAD;
        long read = 0;
        long written = 0;
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH, in);
        try (PcapReader reader = PcapReader.open(in);
            PcapWriter writer = PcapWriter.create(output.temp(), reader.nanosecondResolution()))
        {
            final long[] timestamp = new long[1];
            final OverlayForwarder.FrameSink sink = (buffer, offset, length) ->
            {
                try
                {
                    writer.write(buffer, offset, length, timestamp[0]);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            };
            while (reader.next())
            {
                read++;
                timestamp[0] = reader.timestampNanos();
                work.putBytes(at, reader.frame(), 0, reader.frameLength());
                written += forwarder.forward(work, at, reader.frameLength(), peer, sink);
            }
        }
        catch (final UncheckedIOException ex)
        {
            throw output.fail(ex.getCause());
        }
        catch (final Exception ex)
        {
            throw output.fail(ex);
        }
        output.commit();
        counters.put("frames_in", read);
        counters.put("frames_out", written);
        for (final OverlayForwarder.Counter c : OverlayForwarder.Counter.values())
        {
            counters.put(c.label().replace('-', '_'), forwarder.count(c));
        }
        for (final DropReason r : DropReason.of(DropReason.Where.FORWARD))
        {
            counters.put(r.localLabel().replace('-', '_'), forwarder.drops(r));
        }
    }

    private void decap(final VxlanConfig config, final Map<String, Object> counters) throws Exception
    {
        final VxlanDecapsulator decapsulator = new VxlanDecapsulator(config);
        long read = 0;
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH, in);
        try (PcapReader reader = PcapReader.open(in);
            PcapWriter writer = PcapWriter.create(output.temp(), reader.nanosecondResolution()))
        {
            while (reader.next())
            {
                read++;
                final int inner = decapsulator.decapsulate(reader.frame(), 0, reader.frameLength());
                if (inner >= 0)
                {
                    writer.write(reader.frame(), inner, decapsulator.innerLength(), reader.timestampNanos());
                }
            }
        }
        catch (final Exception ex)
        {
            throw output.fail(ex);
        }
        output.commit();
        counters.put("frames_in", read);
        counters.put("decapsulated", decapsulator.decapsulated());
        for (final DropReason d : DropReason.of(DropReason.Where.DECAP))
        {
            counters.put("drop_" + d.localLabel().replace('-', '_'), decapsulator.drops(d));
        }
    }

    private int address(final String option, final String text)
    {
        try
        {
            return Ipv4Address.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), option + " '" + text + "': " + ex.getMessage());
        }
    }

    /** "aa:bb:cc:dd:ee:ff" (or with dashes) as a 48-bit value. */
    long mac(final String option, final String text)
    {
        final String[] parts = text.split("[:-]");
        if (parts.length != 6)
        {
            throw new ParameterException(spec.commandLine(), option + " '" + text + "': expected six hex bytes, e.g. 02:00:00:00:00:01");
        }
        long mac = 0;
        for (final String part : parts)
        {
            if (!part.matches("[0-9A-Fa-f]{1,2}"))
            {
                throw new ParameterException(spec.commandLine(), option + " '" + text + "': '" + part + "' is not a hex byte");
            }
            mac = (mac << 8) | Integer.parseInt(part, 16);
        }
        return mac;
    }
}
