package dev.postern.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which answers of a DNS list count, in Postfix's {@code postscreen_dnsbl_sites} syntax: four octets, each a number or
 * a bracketed list of numbers and ranges separated by {@code ;}, e.g. {@code 127.0.0.[2..11]} or {@code
 * 127.0.[0..255].[1;3;5..9]}. Lists answer with 127.0.0.0/8 addresses whose last octets say why a client is listed;
 * a filter also keeps a list's error answers (such as Spamhaus's 127.255.255.254 for queries through public
 * resolvers) from counting as listings.
 */
public final class DnsblReplyFilter {
    /** At most this many characters: a filter of 4 octets of bracketed ranges stays far below. */
    static final int MAX_LENGTH = 200;

    private final String text;
    /** Per octet, 256 bits: which values match. */
    private final long[][] octets;

    private DnsblReplyFilter(String text, long[][] octets) {
        this.text = text;
        this.octets = octets;
    }

    /**
     * Parses a filter.
     *
     * @throws IllegalArgumentException {@code '127.0.0.[2..300]' is not a reply filter (octet 4: 300 is more than 255)}
     */
    public static DnsblReplyFilter parse(String text) {
        Objects.requireNonNull(text, "text");
        String problem = text.length() > MAX_LENGTH ? "longer than " + MAX_LENGTH + " characters" : null;
        long[][] octets = new long[4][4];
        if (problem == null) {
            problem = parseOctets(text, octets);
        }
        if (problem != null) {
            throw new IllegalArgumentException("'" + text + "' is not a reply filter (" + problem + ")");
        }
        return new DnsblReplyFilter(text, octets);
    }

    /** Whether {@code address} (4 bytes: lists answer with IPv4 addresses) matches. */
    public boolean matches(byte[] address) {
        if (address.length != 4) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            int value = address[i] & 0xff;
            if ((octets[i][value >>> 6] & (1L << (value & 63))) == 0) {
                return false;
            }
        }
        return true;
    }

    private static String parseOctets(String text, long[][] octets) {
        List<String> parts = splitOctets(text);
        if (parts == null) {
            return "a '[' without its ']'";
        }
        if (parts.size() != 4) {
            return parts.size() + " octets where an IPv4 address has 4";
        }
        for (int i = 0; i < 4; i++) {
            String part = parts.get(i);
            String where = "octet " + (i + 1) + ": ";
            if (part.isEmpty()) {
                return where + "empty";
            }
            if (part.startsWith("[")) {
                if (!part.endsWith("]") || part.length() == 2) {
                    return where + "'" + part + "' is not a bracketed list such as [2..11] or [2;4]";
                }
                for (String element : part.substring(1, part.length() - 1).split(";", -1)) {
                    String problem = element(element, octets[i]);
                    if (problem != null) {
                        return where + problem;
                    }
                }
            } else {
                Integer value = number(part);
                if (value == null) {
                    return where + "'" + part + "' is not a number or a bracketed list such as [2..11]";
                }
                if (value > 255) {
                    return where + part + " is more than 255";
                }
                set(octets[i], value, value);
            }
        }
        return null;
    }

    /** Splits at the dots outside brackets; null when a bracket is not closed. */
    private static List<String> splitOctets(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            } else if (c == '.' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) {
            return null;
        }
        parts.add(text.substring(start));
        return parts;
    }

    private static String element(String element, long[] bits) {
        int range = element.indexOf("..");
        String lowText = range < 0 ? element : element.substring(0, range);
        String highText = range < 0 ? element : element.substring(range + 2);
        Integer low = number(lowText);
        Integer high = number(highText);
        if (low == null || high == null) {
            return "'" + element + "' is not a number (0-255) or a range such as 2..11";
        }
        if (low > 255 || high > 255) {
            return (low > 255 ? lowText : highText) + " is more than 255";
        }
        if (low > high) {
            return "the range " + element + " runs backwards";
        }
        set(bits, low, high);
        return null;
    }

    /** A decimal number; one too large for an octet (whatever its length) is 256. */
    private static Integer number(String text) {
        if (text.isEmpty()) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return null;
            }
        }
        String digits = text.replaceFirst("^0+(?=.)", "");
        return digits.length() > 3 ? 256 : Integer.parseInt(digits);
    }

    private static void set(long[] bits, int low, int high) {
        for (int v = low; v <= high; v++) {
            bits[v >>> 6] |= 1L << (v & 63);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DnsblReplyFilter other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** As written. */
    @Override
    public String toString() {
        return text;
    }
}
