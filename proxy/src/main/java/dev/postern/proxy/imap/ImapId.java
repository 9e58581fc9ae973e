package dev.postern.proxy.imap;

import java.util.List;

/**
 * The client's ID command (RFC 2971): checked against the RFC's bounds (at most 30 pairs, field names up to 30
 * octets, values up to 1024), of which Postern keeps only the client's name and version, reduced to printable ASCII,
 * for its logs. Nothing the client sends here reaches a backend.
 *
 * @param name the client's {@code name} field, or null
 * @param version the client's {@code version} field, or null
 */
public record ImapId(String name, String version) {
    static final int MAX_PAIRS = 30;
    static final int MAX_FIELD = 30;
    static final int MAX_VALUE = 1024;
    private static final int KEPT = 64;

    /** Thrown for an ID command that breaks the syntax or the bounds; the message is safe to reply with. */
    static final class InvalidId extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidId(String message) {
            super(message, null, false, false);
        }
    }

    /** Parses ID's arguments: {@code NIL} or a list of string pairs (values may be NIL). */
    static ImapId parse(List<ImapArg> args) throws InvalidId {
        if (args.size() == 1 && args.get(0).isNil()) {
            return new ImapId(null, null);
        }
        int n = args.size();
        if (n < 2
                || args.get(0).kind() != ImapArg.Kind.LIST_START
                || args.get(n - 1).kind() != ImapArg.Kind.LIST_END) {
            throw new InvalidId("ID takes NIL or a parenthesized list");
        }
        int items = n - 2;
        if (items % 2 != 0) {
            throw new InvalidId("ID list needs field and value pairs");
        }
        if (items / 2 > MAX_PAIRS) {
            throw new InvalidId("Too many ID fields");
        }
        String name = null;
        String version = null;
        for (int i = 1; i < n - 1; i += 2) {
            ImapArg field = args.get(i);
            ImapArg value = args.get(i + 1);
            if (!field.isString() || !(value.isString() || value.isNil())) {
                throw new InvalidId("ID fields and values must be strings");
            }
            if (utf8Length(field.value()) > MAX_FIELD || value.isString() && utf8Length(value.value()) > MAX_VALUE) {
                throw new InvalidId("ID field or value too long");
            }
            String v = value.isNil() ? null : printable(value.value());
            if (field.value().equalsIgnoreCase("name")) {
                name = v;
            } else if (field.value().equalsIgnoreCase("version")) {
                version = v;
            }
        }
        return new ImapId(name, version);
    }

    private static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** Printable ASCII only, at most 64 characters: safe in a log line. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), KEPT));
        for (int i = 0; i < s.length() && sb.length() < KEPT; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
