package dev.postern.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How Postern authenticates users itself: the providers listeners can name, the cache of their answers, and brute
 * force throttling.
 *
 * @param providers the configured providers, in configuration order (the built-in {@code backend} is not listed)
 * @param cache the auth-result cache
 * @param throttle brute-force throttling; {@link ThrottleConfig#DEFAULTS} when the configuration has no {@code
 *     auth.throttle} section (secure by default, as Dovecot's auth penalty), empty when it says {@code throttle: off}
 *     (then no login is delayed or refused by Postern)
 */
public record AuthConfig(List<AuthProviderConfig> providers, CacheConfig cache, Optional<ThrottleConfig> throttle) {
    /** The name of the built-in provider that lets the backend decide; listeners use it by default. */
    public static final String BACKEND = "backend";

    /** No providers, the default cache, the default throttle. */
    public static final AuthConfig DEFAULTS =
            new AuthConfig(List.of(), CacheConfig.DEFAULTS, Optional.of(ThrottleConfig.DEFAULTS));

    public AuthConfig {
        providers = List.copyOf(providers);
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(throttle, "throttle");
    }

    /** These settings with no throttling ({@code auth: {throttle: off}}). */
    public AuthConfig withoutThrottle() {
        return new AuthConfig(providers, cache, Optional.empty());
    }

    public Optional<AuthProviderConfig> provider(String name) {
        return providers.stream().filter(p -> p.name().equals(name)).findFirst();
    }
}
