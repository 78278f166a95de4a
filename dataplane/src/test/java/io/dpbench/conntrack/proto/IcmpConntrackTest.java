package io.dpbench.conntrack.proto;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class IcmpConntrackTest
{
    @Test
    void onlyRequestTypesCreateEntries()
    {
        // valid_new[]: ECHO, TIMESTAMP, INFO_REQUEST, ADDRESS
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.ECHO)).isTrue();
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.TIMESTAMP)).isTrue();
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.INFO_REQUEST)).isTrue();
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.ADDRESS)).isTrue();
        // "can't create new conn with type": a lone echo reply, router advertisement (9), errors.
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.ECHO_REPLY)).isFalse();
        assertThat(IcmpConntrack.canCreate(9)).isFalse();
        assertThat(IcmpConntrack.canCreate(IcmpConntrack.DEST_UNREACH)).isFalse();
        int creating = 0;
        for (int type = 0; type < 256; type++)
        {
            if (IcmpConntrack.canCreate(type))
            {
                creating++;
            }
        }
        assertThat(creating).isEqualTo(4);
    }

    @Test
    void classification()
    {
        // nf_conntrack_icmpv4_error: type > NR_ICMP_TYPES is invalid; icmp_is_err types go to the RELATED lookup.
        assertThat(IcmpConntrack.classify(19)).isEqualTo(IcmpConntrack.UNKNOWN_TYPE);
        assertThat(IcmpConntrack.classify(IcmpConntrack.DEST_UNREACH)).isEqualTo(IcmpConntrack.ERROR);
        assertThat(IcmpConntrack.classify(IcmpConntrack.SOURCE_QUENCH)).isEqualTo(IcmpConntrack.ERROR);
        assertThat(IcmpConntrack.classify(IcmpConntrack.REDIRECT)).isEqualTo(IcmpConntrack.ERROR);
        assertThat(IcmpConntrack.classify(IcmpConntrack.TIME_EXCEEDED)).isEqualTo(IcmpConntrack.ERROR);
        assertThat(IcmpConntrack.classify(IcmpConntrack.PARAMETER_PROBLEM)).isEqualTo(IcmpConntrack.ERROR);
        // valid_new vs invmap-only types
        assertThat(IcmpConntrack.classify(IcmpConntrack.ECHO)).isEqualTo(IcmpConntrack.QUERY_REQUEST);
        assertThat(IcmpConntrack.classify(IcmpConntrack.ECHO_REPLY)).isEqualTo(IcmpConntrack.QUERY_REPLY);
        assertThat(IcmpConntrack.classify(9)).isEqualTo(IcmpConntrack.UNTRACKABLE);
        assertThat(IcmpConntrack.classify(10)).isEqualTo(IcmpConntrack.UNTRACKABLE);
    }

    @Test
    void echoReplyMustMatchTypeCodeAndIdentifier()
    {
        // invmap[ICMP_ECHO] = ICMP_ECHOREPLY + 1 and back; the id is kept, the code copied.
        assertThat(IcmpConntrack.inverseType(IcmpConntrack.ECHO)).isEqualTo(IcmpConntrack.ECHO_REPLY);
        assertThat(IcmpConntrack.inverseType(IcmpConntrack.ECHO_REPLY)).isEqualTo(IcmpConntrack.ECHO);
        assertThat(IcmpConntrack.inverseType(IcmpConntrack.TIMESTAMP)).isEqualTo(IcmpConntrack.TIMESTAMP_REPLY);
        assertThat(IcmpConntrack.inverseType(IcmpConntrack.ADDRESS_REPLY)).isEqualTo(IcmpConntrack.ADDRESS);
        assertThat(IcmpConntrack.inverseType(IcmpConntrack.DEST_UNREACH)).isEqualTo(IcmpConntrack.NO_INVERSE);
        // Reply tuple = inverted type, same code, same id.
        assertThat(IcmpConntrack.isReplyTo(8, 0, 0x1234, 0, 0, 0x1234)).isTrue();
        assertThat(IcmpConntrack.isReplyTo(8, 0, 0x1234, 0, 0, 0x1235)).isFalse(); // other identifier
        assertThat(IcmpConntrack.isReplyTo(8, 0, 0x1234, 8, 0, 0x1234)).isFalse(); // another request, not a reply
        assertThat(IcmpConntrack.isReplyTo(8, 0, 0x1234, 14, 0, 0x1234)).isFalse(); // timestamp reply
        assertThat(IcmpConntrack.isReplyTo(3, 0, 0x1234, 3, 0, 0x1234)).isFalse(); // no invmap entry
    }

    @Test
    void timeoutIsThirtySeconds()
    {
        // nf_ct_icmp_timeout = 30*HZ, refreshed by every packet of the entry.
        assertThat(IcmpConntrack.timeoutSeconds(ConntrackTimeouts.kernelDefaults())).isEqualTo(30);
        assertThat(IcmpConntrack.timeoutSeconds(ConntrackTimeouts.kubernetesNode())).isEqualTo(30);
    }
}
