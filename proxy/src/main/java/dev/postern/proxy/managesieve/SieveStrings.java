package dev.postern.proxy.managesieve;

import dev.postern.proxy.codec.QuotedStrings;
import java.nio.charset.StandardCharsets;

/** ManageSieve strings as Postern writes them (RFC 5804 section 4): quoted when they can be, else a literal. */
final class SieveStrings {
    private SieveStrings() {}

    /** True when {@code value} fits a quoted string: no CR, LF or NUL, at most 1024 octets. */
    static boolean quotable(String value) {
        if (value.length() > ManageSieveDecoder.MAX_QUOTED
                || value.getBytes(StandardCharsets.UTF_8).length > ManageSieveDecoder.MAX_QUOTED) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (ManageSieveDecoder.forbiddenInQuoted(value.charAt(i))) {
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
            return QuotedStrings.quote(value);
        }
        return "{" + value.getBytes(StandardCharsets.UTF_8).length + "+}\r\n" + value;
    }
}
