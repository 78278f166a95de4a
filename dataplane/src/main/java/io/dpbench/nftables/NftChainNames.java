package io.dpbench.nftables;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * kube-proxy's nftables chain and set names (pkg/proxy/nftables, servicePortChainNameBase and
 * servicePortEndpointChainNameBase): the first 8 characters of the standard base32 encoding of the SHA-256 of
 * {@code namespace/name/protocol/port} (for an endpoint: {@code ...__ip/port}), a '-', then that string itself, cut to
 * 240 characters with "..." when longer; prefixed by {@code service-}, {@code local-}, {@code external-},
 * {@code firewall-}, {@code endpoint-} or {@code affinity-}. E.g. ns1/svc1 port p80 over TCP:
 * {@code service-ULMVA6XW-ns1/svc1/tcp/p80}.
 */
public final class NftChainNames
{
    public static final String SERVICE = "service-";
    public static final String LOCAL = "local-";
    public static final String EXTERNAL = "external-";
    public static final String FIREWALL = "firewall-";
    public static final String ENDPOINT = "endpoint-";
    public static final String AFFINITY = "affinity-";

    /** knftables.NameLengthMax (256) minus the longest prefix kube-proxy allows (16). */
    static final int BASE_LENGTH_MAX = 256 - 16;

    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private NftChainNames()
    {
    }

    /** The base of a service port's chain names: {@code HASH-namespace/name/protocol/portName}. */
    public static String servicePortBase(final String namespace, final String name, final String protocol,
        final String portName)
    {
        return hashAndTruncate(namespace + "/" + name + "/" + protocol + "/" + portName);
    }

    /** The base of an endpoint's chain and affinity set: {@code HASH-namespace/name/protocol/portName__ip/port}. */
    public static String endpointBase(final String namespace, final String name, final String protocol,
        final String portName, final String ip, final int port)
    {
        return hashAndTruncate(namespace + "/" + name + "/" + protocol + "/" + portName + "__" + ip.replace(':', '.')
            + "/" + port);
    }

    static String hashAndTruncate(final String name)
    {
        final String result = hash8(name) + "-" + name;
        return result.length() > BASE_LENGTH_MAX ? result.substring(0, BASE_LENGTH_MAX - 3) + "..." : result;
    }

    /** The first 8 characters of base32(sha256(text)): the first 40 bits of the digest, 5 at a time. */
    static String hash8(final String text)
    {
        final byte[] digest;
        try
        {
            digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("the JDK has no SHA-256", ex);
        }
        long bits = 0;
        for (int i = 0; i < 5; i++)
        {
            bits = bits << 8 | (digest[i] & 0xFF);
        }
        final char[] out = new char[8];
        for (int i = 7; i >= 0; i--)
        {
            out[i] = BASE32[(int)(bits & 31)];
            bits >>>= 5;
        }
        return new String(out);
    }
}
