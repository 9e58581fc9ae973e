package dev.postern.proxy.smtp;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects a backend's reply lines into {@link SmtpReply} values. Lines are {@code ddd-text} (more follow) or
 * {@code ddd text} / {@code ddd} (the last). A reply may have at most {@link #MAX_LINES} lines.
 */
final class SmtpReplyReader {
    static final int MAX_LINES = 256;

    /** The backend broke the reply syntax. */
    static final class MalformedReplyException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedReplyException(String message) {
            super(message, null, false, false);
        }
    }

    private final List<String> lines = new ArrayList<>();
    private int code = -1;

    /** Adds a line; returns the reply when it was the last one, else null. */
    SmtpReply add(String line) throws MalformedReplyException {
        if (line.length() < 3 || !digits(line) || line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-') {
            throw new MalformedReplyException("not an SMTP reply line: " + shorten(line));
        }
        int lineCode = Integer.parseInt(line.substring(0, 3));
        if (code >= 0 && lineCode != code) {
            throw new MalformedReplyException("reply code changed within a reply: " + shorten(line));
        }
        code = lineCode;
        lines.add(line.length() > 4 ? line.substring(4) : "");
        if (line.length() > 3 && line.charAt(3) == '-') {
            if (lines.size() >= MAX_LINES) {
                throw new MalformedReplyException("reply longer than " + MAX_LINES + " lines");
            }
            return null;
        }
        SmtpReply reply = new SmtpReply(code, lines);
        lines.clear();
        code = -1;
        return reply;
    }

    private static boolean digits(String line) {
        for (int i = 0; i < 3; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return line.charAt(0) >= '2' && line.charAt(0) <= '5';
    }

    private static String shorten(String line) {
        return line.length() > 80 ? line.substring(0, 80) + "..." : line;
    }
}
