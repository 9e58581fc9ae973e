package dev.postern.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads {@code auth.throttle}: the brute-force throttle's windows, limits, delays and trusted networks. */
final class ThrottleReader {
    static final List<String> THROTTLE_KEYS = List.of(
            "window",
            "ipv6-prefix",
            "max-failures-per-address",
            "max-failures-per-user",
            "max-failures-per-user-address",
            "block",
            "delays",
            "delay-base",
            "delay-cap",
            "trusted-networks",
            "max-tracked",
            "shared");

    private ThrottleReader() {}

    /**
     * {@code auth.throttle}: the defaults when absent (secure by default, as Dovecot's auth penalty), empty for {@code
     * off}, else the mapping's settings; null when invalid (reported).
     */
    static Optional<ThrottleConfig> read(Node node) {
        if (!node.isPresent()) {
            return Optional.of(ThrottleConfig.DEFAULTS);
        }
        if (node.isOff()) {
            return Optional.empty();
        }
        // anything else but a mapping is reported by throttle() ("'sometimes' is not a mapping")
        ThrottleConfig throttle = throttle(node);
        return throttle == null ? null : Optional.of(throttle);
    }

    /** The throttle settings; null when invalid or not a mapping (reported). */
    static ThrottleConfig throttle(Node section) {
        ThrottleConfig d = ThrottleConfig.DEFAULTS;
        if (!section.isMapping(THROTTLE_KEYS)) {
            return null;
        }
        Duration window = duration(section.get("window"), d.window(), true);
        Integer prefix = integer(section.get("ipv6-prefix"), 1, 128, d.ipv6Prefix());
        Integer perAddress =
                integer(section.get("max-failures-per-address"), 1, Integer.MAX_VALUE, d.maxFailuresPerAddress());
        Integer perUser = integer(section.get("max-failures-per-user"), 1, Integer.MAX_VALUE, d.maxFailuresPerUser());
        Integer perPair = integer(
                section.get("max-failures-per-user-address"), 1, Integer.MAX_VALUE, d.maxFailuresPerUserAddress());
        Duration block = duration(section.get("block"), d.block(), true);
        List<Duration> delays = delays(section, d.delays());
        List<Cidr> trusted = Cidr.list(section.get("trusted-networks"));
        Integer maxTracked = integer(section.get("max-tracked"), 100, 100_000_000, d.maxTracked());
        Node sharedNode = section.get("shared");
        Boolean shared = sharedNode.isPresent() ? sharedNode.bool() : Boolean.valueOf(d.shared());
        if (window == null
                || prefix == null
                || perAddress == null
                || perUser == null
                || perPair == null
                || block == null
                || delays == null
                || trusted == null
                || maxTracked == null
                || shared == null) {
            return null;
        }
        return new ThrottleConfig(
                window, prefix, perAddress, perUser, perPair, block, delays, trusted, maxTracked, shared);
    }

    /** {@code delays: [..]}, or {@code delay-base} doubled up to {@code delay-cap}; null when invalid (reported). */
    private static List<Duration> delays(Node section, List<Duration> fallback) {
        Node list = section.get("delays");
        Node base = section.get("delay-base");
        Node cap = section.get("delay-cap");
        if (list.isPresent() && (base.isPresent() || cap.isPresent())) {
            (base.isPresent() ? base : cap).problem("give either delays or delay-base and delay-cap, not both");
            return null;
        }
        if (list.isPresent()) {
            List<Duration> delays = new ArrayList<>();
            boolean valid = true;
            for (Node element : list.list()) {
                Duration delay = element.duration(false);
                if (delay == null) {
                    valid = false;
                } else if (delay.compareTo(Duration.ofMinutes(1)) > 0) {
                    element.problem(
                            Units.format(delay) + " is too long (at most 1m: the client holds a connection meanwhile)");
                    valid = false;
                } else {
                    delays.add(delay);
                }
            }
            return valid ? delays : null;
        }
        if (base.isPresent() != cap.isPresent()) {
            (base.isPresent() ? base : cap).problem("delay-base and delay-cap go together");
            return null;
        }
        if (!base.isPresent()) {
            return fallback;
        }
        Duration b = base.duration(true);
        Duration c = cap.duration(true);
        if (b == null || c == null) {
            return null;
        }
        if (c.compareTo(b) < 0 || c.compareTo(Duration.ofMinutes(1)) > 0) {
            cap.problem(Units.format(c) + " must be between delay-base (" + Units.format(b) + ") and 1m");
            return null;
        }
        List<Duration> delays = new ArrayList<>();
        for (Duration next = b; next.compareTo(c) < 0; next = next.multipliedBy(2)) {
            delays.add(next);
        }
        delays.add(c);
        return delays;
    }

    private static Duration duration(Node node, Duration fallback, boolean positive) {
        return node.isPresent() ? node.duration(positive) : fallback;
    }

    private static Integer integer(Node node, long min, long max, int fallback) {
        return node.isPresent() ? node.integer(min, max) : Integer.valueOf(fallback);
    }
}
