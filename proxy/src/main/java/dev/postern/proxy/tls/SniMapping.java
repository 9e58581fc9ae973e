package dev.postern.proxy.tls;

import io.netty.util.Mapping;
import java.net.IDN;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An immutable map from an SNI host name to a value (a server {@code SslContext}): exact names first, then
 * {@code *.domain} wildcards for exactly one label ({@code *.example.test} answers {@code a.example.test}, not
 * {@code example.test} nor {@code a.b.example.test}), then the default for no SNI or an unknown name. Names compare
 * case-insensitively, without a trailing dot, internationalized names as their ASCII (punycode) form.
 *
 * @param <T> what a name maps to
 */
final class SniMapping<T> implements Mapping<String, T> {
    /** LDH labels (underscores tolerated, some internal names have them), dot-separated, no empty label. */
    private static final Pattern HOST_NAME =
            Pattern.compile("[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*");

    private final Map<String, T> exact;
    private final Map<String, T> wildcards;
    private final T defaultValue;

    private SniMapping(Map<String, T> exact, Map<String, T> wildcards, T defaultValue) {
        this.exact = Map.copyOf(exact);
        this.wildcards = Map.copyOf(wildcards);
        this.defaultValue = Objects.requireNonNull(defaultValue, "defaultValue");
    }

    static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /** The value for {@code hostname} as sent in SNI, or the default when it is {@code null} or unknown. */
    @Override
    public T map(String hostname) {
        if (hostname == null || hostname.isEmpty()) {
            return defaultValue;
        }
        String name = lookupForm(hostname);
        T value = exact.get(name);
        if (value != null) {
            return value;
        }
        int dot = name.indexOf('.');
        if (dot > 0) {
            value = wildcards.get(name.substring(dot + 1));
            if (value != null) {
                return value;
            }
        }
        return defaultValue;
    }

    T defaultValue() {
        return defaultValue;
    }

    /**
     * The canonical form of a configured name: lower case, no trailing dot, ASCII; {@code *.} allowed only as the
     * whole leftmost label.
     *
     * @throws IllegalArgumentException when {@code name} is neither a host name nor {@code *.domain}
     */
    static String canonicalName(String name) {
        String trimmed = name.strip();
        boolean wildcard = trimmed.startsWith("*.");
        String host = wildcard ? trimmed.substring(2) : trimmed;
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        String ascii;
        try {
            ascii = IDN.toASCII(host, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + name + "' is not a host name or *.domain", e);
        }
        if (ascii.length() > 253 || !HOST_NAME.matcher(ascii).matches() || (wildcard && ascii.indexOf('.') < 0)) {
            // "*.com"-style wildcards for a whole top-level domain are refused, like browsers do.
            throw new IllegalArgumentException("'" + name + "' is not a host name or *.domain");
        }
        return wildcard ? "*." + ascii : ascii;
    }

    private static String lookupForm(String hostname) {
        String name = hostname.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /**
     * Collects names; the first value added for a name keeps it.
     *
     * @param <T> what a name maps to
     */
    static final class Builder<T> {
        private final Map<String, T> exact = new LinkedHashMap<>();
        private final Map<String, T> wildcards = new LinkedHashMap<>();
        private T defaultValue;

        private Builder() {}

        /**
         * Maps {@code name} (already {@link #canonicalName canonical}) to {@code value} unless an earlier value holds
         * it.
         *
         * @return the value that now answers for the name: {@code value}, or the earlier one
         */
        T add(String canonicalName, T value) {
            Objects.requireNonNull(value, "value");
            T earlier = canonicalName.startsWith("*.")
                    ? wildcards.putIfAbsent(canonicalName.substring(2), value)
                    : exact.putIfAbsent(canonicalName, value);
            return earlier != null ? earlier : value;
        }

        Builder<T> defaultValue(T value) {
            this.defaultValue = Objects.requireNonNull(value, "value");
            return this;
        }

        SniMapping<T> build() {
            return new SniMapping<>(exact, wildcards, defaultValue);
        }
    }
}
