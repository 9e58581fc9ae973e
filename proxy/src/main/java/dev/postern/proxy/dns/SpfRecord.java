package dev.postern.proxy.dns;

import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SPF record, parsed (RFC 7208 sections 4.6, 5, 6): its mechanisms in order and its {@code redirect=} and {@code
 * exp=} modifiers. Any syntax error anywhere makes the whole record a {@code permerror}, before anything is
 * evaluated. Unknown modifiers are checked for syntax and ignored; unknown mechanisms are errors.
 *
 * @param mechanisms the directives, in order
 * @param redirect the {@code redirect=} domain-spec, if any
 * @param explanation the {@code exp=} domain-spec, if any (parsed; Postern never fetches explanations)
 */
record SpfRecord(List<Mechanism> mechanisms, Optional<SpfMacro> redirect, Optional<SpfMacro> explanation) {

    private static final Pattern VERSION = Pattern.compile("(?i)v=spf1( .*)?");
    private static final Pattern MODIFIER = Pattern.compile("([A-Za-z][A-Za-z0-9._-]*)=(.*)");
    private static final Pattern NAME = Pattern.compile("([A-Za-z][A-Za-z0-9]*)(.*)");
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern CIDR = Pattern.compile("0|[1-9][0-9]{0,2}");

    SpfRecord {
        mechanisms = List.copyOf(mechanisms);
    }

    /** What a matching mechanism makes the result (RFC 7208 section 4.6.2). */
    enum Qualifier {
        PASS('+', SpfVerdict.PASS),
        FAIL('-', SpfVerdict.FAIL),
        SOFTFAIL('~', SpfVerdict.SOFTFAIL),
        NEUTRAL('?', SpfVerdict.NEUTRAL);

        final char symbol;
        final SpfVerdict verdict;

        Qualifier(char symbol, SpfVerdict verdict) {
            this.symbol = symbol;
            this.verdict = verdict;
        }
    }

    /** A directive: a qualifier and a mechanism. */
    sealed interface Mechanism {
        Qualifier qualifier();

        /** As written in the record (for results and logs). */
        String text();

        /** Whether evaluating it queries DNS, which counts toward the limit of 10. */
        default boolean queriesDns() {
            return true;
        }
    }

    record All(Qualifier qualifier, String text) implements Mechanism {
        @Override
        public boolean queriesDns() {
            return false;
        }
    }

    record Include(Qualifier qualifier, String text, SpfMacro domain) implements Mechanism {}

    /** {@code a} and {@code mx} without a domain-spec use the current domain. */
    record A(Qualifier qualifier, String text, Optional<SpfMacro> domain, int cidr4, int cidr6) implements Mechanism {}

    record Mx(Qualifier qualifier, String text, Optional<SpfMacro> domain, int cidr4, int cidr6) implements Mechanism {}

    record Ptr(Qualifier qualifier, String text, Optional<SpfMacro> domain) implements Mechanism {}

    /** {@code ip4} and {@code ip6}: a network, 4 or 16 bytes, and its prefix length. */
    record Ip(Qualifier qualifier, String text, byte[] network, int prefix) implements Mechanism {
        @Override
        public boolean queriesDns() {
            return false;
        }
    }

    record Exists(Qualifier qualifier, String text, SpfMacro domain) implements Mechanism {}

    /** Whether {@code text} (a TXT record) is an SPF record: {@code v=spf1} followed by a space or nothing. */
    static boolean isSpf(String text) {
        return VERSION.matcher(text).matches();
    }

    /**
     * Parses an SPF record.
     *
     * @throws SpfSyntaxException naming the first problem
     */
    static SpfRecord parse(String text) {
        if (!isSpf(text)) {
            throw new SpfSyntaxException("not an SPF record");
        }
        List<Mechanism> mechanisms = new ArrayList<>();
        SpfMacro redirect = null;
        SpfMacro explanation = null;
        for (String term : text.substring("v=spf1".length()).split(" ")) {
            if (term.isEmpty()) {
                continue;
            }
            Matcher modifier = MODIFIER.matcher(term);
            if (modifier.matches()) {
                String name = modifier.group(1).toLowerCase(Locale.ROOT);
                String value = modifier.group(2);
                if (name.equals("redirect")) {
                    if (redirect != null) {
                        throw new SpfSyntaxException("redirect= appears twice");
                    }
                    redirect = SpfMacro.parseDomainSpec(value);
                } else if (name.equals("exp")) {
                    if (explanation != null) {
                        throw new SpfSyntaxException("exp= appears twice");
                    }
                    explanation = SpfMacro.parseDomainSpec(value);
                } else {
                    SpfMacro.parse(value);
                }
                continue;
            }
            mechanisms.add(mechanism(term));
        }
        return new SpfRecord(mechanisms, Optional.ofNullable(redirect), Optional.ofNullable(explanation));
    }

    /** Whether an {@code all} mechanism appears (then {@code redirect=} is ignored: RFC 7208 section 6.1). */
    boolean hasAll() {
        return mechanisms.stream().anyMatch(m -> m instanceof All);
    }

    private static Mechanism mechanism(String term) {
        Qualifier qualifier = Qualifier.PASS;
        String body = term;
        for (Qualifier q : Qualifier.values()) {
            if (term.charAt(0) == q.symbol) {
                qualifier = q;
                body = term.substring(1);
            }
        }
        Matcher m = NAME.matcher(body);
        if (!m.matches()) {
            throw new SpfSyntaxException("'" + term + "' is not a mechanism");
        }
        String name = m.group(1).toLowerCase(Locale.ROOT);
        String rest = m.group(2);
        switch (name) {
            case "all":
                if (!rest.isEmpty()) {
                    throw new SpfSyntaxException("'" + term + "': all takes no argument");
                }
                return new All(qualifier, term);
            case "include":
                return new Include(qualifier, term, requiredDomain(term, rest));
            case "exists":
                return new Exists(qualifier, term, requiredDomain(term, rest));
            case "ptr":
                return new Ptr(qualifier, term, optionalDomain(term, rest));
            case "a":
            case "mx":
                return addressMechanism(qualifier, term, name, rest);
            case "ip4":
            case "ip6":
                return ip(qualifier, term, name.equals("ip4"), rest);
            default:
                throw new SpfSyntaxException("'" + term + "': unknown mechanism '" + name + "'");
        }
    }

    private static SpfMacro requiredDomain(String term, String rest) {
        if (!rest.startsWith(":") || rest.length() == 1) {
            throw new SpfSyntaxException("'" + term + "' needs ':' and a domain");
        }
        return SpfMacro.parseDomainSpec(rest.substring(1));
    }

    private static Optional<SpfMacro> optionalDomain(String term, String rest) {
        if (rest.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(requiredDomain(term, rest));
    }

    /** {@code a} or {@code mx}: {@code [:domain-spec][/cidr4][//cidr6]}. */
    private static Mechanism addressMechanism(Qualifier qualifier, String term, String name, String rest) {
        int cidr4 = 32;
        int cidr6 = 128;
        int dual = rest.lastIndexOf("//");
        if (dual >= 0) {
            cidr6 = cidr(term, rest.substring(dual + 2), 128);
            rest = rest.substring(0, dual);
        }
        int slash = rest.lastIndexOf('/');
        // a '/' inside the domain-spec (a macro literal may hold one) is followed by more than digits
        if (slash >= 0 && rest.substring(slash + 1).matches("[0-9]+")) {
            cidr4 = cidr(term, rest.substring(slash + 1), 32);
            rest = rest.substring(0, slash);
        } else if (slash == rest.length() - 1 && slash >= 0) {
            throw new SpfSyntaxException("'" + term + "': '/' without a prefix length");
        }
        Optional<SpfMacro> domain = optionalDomain(term, rest);
        return name.equals("a")
                ? new A(qualifier, term, domain, cidr4, cidr6)
                : new Mx(qualifier, term, domain, cidr4, cidr6);
    }

    private static Mechanism ip(Qualifier qualifier, String term, boolean v4, String rest) {
        if (!rest.startsWith(":")) {
            throw new SpfSyntaxException("'" + term + "' needs ':' and a network");
        }
        String network = rest.substring(1);
        int max = v4 ? 32 : 128;
        int prefix = max;
        int slash = network.indexOf('/');
        if (slash >= 0) {
            prefix = cidr(term, network.substring(slash + 1), max);
            network = network.substring(0, slash);
        }
        byte[] bytes;
        if (v4) {
            if (!IPV4.matcher(network).matches()) {
                throw new SpfSyntaxException("'" + term + "': '" + network + "' is not an IPv4 address");
            }
            bytes = NetUtil.createByteArrayFromIpAddressString(network);
        } else {
            if (network.indexOf('%') >= 0 || network.indexOf('[') >= 0 || !NetUtil.isValidIpV6Address(network)) {
                throw new SpfSyntaxException("'" + term + "': '" + network + "' is not an IPv6 address");
            }
            bytes = ipv6Bytes(network);
        }
        return new Ip(qualifier, term, bytes, prefix);
    }

    /** The 16 bytes of an IPv6 literal (an IPv4-mapped one stays 16 bytes). */
    private static byte[] ipv6Bytes(String text) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes != null && bytes.length == 4) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(bytes, 0, mapped, 12, 4);
            return mapped;
        }
        if (bytes == null || bytes.length != 16) {
            throw new SpfSyntaxException("'" + text + "' is not an IPv6 address");
        }
        return bytes;
    }

    private static int cidr(String term, String text, int max) {
        if (!CIDR.matcher(text).matches() || Integer.parseInt(text) > max) {
            throw new SpfSyntaxException("'" + term + "': '" + text + "' is not a prefix length (0-" + max + ")");
        }
        return Integer.parseInt(text);
    }

    /** Whether the first {@code prefix} bits of {@code address} and {@code network} (same length) are equal. */
    static boolean inNetwork(byte[] address, byte[] network, int prefix) {
        if (address.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int bits = prefix % 8;
        if (bits == 0) {
            return true;
        }
        int mask = (0xff << (8 - bits)) & 0xff;
        return (address[full] & mask) == (network[full] & mask);
    }
}
