package io.dpbench.conntrack.proto;

import java.util.Arrays;
import java.util.Locale;

/**
 * Per-state conntrack timeouts in seconds: the values the {@code net.netfilter.nf_conntrack_*_timeout*} sysctls hold.
 * Immutable; the {@code with...} methods return a changed copy, so a preset can be shared by every worker and read on
 * the per-packet path without locks or allocation.
 * <p>
 * Two presets: {@link #kernelDefaults()} are the initialisers of {@code tcp_timeouts[]} in
 * {@code nf_conntrack_proto_tcp.c}, {@code udp_timeouts[]} in {@code nf_conntrack_proto_udp.c} and
 * {@code nf_ct_icmp_timeout} in {@code nf_conntrack_proto_icmp.c}; {@link #kubernetesNode()} is what kube-proxy writes
 * on start with its default configuration ({@code conntrack.tcpEstablishedTimeout=24h},
 * {@code conntrack.tcpCloseWaitTimeout=1h}; the UDP options default to 0, which leaves the kernel values alone).
 */
public final class ConntrackTimeouts
{
    /** kube-proxy's {@code conntrack.maxPerCore} default. */
    public static final int KUBE_PROXY_MAX_PER_CORE = 32 * 1024;
    /** kube-proxy's {@code conntrack.min} default. */
    public static final int KUBE_PROXY_MIN = 128 * 1024;

    private static final int MINUTE = 60;
    private static final int HOUR = 60 * MINUTE;
    private static final int DAY = 24 * HOUR;

    private static final ConntrackTimeouts KERNEL = new ConntrackTimeouts(kernelTcp(), 30, 120, 30);
    private static final ConntrackTimeouts KUBERNETES = KERNEL
        .withTcp(TcpConntrack.ESTABLISHED, DAY)
        .withTcp(TcpConntrack.CLOSE_WAIT, HOUR);

    private final int[] tcp;
    private final int udpUnreplied;
    private final int udpStream;
    private final int icmp;

    private ConntrackTimeouts(final int[] tcp, final int udpUnreplied, final int udpStream, final int icmp)
    {
        this.tcp = tcp;
        this.udpUnreplied = udpUnreplied;
        this.udpStream = udpStream;
        this.icmp = icmp;
    }

    /** The kernel's compiled-in defaults. */
    public static ConntrackTimeouts kernelDefaults()
    {
        return KERNEL;
    }

    /** A Kubernetes node after kube-proxy's conntrack setup: established 86400 s, close_wait 3600 s, rest as kernel. */
    public static ConntrackTimeouts kubernetesNode()
    {
        return KUBERNETES;
    }

    /**
     * The {@code nf_conntrack_max} kube-proxy sets on a node with {@code cores} CPUs:
     * {@code max(maxPerCore * cores, min)} with the defaults 32768 and 131072 (kube-proxy leaves the sysctl alone
     * when {@code conntrack.maxPerCore} is 0).
     */
    public static int kubeProxyConntrackMax(final int cores)
    {
        return kubeProxyConntrackMax(cores, KUBE_PROXY_MAX_PER_CORE, KUBE_PROXY_MIN);
    }

    /** {@link #kubeProxyConntrackMax(int)} with explicit {@code maxPerCore} and {@code min}. */
    public static int kubeProxyConntrackMax(final int cores, final int maxPerCore, final int min)
    {
        if (cores < 1)
        {
            throw new IllegalArgumentException("cores must be positive: " + cores);
        }
        return (int)Math.min(Integer.MAX_VALUE, Math.max((long)maxPerCore * cores, min));
    }

    /**
     * Timeout for TCP slot {@code slot}: a state code of {@link TcpConntrack} or {@link TcpConntrack#RETRANS} /
     * {@link TcpConntrack#UNACK}. Slot NONE holds the SYN_SENT value, as {@code nf_conntrack_tcp_init_net} sets it.
     */
    public int tcp(final int slot)
    {
        return tcp[slot];
    }

    /** {@code nf_conntrack_udp_timeout}: an entry that has not seen a reply, or is younger than the stream mark. */
    public int udpUnreplied()
    {
        return udpUnreplied;
    }

    /** {@code nf_conntrack_udp_timeout_stream}: a replied entry older than the stream mark. */
    public int udpStream()
    {
        return udpStream;
    }

    /** {@code nf_conntrack_icmp_timeout}. */
    public int icmp()
    {
        return icmp;
    }

    /** A copy with TCP slot {@code slot} set to {@code seconds}. */
    public ConntrackTimeouts withTcp(final int slot, final int seconds)
    {
        if (slot < 0 || slot >= TcpConntrack.TIMEOUT_SLOTS || slot == TcpConntrack.INVALID
            || slot == TcpConntrack.IGNORE)
        {
            throw new IllegalArgumentException("not a TCP timeout slot: " + slot);
        }
        final int[] copy = tcp.clone();
        copy[slot] = requireNonNegative(seconds);
        if (slot == TcpConntrack.SYN_SENT)
        {
            copy[TcpConntrack.NONE] = copy[slot];
        }
        return new ConntrackTimeouts(copy, udpUnreplied, udpStream, icmp);
    }

    /** A copy with the two UDP timeouts replaced. */
    public ConntrackTimeouts withUdp(final int unreplied, final int stream)
    {
        return new ConntrackTimeouts(tcp, requireNonNegative(unreplied), requireNonNegative(stream), icmp);
    }

    /** A copy with the ICMP timeout replaced. */
    public ConntrackTimeouts withIcmp(final int seconds)
    {
        return new ConntrackTimeouts(tcp, udpUnreplied, udpStream, requireNonNegative(seconds));
    }

    @Override
    public boolean equals(final Object o)
    {
        if (this == o)
        {
            return true;
        }
        if (!(o instanceof ConntrackTimeouts))
        {
            return false;
        }
        final ConntrackTimeouts other = (ConntrackTimeouts)o;
        return udpUnreplied == other.udpUnreplied && udpStream == other.udpStream && icmp == other.icmp
            && Arrays.equals(tcp, other.tcp);
    }

    @Override
    public int hashCode()
    {
        return 31 * (31 * (31 * Arrays.hashCode(tcp) + udpUnreplied) + udpStream) + icmp;
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("ConntrackTimeouts{tcp:");
        for (int slot = 1; slot < TcpConntrack.TIMEOUT_SLOTS; slot++)
        {
            if (slot == TcpConntrack.INVALID || slot == TcpConntrack.IGNORE)
            {
                continue;
            }
            sb.append(' ').append(TcpConntrack.name(slot).toLowerCase(Locale.ROOT)).append('=').append(tcp[slot]);
        }
        return sb.append(", udp=").append(udpUnreplied).append(", udp_stream=").append(udpStream)
            .append(", icmp=").append(icmp).append('}').toString();
    }

    private static int[] kernelTcp()
    {
        final int[] t = new int[TcpConntrack.TIMEOUT_SLOTS];
        t[TcpConntrack.SYN_SENT] = 2 * MINUTE;
        t[TcpConntrack.SYN_RECV] = 60;
        t[TcpConntrack.ESTABLISHED] = 5 * DAY;
        t[TcpConntrack.FIN_WAIT] = 2 * MINUTE;
        t[TcpConntrack.CLOSE_WAIT] = 60;
        t[TcpConntrack.LAST_ACK] = 30;
        t[TcpConntrack.TIME_WAIT] = 2 * MINUTE;
        t[TcpConntrack.CLOSE] = 10;
        t[TcpConntrack.SYN_SENT2] = 2 * MINUTE;
        t[TcpConntrack.RETRANS] = 5 * MINUTE;
        t[TcpConntrack.UNACK] = 5 * MINUTE;
        // nf_conntrack_tcp_init_net: slot 0 is unused by the state machine and set to SYN_SENT's "new" timeout.
        t[TcpConntrack.NONE] = t[TcpConntrack.SYN_SENT];
        return t;
    }

    private static int requireNonNegative(final int seconds)
    {
        if (seconds < 0)
        {
            throw new IllegalArgumentException("timeout must not be negative: " + seconds);
        }
        return seconds;
    }
}
