package dev.postern.proxy.smtp;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The argument of {@code MAIL FROM:} or {@code RCPT TO:} (RFC 5321, section 4.1.2, with the UTF-8 of RFC 6531): a
 * path in angle brackets and ESMTP parameters. Parsing is strict where a relay decision depends on it: one {@code @}
 * outside quotes, a domain of letters, digits and hyphens (or an address literal), and a source route ({@code
 * <@a,@b:user@c>}) is dropped as RFC 5321 asks, so the address Postern checks is the one it forwards.
 *
 * @param localPart the local part as sent (a quoted string keeps its quotes and escapes), empty for the null path
 * @param domain the domain as sent, without a trailing dot; empty for the null path and for {@code <postmaster>}
 * @param parameters the ESMTP parameters, in order
 */
public record MailPath(String localPart, String domain, List<Parameter> parameters) {
    /** Longest path RFC 5321 allows (section 4.5.3.1.3). */
    public static final int MAX_PATH = 256;

    public MailPath {
        parameters = List.copyOf(parameters);
    }

    /** One ESMTP parameter: {@code KEYWORD} or {@code KEYWORD=value}; the keyword upper-cased, value null if none. */
    public record Parameter(String keyword, String value) {
        @Override
        public String toString() {
            return value == null ? keyword : keyword + "=" + value;
        }
    }

    /** Why an argument is not a path. */
    public static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message, null, false, false);
        }
    }

    /** The null reverse-path {@code <>}. */
    public boolean isNull() {
        return localPart.isEmpty() && domain.isEmpty();
    }

    /** {@code local@domain} as the routing table sees it (domain lowercased), or the local part alone. */
    public String address() {
        if (domain.isEmpty()) {
            return localPart;
        }
        return localPart + "@" + domain.toLowerCase(Locale.ROOT);
    }

    /** The domain, lowercased. */
    public String lowerDomain() {
        return domain.toLowerCase(Locale.ROOT);
    }

    /** The path as forwarded: {@code <local@domain>}, without a source route. */
    public String path() {
        return isNull() ? "<>" : "<" + (domain.isEmpty() ? localPart : localPart + "@" + domain) + ">";
    }

    /** The parameter {@code keyword}, or null. */
    public Parameter parameter(String keyword) {
        for (Parameter p : parameters) {
            if (p.keyword().equals(keyword)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Whether the local part names another hop (sender-specified routing: {@code user%other}, {@code other!user},
     * {@code "user@other"}), which some mail servers still follow.
     */
    public boolean hasRoutingInLocalPart() {
        String unquoted = unquote(localPart);
        return unquoted.indexOf('@') >= 0 || unquoted.indexOf('%') >= 0 || unquoted.indexOf('!') >= 0;
    }

    /** The local part with quotes and backslash escapes removed. */
    public static String unquote(String localPart) {
        if (!localPart.startsWith("\"")) {
            return localPart;
        }
        StringBuilder sb = new StringBuilder(localPart.length());
        for (int i = 1; i < localPart.length() - 1; i++) {
            char c = localPart.charAt(i);
            if (c == '\\' && i + 1 < localPart.length() - 1) {
                c = localPart.charAt(++i);
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /**
     * Parses what follows {@code FROM:} or {@code TO:} (spaces before the bracket are tolerated, as most servers do).
     *
     * @param allowNull whether {@code <>} is valid (MAIL FROM)
     * @param allowPostmaster whether {@code <postmaster>} without a domain is valid (RCPT TO)
     */
    public static MailPath parse(String argument, boolean allowNull, boolean allowPostmaster) throws SyntaxException {
        String s = argument.stripLeading();
        if (!s.startsWith("<")) {
            throw new SyntaxException("the address must be in angle brackets");
        }
        int close = closingBracket(s);
        if (close < 0) {
            throw new SyntaxException("no closing '>'");
        }
        if (close + 1 > MAX_PATH) {
            throw new SyntaxException("address too long");
        }
        String inner = s.substring(1, close);
        List<Parameter> parameters = parameters(s.substring(close + 1));
        if (inner.isEmpty()) {
            if (!allowNull) {
                throw new SyntaxException("empty address");
            }
            return new MailPath("", "", parameters);
        }
        if (inner.startsWith("@")) {
            int colon = inner.indexOf(':');
            if (colon < 0) {
                throw new SyntaxException("a source route without ':'");
            }
            for (String hop : inner.substring(0, colon).split(",", -1)) {
                if (!hop.startsWith("@") || !isDomain(hop.substring(1))) {
                    throw new SyntaxException("bad source route");
                }
            }
            inner = inner.substring(colon + 1);
        }
        int at = localPartEnd(inner);
        if (at < 0) {
            throw new SyntaxException("bad local part");
        }
        String local = inner.substring(0, at);
        if (at == inner.length()) {
            if (allowPostmaster && local.equalsIgnoreCase("postmaster")) {
                return new MailPath(local, "", parameters);
            }
            throw new SyntaxException("no domain");
        }
        String domain = inner.substring(at + 1);
        if (domain.endsWith(".") && !domain.startsWith("[")) {
            domain = domain.substring(0, domain.length() - 1);
        }
        if (!isDomain(domain) && !isAddressLiteral(domain)) {
            throw new SyntaxException("bad domain");
        }
        if (local.length() > 64 * 4 || domain.length() > 255) {
            throw new SyntaxException("address too long");
        }
        return new MailPath(local, domain, parameters);
    }

    /** The index of the '>' that closes the path (quoted strings may hold '>'), or -1. */
    private static int closingBracket(String s) {
        boolean quoted = false;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '>') {
                return i;
            } else if (c == '<') {
                return -1;
            }
        }
        return -1;
    }

    /** The index of the '@' after a valid local part (or the end when there is none), or -1 when invalid. */
    private static int localPartEnd(String s) {
        if (s.isEmpty()) {
            return -1;
        }
        int i;
        if (s.charAt(0) == '"') {
            i = 1;
            while (true) {
                if (i >= s.length()) {
                    return -1;
                }
                char c = s.charAt(i);
                if (c == '"') {
                    i++;
                    break;
                }
                if (c == '\\') {
                    if (i + 1 >= s.length() || s.charAt(i + 1) < 32 || s.charAt(i + 1) > 126) {
                        return -1;
                    }
                    i += 2;
                    continue;
                }
                if (c < 32 || c == 127) {
                    return -1;
                }
                i++;
            }
            if (i == 2) {
                return -1; // ""
            }
        } else {
            i = 0;
            boolean atomStart = true;
            while (i < s.length() && s.charAt(i) != '@') {
                char c = s.charAt(i);
                if (c == '.') {
                    if (atomStart) {
                        return -1; // leading or doubled dot
                    }
                    atomStart = true;
                } else if (isAtext(c)) {
                    atomStart = false;
                } else {
                    return -1;
                }
                i++;
            }
            if (atomStart) {
                return -1; // empty or trailing dot
            }
        }
        if (i < s.length() && s.charAt(i) != '@') {
            return -1;
        }
        return i;
    }

    /** RFC 5322 atext, plus UTF-8 (RFC 6531). */
    private static boolean isAtext(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        if (c >= 0x80) {
            return !Character.isISOControl(c) && !Character.isWhitespace(c);
        }
        return "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }

    /** Sub-domains of letters, digits and inner hyphens (UTF-8 U-labels allowed), separated by dots. */
    public static boolean isDomain(String d) {
        if (d.isEmpty() || d.length() > 255) {
            return false;
        }
        for (String label : d.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.charAt(0) == '-' || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = c >= 'a' && c <= 'z'
                        || c >= 'A' && c <= 'Z'
                        || c >= '0' && c <= '9'
                        || c == '-'
                        || c >= 0x80 && Character.isLetterOrDigit(c);
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean isAddressLiteral(String d) {
        if (d.length() < 3 || d.charAt(0) != '[' || d.charAt(d.length() - 1) != ']') {
            return false;
        }
        String inner = d.substring(1, d.length() - 1);
        if (inner.regionMatches(true, 0, "IPv6:", 0, 5)) {
            return inner.substring(5).matches("[0-9A-Fa-f:.]+");
        }
        return inner.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?"
                + "[0-9])){3}");
    }

    /** {@code SP param *(SP param)}, param = keyword [= value]; values are printable but '=' (UTF-8 allowed). */
    private static List<Parameter> parameters(String rest) throws SyntaxException {
        List<Parameter> out = new ArrayList<>();
        if (rest.isBlank()) {
            return out;
        }
        if (rest.charAt(0) != ' ') {
            throw new SyntaxException("garbage after the address");
        }
        for (String p : rest.trim().split(" +")) {
            int eq = p.indexOf('=');
            String keyword = eq < 0 ? p : p.substring(0, eq);
            String value = eq < 0 ? null : p.substring(eq + 1);
            if (!keyword.matches("[A-Za-z0-9][A-Za-z0-9-]*")) {
                throw new SyntaxException("bad parameter " + p);
            }
            if (value != null && (value.isEmpty() || !value.chars().allMatch(c -> c >= 33 && c != '=' && c != 127))) {
                throw new SyntaxException("bad parameter value for " + keyword);
            }
            out.add(new Parameter(keyword.toUpperCase(Locale.ROOT), value));
        }
        return out;
    }
}
