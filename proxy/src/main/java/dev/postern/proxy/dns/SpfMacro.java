package dev.postern.proxy.dns;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A macro-string of an SPF record (RFC 7208 section 7): literal text and macros such as {@code %{i}}, {@code
 * %{ir}.%{v}._spf.%{d2}} or {@code %{l-}}, parsed once and expanded per check. Supported: the letters {@code s l o d
 * i p v h}, the transformers (a digit count of right-hand parts,
 * {@code r} to reverse), the delimiters {@code . - + , / _ =}, uppercase letters for URL escaping, and {@code %%},
 * {@code %_}, {@code %-}. {@code %{p}} expands to {@code unknown}: the RFC advises against it, and validating the
 * client's PTR names for it would spend the lookup budget. The letters {@code c r t} belong to explanation strings,
 * which Postern never fetches; elsewhere they are a syntax error, as the RFC says.
 */
final class SpfMacro {
    /** Parts after splitting at most (the RFC allows a limit; a name has at most 127 labels anyway). */
    private static final int MAX_PARTS = 128;

    private static final Pattern TOPLABEL =
            Pattern.compile("[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]");

    private final String text;
    private final List<Object> parts;

    /** A macro: {@code %{<letter><digits><r><delimiters>}}. */
    private record Macro(char letter, boolean escape, int digits, boolean reverse, String delimiters) {}

    /** What macros expand to in one check. */
    record Context(InetAddress ip, String sender, String domain, String helo) {
        String localPart() {
            int at = sender.lastIndexOf('@');
            return at > 0 ? sender.substring(0, at) : "postmaster";
        }

        String senderDomain() {
            int at = sender.lastIndexOf('@');
            return at >= 0 ? sender.substring(at + 1) : sender;
        }
    }

    private SpfMacro(String text, List<Object> parts) {
        this.text = text;
        this.parts = parts;
    }

    /**
     * Parses a macro-string.
     *
     * @throws SpfSyntaxException naming the problem
     */
    static SpfMacro parse(String text) {
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '%') {
                if (c < 0x21 || c > 0x7e) {
                    throw new SpfSyntaxException("'" + printable(text) + "' has a character a macro-string may not");
                }
                literal.append(c);
                i++;
                continue;
            }
            if (i + 1 >= text.length()) {
                throw new SpfSyntaxException("'" + text + "' ends with a lone '%'");
            }
            char next = text.charAt(i + 1);
            if (next == '%' || next == '_' || next == '-') {
                literal.append(next == '%' ? "%" : next == '_' ? " " : "%20");
                i += 2;
                continue;
            }
            if (next != '{') {
                throw new SpfSyntaxException("'" + text + "': '%" + next + "' is not a macro (%{...}, %%, %_ or %-)");
            }
            int close = text.indexOf('}', i + 2);
            if (close < 0) {
                throw new SpfSyntaxException("'" + text + "': a macro without its '}'");
            }
            if (literal.length() > 0) {
                parts.add(literal.toString());
                literal.setLength(0);
            }
            parts.add(macro(text, text.substring(i + 2, close)));
            i = close + 1;
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return new SpfMacro(text, List.copyOf(parts));
    }

    /**
     * Parses a domain-spec: a macro-string that ends in a macro or in {@code .toplabel} (with an optional trailing
     * dot), as RFC 7208 section 7.1 requires.
     */
    static SpfMacro parseDomainSpec(String text) {
        if (text.isEmpty()) {
            throw new SpfSyntaxException("an empty domain-spec");
        }
        SpfMacro spec = parse(text);
        if (spec.parts.get(spec.parts.size() - 1) instanceof String last && !text.endsWith("}")) {
            String name = last.endsWith(".") ? last.substring(0, last.length() - 1) : last;
            int dot = name.lastIndexOf('.');
            if (dot < 0 || !TOPLABEL.matcher(name.substring(dot + 1)).matches()) {
                throw new SpfSyntaxException("'" + text + "' does not end in a macro or a top-level label"
                        + " (domain-spec, RFC 7208 section 7.1)");
            }
        }
        return spec;
    }

    private static Macro macro(String whole, String body) {
        if (body.isEmpty()) {
            throw new SpfSyntaxException("'" + whole + "': an empty macro %{}");
        }
        char letter = body.charAt(0);
        char lower = Character.toLowerCase(letter);
        if ("slodipvh".indexOf(lower) < 0) {
            throw new SpfSyntaxException("'" + whole + "': '" + letter + "' is not a macro letter"
                    + ("crt".indexOf(lower) >= 0 ? " outside explanation strings" : ""));
        }
        int i = 1;
        int digitsStart = i;
        while (i < body.length() && Character.isDigit(body.charAt(i))) {
            i++;
        }
        int digits = 0;
        if (i > digitsStart) {
            String d = body.substring(digitsStart, i);
            digits = d.length() > 3 ? MAX_PARTS : Math.min(MAX_PARTS, Integer.parseInt(d));
            if (digits == 0) {
                throw new SpfSyntaxException("'" + whole + "': a part count of 0 in %{" + body + "}");
            }
        }
        boolean reverse = false;
        if (i < body.length() && (body.charAt(i) == 'r' || body.charAt(i) == 'R')) {
            reverse = true;
            i++;
        }
        String delimiters = body.substring(i);
        for (int k = 0; k < delimiters.length(); k++) {
            if (".-+,/_=".indexOf(delimiters.charAt(k)) < 0) {
                throw new SpfSyntaxException("'" + whole + "': '" + delimiters.charAt(k) + "' in %{" + body
                        + "} is not a delimiter (. - + , / _ =)");
            }
        }
        return new Macro(
                lower, Character.isUpperCase(letter), digits, reverse, delimiters.isEmpty() ? "." : delimiters);
    }

    /** The text with every macro replaced. */
    String expand(Context context) {
        if (parts.size() == 1 && parts.get(0) instanceof String only) {
            return only;
        }
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            if (part instanceof String literal) {
                out.append(literal);
            } else {
                out.append(expand((Macro) part, context));
            }
        }
        return out.toString();
    }

    /**
     * The expansion as a name to look up: when it is longer than 253 characters, labels are taken off its left until
     * it fits (RFC 7208 section 7.3).
     */
    String expandDomain(Context context) {
        String name = expand(context);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        while (name.length() > DnsNames.MAX_NAME) {
            int dot = name.indexOf('.');
            if (dot < 0) {
                return name;
            }
            name = name.substring(dot + 1);
        }
        return name;
    }

    private static String expand(Macro m, Context c) {
        String value =
                switch (m.letter()) {
                    case 's' -> c.sender();
                    case 'l' -> c.localPart();
                    case 'o' -> c.senderDomain();
                    case 'd' -> c.domain();
                    case 'i' -> ip(c.ip());
                    case 'p' -> "unknown";
                    case 'v' -> DnsNames.unmapped(c.ip()) instanceof Inet4Address ? "in-addr" : "ip6";
                    case 'h' -> c.helo();
                    default -> throw new IllegalStateException("macro letter " + m.letter());
                };
        if (m.digits() > 0 || m.reverse() || !m.delimiters().equals(".")) {
            List<String> split = split(value, m.delimiters());
            if (m.reverse()) {
                Collections.reverse(split);
            }
            if (m.digits() > 0 && m.digits() < split.size()) {
                split = split.subList(split.size() - m.digits(), split.size());
            }
            value = String.join(".", split);
        }
        return m.escape() ? urlEscape(value) : value;
    }

    private static String ip(InetAddress address) {
        InetAddress a = DnsNames.unmapped(address);
        return a instanceof Inet6Address v6 ? DnsNames.nibbles(v6) : a.getHostAddress();
    }

    private static List<String> split(String value, String delimiters) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < value.length() && parts.size() < MAX_PARTS - 1; i++) {
            if (delimiters.indexOf(value.charAt(i)) >= 0) {
                parts.add(value.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(value.substring(start));
        return parts;
    }

    /** RFC 3986 escaping of everything but the unreserved characters. */
    private static String urlEscape(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < 100; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format(Locale.ROOT, "\\x%02x", (int) c));
        }
        return out.toString();
    }

    /** As written in the record. */
    @Override
    public String toString() {
        return text;
    }
}
