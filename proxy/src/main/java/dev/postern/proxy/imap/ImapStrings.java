package dev.postern.proxy.imap;

import dev.postern.proxy.codec.QuotedStrings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes strings into commands for a backend: quoted when that is possible, else as a literal. */
final class ImapStrings {
    private ImapStrings() {}

    /** True when {@code value} can be a quoted string: printable 7-bit characters only. */
    static boolean quotable(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /**
     * A command with string arguments, split where a synchronizing literal makes the sender wait for the server's
     * continuation request: every part but the last ends with {@code {n}}, and each part is sent as one line (CRLF
     * appended). With {@code literalPlus} (the server announced LITERAL+) literals are non-synchronizing and there is
     * one part.
     *
     * @param prefix the tag and command name, e.g. {@code a1 LOGIN}
     */
    static List<String> command(String prefix, List<String> arguments, boolean literalPlus) {
        List<String> parts = new ArrayList<>(1);
        StringBuilder current = new StringBuilder(prefix);
        for (String value : arguments) {
            current.append(' ');
            if (quotable(value)) {
                current.append(QuotedStrings.quote(value));
                continue;
            }
            int n = value.getBytes(StandardCharsets.UTF_8).length;
            if (literalPlus) {
                current.append('{').append(n).append("+}\r\n").append(value);
            } else {
                current.append('{').append(n).append('}');
                parts.add(current.toString());
                current = new StringBuilder(value);
            }
        }
        parts.add(current.toString());
        return parts;
    }
}
