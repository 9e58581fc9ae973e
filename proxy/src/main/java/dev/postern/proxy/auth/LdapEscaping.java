package dev.postern.proxy.auth;

import java.util.function.UnaryOperator;

/**
 * Puts a user name into an LDAP filter or DN template of the {@code ldap} provider, escaped for where it goes: RFC
 * 4515 in a filter (so {@code *)(uid=*} is a literal value and matches nobody), RFC 4514 in a DN (so {@code x,ou=admins}
 * stays one attribute value). Placeholders: {@code %u} the user, {@code %n} its part before the last {@code @} (the
 * whole name without one), {@code %d} its part after (empty without one), {@code %%} a percent sign; the loader
 * refused any other.
 */
final class LdapEscaping {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private LdapEscaping() {}

    /** {@code template} with its placeholders replaced by {@code user}'s parts, each escaped by {@code escape}. */
    static String expand(String template, String user, UnaryOperator<String> escape) {
        int at = user.lastIndexOf('@');
        String local = at < 0 ? user : user.substring(0, at);
        String domain = at < 0 ? "" : user.substring(at + 1);
        StringBuilder out = new StringBuilder(template.length() + user.length() * 2);
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c != '%' || i + 1 == template.length()) {
                out.append(c);
                continue;
            }
            char next = template.charAt(++i);
            switch (next) {
                case 'u' -> out.append(escape.apply(user));
                case 'n' -> out.append(escape.apply(local));
                case 'd' -> out.append(escape.apply(domain));
                case '%' -> out.append('%');
                default -> throw new IllegalArgumentException("not a placeholder: %" + next);
            }
        }
        return out.toString();
    }

    /**
     * An assertion value for a filter (RFC 4515 section 3): {@code *}, {@code (}, {@code )}, {@code \} and NUL as
     * {@code \XX}; control characters too, which no user name needs and a log line should not carry.
     */
    static String filterValue(String value) {
        StringBuilder out = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c == 0x7f) {
                hex(out, (byte) c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * An attribute value for a DN string (RFC 4514 section 2.4): the specials {@code " + , ; < > \ =} with a
     * backslash, a leading {@code #} or space and a trailing space with a backslash, NUL and control characters as
     * {@code \XX}.
     */
    static String dnValue(String value) {
        StringBuilder out = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean edgeSpace = c == ' ' && (i == 0 || i == value.length() - 1);
            if (c == '"'
                    || c == '+'
                    || c == ','
                    || c == ';'
                    || c == '<'
                    || c == '>'
                    || c == '\\'
                    || c == '='
                    || edgeSpace
                    || (c == '#' && i == 0)) {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                hex(out, (byte) c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** An ASCII character as {@code \XX}. */
    private static void hex(StringBuilder out, byte b) {
        out.append('\\').append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
    }
}
