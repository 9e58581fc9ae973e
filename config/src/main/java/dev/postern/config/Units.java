package dev.postern.config;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations ({@code 500ms}, {@code 5s}, {@code 30m}, {@code 1h}, {@code 2d}; a bare number is seconds) and sizes
 * ({@code 512}, {@code 8KiB}, {@code 1MiB}, {@code 1GiB}; a bare number is bytes). Sizes use binary units only: a
 * {@code KB} that may mean 1000 or 1024 is refused rather than guessed.
 */
public final class Units {
    static final String DURATION_UNITS = "ms, s, m, h, d";
    static final String SIZE_UNITS = "KiB, MiB, GiB";

    private static final Pattern NUMBER_AND_UNIT = Pattern.compile("(\\d{1,18})\\s*([A-Za-z]*)");
    private static final long KIB = 1024;
    private static final long MIB = KIB * 1024;
    private static final long GIB = MIB * 1024;

    private Units() {}

    /** A duration as the configuration writes it, in its largest whole unit ({@code 1500ms}, {@code 30s}, {@code 2h}). */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        long s = d.toSeconds();
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    /** Parses a duration; empty when the text is not one. */
    public static Optional<Duration> parseDuration(String text) {
        Matcher m = NUMBER_AND_UNIT.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        long amount = Long.parseLong(m.group(1));
        try {
            return switch (m.group(2)) {
                case "" -> Optional.of(Duration.ofSeconds(amount));
                case "ms" -> Optional.of(Duration.ofMillis(amount));
                case "s" -> Optional.of(Duration.ofSeconds(amount));
                case "m" -> Optional.of(Duration.ofMinutes(amount));
                case "h" -> Optional.of(Duration.ofHours(amount));
                case "d" -> Optional.of(Duration.ofDays(amount));
                default -> Optional.empty();
            };
        } catch (ArithmeticException e) {
            return Optional.empty();
        }
    }

    /** Parses a size in bytes; empty when the text is not one (or overflows a long). */
    static OptionalLong parseSize(String text) {
        Matcher m = NUMBER_AND_UNIT.matcher(text.trim());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        long amount = Long.parseLong(m.group(1));
        long unit;
        switch (m.group(2)) {
            case "" -> unit = 1;
            case "KiB" -> unit = KIB;
            case "MiB" -> unit = MIB;
            case "GiB" -> unit = GIB;
            default -> {
                return OptionalLong.empty();
            }
        }
        try {
            return OptionalLong.of(Math.multiplyExact(amount, unit));
        } catch (ArithmeticException e) {
            return OptionalLong.empty();
        }
    }

    /** The unit of a {@code number unit} text, or empty when the text has no such shape. */
    static Optional<String> unitOf(String text) {
        Matcher m = NUMBER_AND_UNIT.matcher(text.trim());
        return m.matches() && !m.group(2).isEmpty() ? Optional.of(m.group(2)) : Optional.empty();
    }

    /** The shortest exact form: {@code 64KiB}, {@code 1MiB}, {@code 1000 bytes}. */
    static String formatSize(long bytes) {
        if (bytes != 0 && bytes % GIB == 0) {
            return bytes / GIB + "GiB";
        }
        if (bytes != 0 && bytes % MIB == 0) {
            return bytes / MIB + "MiB";
        }
        if (bytes != 0 && bytes % KIB == 0) {
            return bytes / KIB + "KiB";
        }
        return bytes + (bytes == 1 ? " byte" : " bytes");
    }
}
