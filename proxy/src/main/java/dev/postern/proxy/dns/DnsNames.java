package dev.postern.proxy.dns;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Names and addresses as DNS writes them: normalized names, reversed addresses for DNS lists and PTR lookups. */
public final class DnsNames {
    /** The longest name, without the trailing dot (RFC 1035: 255 octets on the wire). */
    public static final int MAX_NAME = 253;

    private static final int MAX_LABEL = 63;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private DnsNames() {}

    /**
     * {@code name} in lowercase without its trailing dot, or null when no DNS name can be written that way (empty, an
     * empty label, a label over 63 or a name over 253 characters, a character outside printable ASCII).
     */
    public static String normalize(String name) {
        int end = name.endsWith(".") ? name.length() - 1 : name.length();
        if (end == 0 || end > MAX_NAME) {
            return null;
        }
        StringBuilder out = null;
        int label = 0;
        for (int i = 0; i < end; i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (label == 0) {
                    return null;
                }
                label = 0;
            } else if (c <= ' ' || c >= 0x7f || ++label > MAX_LABEL) {
                return null;
            }
            if (c >= 'A' && c <= 'Z') {
                if (out == null) {
                    out = new StringBuilder(end).append(name, 0, i);
                }
                c = (char) (c + ('a' - 'A'));
            }
            if (out != null) {
                out.append(c);
            }
        }
        if (label == 0) {
            return null;
        }
        return out != null ? out.toString() : name.substring(0, end);
    }

    /** An IPv4-mapped IPv6 address ({@code ::ffff:192.0.2.1}) as the IPv4 address it stands for; others unchanged. */
    public static InetAddress unmapped(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return address;
                }
            }
            if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                try {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return address;
    }

    /**
     * The address reversed, as DNS lists and PTR lookups write it: {@code 1.2.0.192} for 192.0.2.1, and the 32
     * nibbles of an IPv6 address from the last to the first ({@code 1.0.0.0. ... .8.b.d.0.1.0.0.2}).
     */
    public static String reversed(InetAddress address) {
        byte[] b = unmapped(address).getAddress();
        if (b.length == 4) {
            return (b[3] & 0xff) + "." + (b[2] & 0xff) + "." + (b[1] & 0xff) + "." + (b[0] & 0xff);
        }
        StringBuilder out = new StringBuilder(63);
        for (int i = b.length - 1; i >= 0; i--) {
            if (out.length() > 0) {
                out.append('.');
            }
            out.append(HEX[b[i] & 0xf]).append('.').append(HEX[(b[i] >> 4) & 0xf]);
        }
        return out.toString();
    }

    /** The name a PTR lookup of {@code address} asks for ({@code 1.2.0.192.in-addr.arpa}, {@code ....ip6.arpa}). */
    public static String ptrName(InetAddress address) {
        InetAddress a = unmapped(address);
        return reversed(a) + (a instanceof Inet4Address ? ".in-addr.arpa" : ".ip6.arpa");
    }

    /** The 32 nibbles of an IPv6 address in order, dot-separated (SPF's {@code %{i}} for IPv6). */
    static String nibbles(Inet6Address address) {
        byte[] b = address.getAddress();
        StringBuilder out = new StringBuilder(63);
        for (byte x : b) {
            if (out.length() > 0) {
                out.append('.');
            }
            out.append(HEX[(x >> 4) & 0xf]).append('.').append(HEX[x & 0xf]);
        }
        return out.toString();
    }
}
