package io.dpbench.conntrack.proto;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConntrackTimeoutsTest
{
    @Test
    void kernelDefaults()
    {
        final ConntrackTimeouts t = ConntrackTimeouts.kernelDefaults();
        // tcp_timeouts[] in nf_conntrack_proto_tcp.c
        assertThat(t.tcp(TcpConntrack.SYN_SENT)).isEqualTo(120);      // 2 MINS
        assertThat(t.tcp(TcpConntrack.SYN_RECV)).isEqualTo(60);       // 60 SECS
        assertThat(t.tcp(TcpConntrack.ESTABLISHED)).isEqualTo(432_000); // 5 DAYS
        assertThat(t.tcp(TcpConntrack.FIN_WAIT)).isEqualTo(120);      // 2 MINS
        assertThat(t.tcp(TcpConntrack.CLOSE_WAIT)).isEqualTo(60);     // 60 SECS
        assertThat(t.tcp(TcpConntrack.LAST_ACK)).isEqualTo(30);       // 30 SECS
        assertThat(t.tcp(TcpConntrack.TIME_WAIT)).isEqualTo(120);     // 2 MINS
        assertThat(t.tcp(TcpConntrack.CLOSE)).isEqualTo(10);          // 10 SECS
        assertThat(t.tcp(TcpConntrack.SYN_SENT2)).isEqualTo(120);     // 2 MINS
        assertThat(t.tcp(TcpConntrack.RETRANS)).isEqualTo(300);       // 5 MINS
        assertThat(t.tcp(TcpConntrack.UNACK)).isEqualTo(300);         // 5 MINS
        // nf_conntrack_tcp_init_net: timeouts[0] = SYN_SENT
        assertThat(t.tcp(TcpConntrack.NONE)).isEqualTo(120);
        // udp_timeouts[] UNREPLIED 30*HZ, REPLIED 120*HZ; nf_ct_icmp_timeout 30*HZ
        assertThat(t.udpUnreplied()).isEqualTo(30);
        assertThat(t.udpStream()).isEqualTo(120);
        assertThat(t.icmp()).isEqualTo(30);
    }

    @Test
    void kubernetesNodeChangesOnlyEstablishedAndCloseWait()
    {
        final ConntrackTimeouts k = ConntrackTimeouts.kubernetesNode();
        final ConntrackTimeouts kernel = ConntrackTimeouts.kernelDefaults();
        // kube-proxy defaults: conntrack.tcpEstablishedTimeout 24h, tcpCloseWaitTimeout 1h.
        assertThat(k.tcp(TcpConntrack.ESTABLISHED)).isEqualTo(86_400);
        assertThat(k.tcp(TcpConntrack.CLOSE_WAIT)).isEqualTo(3_600);
        assertThat(k).isEqualTo(kernel.withTcp(TcpConntrack.ESTABLISHED, 86_400).withTcp(TcpConntrack.CLOSE_WAIT, 3_600));
        assertThat(k.udpUnreplied()).isEqualTo(30);
        assertThat(k.udpStream()).isEqualTo(120);
        assertThat(k.icmp()).isEqualTo(30);
        assertThat(k.toString()).contains("established=86400", "close_wait=3600", "syn_sent2=120");
    }

    @Test
    void configurableCopies()
    {
        final ConntrackTimeouts t = ConntrackTimeouts.kernelDefaults().withTcp(TcpConntrack.SYN_SENT, 60)
            .withUdp(10, 60).withIcmp(5);
        assertThat(t.tcp(TcpConntrack.SYN_SENT)).isEqualTo(60);
        assertThat(t.tcp(TcpConntrack.NONE)).isEqualTo(60);
        assertThat(t.udpUnreplied()).isEqualTo(10);
        assertThat(t.udpStream()).isEqualTo(60);
        assertThat(t.icmp()).isEqualTo(5);
        assertThat(ConntrackTimeouts.kernelDefaults().tcp(TcpConntrack.SYN_SENT)).isEqualTo(120);
        assertThatThrownBy(() -> t.withTcp(TcpConntrack.IGNORE, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> t.withIcmp(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void kubeProxyConntrackMax()
    {
        // max(maxPerCore * cores, min) with maxPerCore 32768 and min 131072
        assertThat(ConntrackTimeouts.kubeProxyConntrackMax(1)).isEqualTo(131_072);
        assertThat(ConntrackTimeouts.kubeProxyConntrackMax(4)).isEqualTo(131_072);
        assertThat(ConntrackTimeouts.kubeProxyConntrackMax(5)).isEqualTo(163_840);
        assertThat(ConntrackTimeouts.kubeProxyConntrackMax(64)).isEqualTo(2_097_152);
        assertThatThrownBy(() -> ConntrackTimeouts.kubeProxyConntrackMax(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
