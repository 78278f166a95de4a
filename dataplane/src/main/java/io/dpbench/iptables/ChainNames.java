package io.dpbench.iptables;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * kube-proxy's chain names (pkg/proxy/iptables/proxier.go {@code portProtoHash},
 * {@code servicePortEndpointChainName}): the first 16 characters of the RFC 4648 base32 encoding (upper case) of
 * sha256 over the service port name ("ns/name:portName", or "ns/name" for an unnamed port), the lower-case
 * protocol and, for endpoint chains, the endpoint "ip:port" — concatenated with no separator.
 */
public final class ChainNames
{
    public static final String SERVICE = "KUBE-SVC-";
    public static final String SERVICE_LOCAL = "KUBE-SVL-";
    public static final String EXTERNAL = "KUBE-EXT-";
    public static final String FIREWALL = "KUBE-FW-";
    public static final String ENDPOINT = "KUBE-SEP-";

    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private ChainNames()
    {
    }

    /** The 16-character hash shared by a service port's SVC, SVL, EXT and FW chains. */
    public static String portProtoHash(final String servicePortName, final String protocol)
    {
        return hash16(servicePortName + protocol);
    }

    public static String endpointChain(final String servicePortName, final String protocol, final String endpoint)
    {
        return ENDPOINT + hash16(servicePortName + protocol + endpoint);
    }

    static String hash16(final String input)
    {
        final byte[] digest;
        try
        {
            digest = MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-256 is required of every JVM", ex);
        }
        // 16 base32 characters = 80 bits = the first 10 bytes
        final StringBuilder sb = new StringBuilder(16);
        long bits = 0;
        int count = 0;
        for (int i = 0; i < 10; i++)
        {
            bits = (bits << 8) | (digest[i] & 0xFF);
            count += 8;
            while (count >= 5)
            {
                sb.append(BASE32[(int)(bits >>> (count - 5)) & 31]);
                count -= 5;
            }
        }
        return sb.toString();
    }
}
