package dev.postern.proxy.codec;

import java.util.function.IntPredicate;

/**
 * Quoted strings as IMAP (RFC 9051) and ManageSieve (RFC 5804) write them: {@code "..."} with {@code \"} and {@code
 * \\} as the only escapes. The two protocols differ only in which raw characters a quoted string may not hold, so the
 * caller names those.
 */
public final class QuotedStrings {
    private QuotedStrings() {}

    /**
     * What {@link #read} found: the string's content and the index just past its closing quote, or why it is not a
     * quoted string.
     *
     * @param value the content without quotes or escapes; null when {@code error} is set
     * @param end the index after the closing quote
     * @param error the reason for a {@code BAD}/{@code NO} reply (never quotes the input), or null
     */
    public record Quoted(String value, int end, String error) {
        static Quoted invalid(String error) {
            return new Quoted(null, -1, error);
        }
    }

    /** Reads the quoted string of {@code s} whose opening quote is at {@code open}. */
    public static Quoted read(String s, int open, IntPredicate forbidden) {
        StringBuilder sb = new StringBuilder();
        int n = s.length();
        int i = open + 1;
        while (i < n) {
            char q = s.charAt(i++);
            if (q == '"') {
                return new Quoted(sb.toString(), i, null);
            }
            if (q == '\\') {
                char e = i < n ? s.charAt(i++) : 0;
                if (e != '"' && e != '\\') {
                    return Quoted.invalid("Invalid escape in quoted string");
                }
                q = e;
            } else if (forbidden.test(q)) {
                return Quoted.invalid("Invalid character in quoted string");
            }
            sb.append(q);
        }
        return Quoted.invalid("Unterminated quoted string");
    }

    /** {@code "value"} with {@code "} and {@code \} escaped; for values the protocol allows in a quoted string. */
    public static String quote(String value) {
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
}
