package dev.postern.config;

import java.util.Objects;

/**
 * A configuration value that must never be printed: {@link #toString()} redacts it, so a secret that ends up in a log
 * line or an error message by accident says {@code ***}.
 */
public final class Secret {
    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    /** The secret itself; call only where it is used (a key password, a token comparison). */
    public String reveal() {
        return value;
    }

    public char[] revealChars() {
        return value.toCharArray();
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && value.equals(other.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return "***";
    }
}
