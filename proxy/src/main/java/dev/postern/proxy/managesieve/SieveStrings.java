package dev.postern.proxy.managesieve;

import java.nio.charset.StandardCharsets;

/** ManageSieve strings as Postern writes them (RFC 5804 section 4): quoted when they can be, else a literal. */
final class SieveStrings {
    private SieveStrings() {}

    /** {@code value} as a quoted string, escapes included; for values that {@link #quotable} says may be quoted. */
    static String quote(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** True when {@code value} fits a quoted string: no CR, LF or NUL, at most 1024 octets. */
    static boolean quotable(String value) {
        if (value.length() > ManageSieveDecoder.MAX_QUOTED
                || value.getBytes(StandardCharsets.UTF_8).length > ManageSieveDecoder.MAX_QUOTED) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code value} as one argument on a command line: quoted, or a non-synchronizing literal ({@code {n+}}, a
     * line break, the bytes) when it is too long to quote. A literal ends the line it starts on, so callers put it
     * last.
     */
    static String argument(String value) {
        if (quotable(value)) {
            return quote(value);
        }
        return "{" + value.getBytes(StandardCharsets.UTF_8).length + "+}\r\n" + value;
    }
}
