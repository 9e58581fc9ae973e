package dev.postern.proxy.smtp;

import java.util.List;

/**
 * A backend's reply, possibly multi-line ({@code 250-...} lines, then {@code 250 ...}).
 *
 * @param code the three-digit reply code
 * @param lines the text of each line, without the code and its separator
 */
public record SmtpReply(int code, List<String> lines) {

    public SmtpReply {
        lines = List.copyOf(lines);
    }

    /** 2xx. */
    public boolean positive() {
        return code >= 200 && code < 300;
    }

    /** 4xx. */
    public boolean transientFailure() {
        return code >= 400 && code < 500;
    }

    /** 5xx. */
    public boolean permanentFailure() {
        return code >= 500 && code < 600;
    }

    /** The first line's text. */
    public String text() {
        return lines.isEmpty() ? "" : lines.get(0);
    }

    /** The reply as the backend sent it (its last line), for logs. */
    @Override
    public String toString() {
        return code + " " + (lines.isEmpty() ? "" : lines.get(lines.size() - 1));
    }
}
