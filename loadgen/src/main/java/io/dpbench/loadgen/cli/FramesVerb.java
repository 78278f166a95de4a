package io.dpbench.loadgen.cli;

import io.dpbench.verb.Verb;
import io.dpbench.loadgen.frames.MixedFrameGenerator;
import io.dpbench.cli.OutputFile;
import io.dpbench.packet.PcapReader;
import io.dpbench.packet.PcapWriter;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/** {@code dpbench frames}: write a seeded pcap of varied pod-to-Service frames (test input for the other verbs). */
@Command(
    name = "frames",
    mixinStandardHelpOptions = true,
    header = "Write a seeded pcap of varied pod-to-Service frames.",
    description = {
        "Write a pcap of seeded, valid frames as pods send them to Services: clients in 10.244.0.0/16, Service",
        "ClusterIPs in 10.96.0.0/12 on typical ports, a TCP/UDP/ICMP-echo mix, optional VLAN tags, fixed or IMIX sizes.",
        "A TCP flow's first frame is its SYN. The same --seed gives the same file.",
        "",
        "Example: dpbench frames --out mix.pcap --count 100000 --flows 5000 --size imix"
    })
public final class FramesVerb implements Verb
{
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "pcap to write")
    Path out;

    @Option(names = "--count", paramLabel = "N", defaultValue = "10000", description = "frames to write (default: ${DEFAULT-VALUE})")
    long count;

    @Option(names = "--flows", paramLabel = "F", defaultValue = "1000", description = "distinct flows (default: ${DEFAULT-VALUE})")
    int flows;

    @Option(names = "--services", paramLabel = "N", defaultValue = "100", description = "distinct Service ClusterIPs (default: ${DEFAULT-VALUE})")
    int services;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--tcp", paramLabel = "PCT", defaultValue = "70", description = "percent of flows that are TCP (default: ${DEFAULT-VALUE})")
    int tcpPercent;

    @Option(names = "--udp", paramLabel = "PCT", defaultValue = "25", description = "percent of flows that are UDP; the rest are ICMP echo (default: ${DEFAULT-VALUE})")
    int udpPercent;

    @Option(names = "--vlan", paramLabel = "PCT", defaultValue = "10", description = "percent of frames with an 802.1Q tag (default: ${DEFAULT-VALUE})")
    int vlanPercent;

    @Option(names = "--size", paramLabel = "BYTES|imix", defaultValue = "imix", converter = SizeConverter.class,
        description = "frame size: a number (60..1518) or 'imix' (64/594/1518 bytes, 7:4:1) (default: ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--rate", paramLabel = "PPS", defaultValue = "100000", description = "frames per second, for the timestamps (default: ${DEFAULT-VALUE})")
    long rate;

    @Override
    public Integer call() throws Exception
    {
        if (count < 0 || rate <= 0)
        {
            throw new ParameterException(spec.commandLine(), "--count must be >= 0 and --rate > 0");
        }
        final MixedFrameGenerator generator;
        try
        {
            generator = new MixedFrameGenerator(seed, flows, services, tcpPercent, udpPercent, vlanPercent, size);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), ex.getMessage());
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
        final long start = 1_764_000_000_000_000_000L; // fixed epoch: the same seed gives the same bytes
        final long interval = 1_000_000_000L / rate;
        long bytes = 0;
        final OutputFile output = OutputFile.create(spec, out, "--out", PcapReader.GLOBAL_HEADER_LENGTH);
        try (PcapWriter writer = PcapWriter.create(output.temp()))
        {
            for (long i = 0; i < count; i++)
            {
                final int length = generator.next(buffer, 0);
                writer.write(buffer, 0, length, start + i * interval);
                bytes += length;
            }
        }
        catch (final Exception ex)
        {
            throw output.fail(ex);
        }
        output.commit();
        spec.commandLine().getOut().printf("%s: %d frames, %d bytes, %d flows to %d Service IPs (seed %d)%n",
            out, count, bytes, flows, services, seed);
        return 0;
    }

    static final class SizeConverter implements ITypeConverter<Integer>
    {
        @Override
        public Integer convert(final String value)
        {
            if ("imix".equalsIgnoreCase(value))
            {
                return MixedFrameGenerator.IMIX;
            }
            try
            {
                return Integer.parseInt(value);
            }
            catch (final NumberFormatException ex)
            {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is neither a number nor 'imix'");
            }
        }
    }
}
