package dev.postern.config;

import java.util.Locale;

/** How an enum constant is written in the configuration and its JSON forms: lower case, hyphens ({@code least-sessions}). */
final class ConfigNames {
    private ConfigNames() {}

    static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
