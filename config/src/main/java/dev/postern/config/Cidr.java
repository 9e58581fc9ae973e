package dev.postern.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An IP network: {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or a single address ({@code 192.0.2.7} is {@code /32}).
 * Parsed without any name lookup. An IPv4 network never contains an IPv6 address, IPv4-mapped ones included: the
 * caller compares the address the socket reports.
 *
 * @param network the network address (host bits cleared), 4 or 16 bytes
 * @param prefix the prefix length
 */
public record Cidr(byte[] network, int prefix) {
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    public Cidr {
        if (network.length != 4 && network.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + network.length);
        }
        if (prefix < 0 || prefix > network.length * 8) {
            throw new IllegalArgumentException("prefix " + prefix + " out of range");
        }
        network = mask(network.clone(), prefix);
    }

    /**
     * Parses {@code address[/prefix]}.
     *
     * @throws IllegalArgumentException {@code '10.0.0.0/33' is not a network (the prefix of an IPv4 network is 0-32)}
     */
    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String addressText = slash < 0 ? s : s.substring(0, slash);
        byte[] address = literal(addressText);
        if (address == null) {
            throw new IllegalArgumentException("'" + text + "' is not a network such as 10.0.0.0/8 or 2001:db8::/32");
        }
        int max = address.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > max) {
                throw new IllegalArgumentException("'" + text + "' is not a network (the prefix of an IPv"
                        + (address.length == 4 ? "4 network is 0-32" : "6 network is 0-128") + ")");
            }
            prefix = Integer.parseInt(p);
        }
        return new Cidr(address, prefix);
    }

    /** The bytes of an IPv4 or IPv6 literal, or null when {@code text} is not one (never a name lookup). */
    static byte[] literal(String text) {
        try {
            if (IPV4.matcher(text).matches()) {
                return InetAddress.getByName(text).getAddress();
            }
            if (text.indexOf(':') >= 0 && IPV6_CHARS.matcher(text).matches()) {
                // in brackets the JDK parses an IPv6 literal and never looks it up as a name
                byte[] b = InetAddress.getByName("[" + text + "]").getAddress();
                return b.length == 16 ? b : null;
            }
        } catch (UnknownHostException e) {
            return null;
        }
        return null;
    }

    /** Whether {@code address} is in this network. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (a[full] & m) == (network[full] & 0xff);
    }

    @Override
    public byte[] network() {
        return network.clone();
    }

    private static byte[] mask(byte[] b, int prefix) {
        for (int i = 0; i < b.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) ((0xff << (8 - bits)) & 0xff);
        }
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        try {
            String a = InetAddress.getByAddress(network).getHostAddress().toLowerCase(Locale.ROOT);
            return a + "/" + prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
