package dev.postern.proxy.managesieve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One line a ManageSieve server sends: a capability ({@code "SIEVE" "fileinto vacation"}), a status ({@code OK},
 * {@code NO}, {@code BYE} with an optional response code in parentheses and a text), or a SASL challenge (a quoted
 * string alone, or a literal's announcement {@code {n}}, whose content is the next line).
 *
 * @param status {@code OK}, {@code NO} or {@code BYE}, upper case; empty when the line starts with a string
 * @param code the response code's first atom, upper case ({@code TRYLATER}), or empty
 * @param strings the line's strings in order: a capability's name and value, a status's text, a challenge
 * @param literal the size a trailing {@code {n}} announces, or -1
 */
record SieveReply(String status, String code, List<String> strings, int literal) {

    /** Parses a line; lenient (a backend's line that does not parse is a status-less reply with no strings). */
    static SieveReply parse(String line) {
        String status = "";
        String code = "";
        List<String> strings = new ArrayList<>(2);
        int i = 0;
        int n = line.length();
        int literal = -1;
        if (n > 0 && line.charAt(0) != '"' && line.charAt(0) != '{') {
            int end = 0;
            while (end < n && line.charAt(end) != ' ') {
                end++;
            }
            status = line.substring(0, end).toUpperCase(Locale.ROOT);
            i = end;
        }
        while (i < n) {
            char c = line.charAt(i);
            if (c == ' ') {
                i++;
            } else if (c == '(') {
                int close = line.indexOf(')', i);
                String inner = line.substring(i + 1, close < 0 ? n : close).strip();
                int sp = inner.indexOf(' ');
                code = (sp < 0 ? inner : inner.substring(0, sp)).toUpperCase(Locale.ROOT);
                i = close < 0 ? n : close + 1;
            } else if (c == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                while (i < n && line.charAt(i) != '"') {
                    char q = line.charAt(i++);
                    if (q == '\\' && i < n) {
                        q = line.charAt(i++);
                    }
                    sb.append(q);
                }
                i++;
                strings.add(sb.toString());
            } else if (c == '{' && line.endsWith("}")) {
                String digits = line.substring(i + 1, n - 1).replace("+", "");
                try {
                    literal = digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
                } catch (NumberFormatException e) {
                    literal = -1;
                }
                i = n;
            } else {
                int end = line.indexOf(' ', i);
                strings.add(line.substring(i, end < 0 ? n : end));
                i = end < 0 ? n : end;
            }
        }
        return new SieveReply(status, code, List.copyOf(strings), literal);
    }

    boolean isOk() {
        return status.equals("OK");
    }

    boolean isStatus() {
        return status.equals("OK") || status.equals("NO") || status.equals("BYE");
    }

    /** The status's text, or empty. */
    String text() {
        return strings.isEmpty() ? "" : strings.get(0);
    }
}
