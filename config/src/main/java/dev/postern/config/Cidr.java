package dev.postern.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An IP network: an address and a prefix length ({@code 10.0.0.0/8}, {@code 2001:db8::/32}; a bare address is a
 * single host).
 *
 * @param network the network address, host bits cleared
 * @param prefix the prefix length
 */
public record Cidr(InetAddress network, int prefix) {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix /" + prefix + " must be between 0 and " + bits);
        }
    }

    /**
     * Parses {@code address/prefix} or a bare address, without any DNS lookup.
     *
     * @throws IllegalArgumentException naming the bad text
     */
    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String address = slash < 0 ? s : s.substring(0, slash);
        InetAddress inet = literal(address);
        if (inet == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IP network (address/prefix, e.g. 10.0.0.0/8)");
        }
        int bits = inet.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > bits) {
                throw new IllegalArgumentException(
                        "'" + text + "' has a bad prefix length (0-" + bits + " for this address)");
            }
            prefix = Integer.parseInt(p);
        }
        return new Cidr(mask(inet, prefix), prefix);
    }

    /** Whether {@code address} is in this network (an IPv4-mapped IPv6 address counts as IPv4). */
    public boolean contains(InetAddress address) {
        byte[] a = unmap(address).getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        return Arrays.equals(mask(a, prefix), n);
    }

    /** {@code address} with all but its first {@code prefix} bits cleared. */
    public static InetAddress mask(InetAddress address, int prefix) {
        try {
            return InetAddress.getByAddress(mask(address.getAddress(), prefix));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An IPv4-mapped IPv6 address ({@code ::ffff:1.2.3.4}) as the IPv4 address; anything else unchanged. */
    public static InetAddress unmap(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return address;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xff << (8 - keep)));
        }
        return out;
    }

    private static InetAddress literal(String address) {
        // only literals: InetAddress.getByName would look a name up in DNS
        if (!IPV4.matcher(address).matches() && !IPV6.matcher(address).matches()) {
            return null;
        }
        if (IPV4.matcher(address).matches()) {
            for (String part : address.split("\\.")) {
                if (Integer.parseInt(part) > 255) {
                    return null;
                }
            }
        }
        try {
            InetAddress inet = InetAddress.getByName(address);
            return inet instanceof Inet4Address || inet instanceof Inet6Address ? inet : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }

    /**
     * The networks listed at {@code node} ({@code 10.0.0.0/8}, {@code ::1/128}, or a bare address); null when an element is not one
     * (each reported). An absent node is an empty list.
     */
    static List<Cidr> list(Node node) {
        List<Cidr> out = new ArrayList<>();
        boolean valid = true;
        for (Node element : node.list()) {
            String text = element.string("a network such as 10.0.0.0/8");
            if (text == null) {
                valid = false;
                continue;
            }
            try {
                out.add(Cidr.parse(text));
            } catch (IllegalArgumentException e) {
                element.problem(e.getMessage());
                valid = false;
            }
        }
        return valid ? out : null;
    }
}
