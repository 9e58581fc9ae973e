package dev.postern.config;

import java.time.Duration;
import java.util.List;

/**
 * Reads {@code timeouts} and {@code limits} sections: the global ones over the built-in defaults, and a listener's
 * over the global ones (same keys, each optional).
 */
final class SettingsReader {
    static final List<String> TIMEOUT_KEYS = List.of("connect", "tls-handshake", "pre-auth", "idle", "shutdown-grace");
    static final List<String> LIMIT_KEYS = List.of(
            "max-connections",
            "write-buffer-low",
            "write-buffer-high",
            "line-length",
            "sasl-line-length",
            "literal-size",
            "bad-commands",
            "auth-failures",
            "pre-auth-connections-per-client");

    private static final int MIN_LINE = 512;
    private static final int MAX_LINE = 1024 * 1024;

    private SettingsReader() {}

    /** {@code base} with the section's values applied; null when any of them is invalid (reported). */
    static TimeoutsConfig timeouts(Node section, TimeoutsConfig base) {
        if (!section.isMapping(TIMEOUT_KEYS)) {
            return base;
        }
        Duration connect = duration(section.get("connect"), base.connect());
        Duration tlsHandshake = duration(section.get("tls-handshake"), base.tlsHandshake());
        Duration preAuth = duration(section.get("pre-auth"), base.preAuth());
        Duration idle = duration(section.get("idle"), base.idle());
        Duration shutdownGrace = duration(section.get("shutdown-grace"), base.shutdownGrace());
        if (connect == null || tlsHandshake == null || preAuth == null || idle == null || shutdownGrace == null) {
            return null;
        }
        return new TimeoutsConfig(connect, tlsHandshake, preAuth, idle, shutdownGrace);
    }

    /** {@code base} with the section's values applied and checked together; null when invalid (reported). */
    static LimitsConfig limits(Node section, LimitsConfig base) {
        if (!section.isMapping(LIMIT_KEYS)) {
            return base;
        }
        Integer maxConnections = integer(section.get("max-connections"), 0, base.maxConnections());
        Integer low = size(section.get("write-buffer-low"), 0, Integer.MAX_VALUE, base.writeBufferLow());
        Integer high = size(section.get("write-buffer-high"), 1, Integer.MAX_VALUE, base.writeBufferHigh());
        Integer line = size(section.get("line-length"), MIN_LINE, MAX_LINE, base.lineLength());
        Integer saslLine = size(section.get("sasl-line-length"), MIN_LINE, Integer.MAX_VALUE, base.saslLineLength());
        Integer literal = size(section.get("literal-size"), 0, Integer.MAX_VALUE, base.literalSize());
        Integer badCommands = integer(section.get("bad-commands"), 1, base.badCommands());
        Integer authFailures = integer(section.get("auth-failures"), 1, base.authFailures());
        Integer preAuthPerClient =
                integer(section.get("pre-auth-connections-per-client"), 0, base.preAuthConnectionsPerClient());
        if (maxConnections == null
                || low == null
                || high == null
                || line == null
                || saslLine == null
                || literal == null
                || badCommands == null
                || authFailures == null
                || preAuthPerClient == null) {
            return null;
        }
        boolean valid = ordered(section, "write-buffer-low", low, "write-buffer-high", high, true);
        valid &= ordered(section, "line-length", line, "sasl-line-length", saslLine, false);
        return valid
                ? new LimitsConfig(
                        maxConnections, low, high, line, saslLine, literal, badCommands, authFailures, preAuthPerClient)
                : null;
    }

    /**
     * Checks {@code lower < upper} (or {@code <=}), reporting at the key this section set, so a listener that
     * overrides one of the two sees the problem where it wrote the value. Sections that set neither inherit a pair
     * that was already checked.
     */
    private static boolean ordered(
            Node section, String lowerKey, int lower, String upperKey, int upper, boolean strict) {
        boolean ok = strict ? lower < upper : lower <= upper;
        if (ok) {
            return true;
        }
        String op = strict ? ">" : ">=";
        String reverse = strict ? "<" : "<=";
        if (section.get(upperKey).isPresent()) {
            section.get(upperKey)
                    .problem(Units.formatSize(upper) + " must be " + op + " " + lowerKey + " ("
                            + Units.formatSize(lower) + ")");
            return false;
        }
        if (section.get(lowerKey).isPresent()) {
            section.get(lowerKey)
                    .problem(Units.formatSize(lower) + " must be " + reverse + " " + upperKey + " ("
                            + Units.formatSize(upper) + ")");
            return false;
        }
        return true;
    }

    private static Duration duration(Node node, Duration fallback) {
        return node.isPresent() ? node.duration(true) : fallback;
    }

    private static Integer integer(Node node, int min, int fallback) {
        return node.isPresent() ? node.integer(min, Integer.MAX_VALUE) : Integer.valueOf(fallback);
    }

    private static Integer size(Node node, long min, long max, int fallback) {
        return node.isPresent() ? node.size(min, max) : Integer.valueOf(fallback);
    }
}
