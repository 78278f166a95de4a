package io.dpbench.conntrack.proto;

/**
 * ICMP (v4) tracking as pure functions, re-expressed from {@code net/netfilter/nf_conntrack_proto_icmp.c}.
 * <p>
 * A query ICMP message is tracked like a tiny connection whose tuple is (addresses, type, code, identifier): the
 * identifier plays the role of a port, and the reply tuple has the addresses swapped and the type inverted by
 * {@code invmap} (echo 8 to echo reply 0, timestamp 13 to 14, information 15 to 16, address mask 17 to 18). Only
 * the four request types may create an entry ({@code valid_new} in {@code nf_conntrack_icmp_packet}); a reply type
 * or any other type arriving with no entry is INVALID. Error messages (destination unreachable, source quench,
 * redirect, time exceeded, parameter problem) never create entries: {@code nf_conntrack_icmpv4_error} looks up the
 * connection of the embedded header and marks the error RELATED to it. Types above 18 are INVALID.
 * <p>
 * Every packet of an entry, either direction, refreshes it to {@code nf_conntrack_icmp_timeout} (30 s); the entry
 * is not deleted after the first reply (so duplicated replies still match) and the ICMP tracker never sets
 * {@code IPS_ASSURED}.
 */
public final class IcmpConntrack
{
    public static final int ECHO_REPLY = 0;
    public static final int DEST_UNREACH = 3;
    public static final int SOURCE_QUENCH = 4;
    public static final int REDIRECT = 5;
    public static final int ECHO = 8;
    public static final int TIME_EXCEEDED = 11;
    public static final int PARAMETER_PROBLEM = 12;
    public static final int TIMESTAMP = 13;
    public static final int TIMESTAMP_REPLY = 14;
    public static final int INFO_REQUEST = 15;
    public static final int INFO_REPLY = 16;
    public static final int ADDRESS = 17;
    public static final int ADDRESS_REPLY = 18;
    /** {@code NR_ICMP_TYPES}: the highest type the kernel knows. */
    public static final int MAX_KNOWN_TYPE = 18;

    /** {@link #classify} result: a request that creates (or belongs to) a tracked query entry. */
    public static final int QUERY_REQUEST = 0;
    /** {@link #classify} result: a reply type; it belongs to an entry only as the reply of a matching request. */
    public static final int QUERY_REPLY = 1;
    /** {@link #classify} result: an error message, RELATED to the connection of its embedded header. */
    public static final int ERROR = 2;
    /** {@link #classify} result: not trackable as new and not an error (e.g. router advertisement): INVALID. */
    public static final int UNTRACKABLE = 3;
    /** {@link #classify} result: type above 18, dropped as INVALID by {@code nf_conntrack_icmpv4_error}. */
    public static final int UNKNOWN_TYPE = 4;

    /** {@link #inverseType} result when the type has no inverse ({@code invmap} entry 0). */
    public static final int NO_INVERSE = -1;

    private IcmpConntrack()
    {
    }

    /** {@code valid_new}: the types that may create an entry. */
    public static boolean canCreate(final int type)
    {
        return type == ECHO || type == TIMESTAMP || type == INFO_REQUEST || type == ADDRESS;
    }

    /** {@code icmp_is_err}: the types handled as errors about another connection. */
    public static boolean isError(final int type)
    {
        return type == DEST_UNREACH || type == SOURCE_QUENCH || type == REDIRECT || type == TIME_EXCEEDED
            || type == PARAMETER_PROBLEM;
    }

    /** {@code invmap}: the type of the other direction's tuple, or {@link #NO_INVERSE}. */
    public static int inverseType(final int type)
    {
        switch (type)
        {
            case ECHO:
                return ECHO_REPLY;
            case ECHO_REPLY:
                return ECHO;
            case TIMESTAMP:
                return TIMESTAMP_REPLY;
            case TIMESTAMP_REPLY:
                return TIMESTAMP;
            case INFO_REQUEST:
                return INFO_REPLY;
            case INFO_REPLY:
                return INFO_REQUEST;
            case ADDRESS:
                return ADDRESS_REPLY;
            case ADDRESS_REPLY:
                return ADDRESS;
            default:
                return NO_INVERSE;
        }
    }

    /** How the tracker treats a message of {@code type}; one of the {@code QUERY_REQUEST..UNKNOWN_TYPE} codes. */
    public static int classify(final int type)
    {
        if (type < 0 || type > MAX_KNOWN_TYPE)
        {
            return UNKNOWN_TYPE;
        }
        if (isError(type))
        {
            return ERROR;
        }
        if (canCreate(type))
        {
            return QUERY_REQUEST;
        }
        return inverseType(type) != NO_INVERSE ? QUERY_REPLY : UNTRACKABLE;
    }

    /**
     * Whether a packet (type, code, identifier) travelling opposite to an entry's original request matches the
     * entry's reply tuple: the inverted type, the same code and the same identifier. Addresses are the caller's
     * part of the tuple (swapped) and are not checked here.
     */
    public static boolean isReplyTo(
        final int requestType, final int requestCode, final int requestId,
        final int type, final int code, final int id)
    {
        final int expected = inverseType(requestType);
        return expected != NO_INVERSE && type == expected && code == requestCode && id == requestId;
    }

    /** The timeout in seconds any packet of an entry refreshes it to. */
    public static int timeoutSeconds(final ConntrackTimeouts timeouts)
    {
        return timeouts.icmp();
    }
}
