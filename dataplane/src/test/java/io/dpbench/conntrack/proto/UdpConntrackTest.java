package io.dpbench.conntrack.proto;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UdpConntrackTest
{
    private static final ConntrackTimeouts KERNEL = ConntrackTimeouts.kernelDefaults();
    private static final long T0 = 1_000_000L;

    @Test
    void unrepliedFlowGetsThirtySecondsWhateverItsAge()
    {
        // !(status & IPS_SEEN_REPLY): timeouts[UDP_CT_UNREPLIED]
        assertThat(UdpConntrack.timeoutSeconds(false, T0, T0, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.timeoutSeconds(false, T0, T0 + 60_000, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.assuredAfter(false, false, T0, T0 + 60_000)).isFalse();
    }

    @Test
    void repliedFlowKeepsThirtySecondsUntilTheTwoSecondMark()
    {
        // stream_ts = 2 * HZ + jiffies at creation
        assertThat(UdpConntrack.streamTimestamp(T0)).isEqualTo(T0 + 2_000);
        // SEEN_REPLY but !time_after(jiffies, stream_ts): extra = timeouts[UDP_CT_UNREPLIED], no ASSURED.
        assertThat(UdpConntrack.timeoutSeconds(true, T0, T0 + 500, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.assuredAfter(true, false, T0, T0 + 500)).isFalse();
        // time_after is strict: exactly at stream_ts is still not a stream.
        assertThat(UdpConntrack.timeoutSeconds(true, T0, T0 + 2_000, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.assuredAfter(true, false, T0, T0 + 2_000)).isFalse();
    }

    @Test
    void repliedFlowPastTheMarkIsAStream()
    {
        // time_after(jiffies, stream_ts): extra = timeouts[UDP_CT_REPLIED] and IPS_ASSURED set.
        assertThat(UdpConntrack.timeoutSeconds(true, T0, T0 + 2_001, KERNEL)).isEqualTo(120);
        assertThat(UdpConntrack.assuredAfter(true, false, T0, T0 + 2_001)).isTrue();
        // ASSURED is never cleared.
        assertThat(UdpConntrack.assuredAfter(true, true, T0, T0 + 2_001)).isTrue();
        // Configured stream timeout (nf_conntrack_udp_timeout_stream).
        assertThat(UdpConntrack.timeoutSeconds(true, T0, T0 + 10_000, KERNEL.withUdp(30, 180))).isEqualTo(180);
    }

    @Test
    void dnsLikeExchange()
    {
        // Query at T0 (creates, 30 s), answer at T0+20ms: the handler sees SEEN_REPLY clear (set by the core after).
        assertThat(UdpConntrack.timeoutSeconds(false, T0, T0, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.timeoutSeconds(false, T0, T0 + 20, KERNEL)).isEqualTo(30);
        // A retry at T0+1s has a reply seen but is inside the 2 s window: still 30 s and not assured.
        assertThat(UdpConntrack.timeoutSeconds(true, T0, T0 + 1_000, KERNEL)).isEqualTo(30);
        assertThat(UdpConntrack.assuredAfter(true, false, T0, T0 + 1_000)).isFalse();
    }
}
