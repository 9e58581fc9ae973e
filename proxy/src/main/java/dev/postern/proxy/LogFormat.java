package dev.postern.proxy;

import java.util.Locale;
import java.util.Optional;

/** How Postern writes its log lines: {@code text} for people (the default), {@code json} for log collectors. */
public enum LogFormat {
    /** One line of text per event, as {@link LogSetup} lays it out. */
    TEXT,
    /** One JSON object per line; the session line's fields are fields of the object. */
    JSON;

    /** The format named {@code name} ({@code text} or {@code json}, any case); empty for any other word. */
    public static Optional<LogFormat> named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "text" -> Optional.of(TEXT);
            case "json" -> Optional.of(JSON);
            default -> Optional.empty();
        };
    }
}
