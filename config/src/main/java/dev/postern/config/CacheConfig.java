package dev.postern.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The auth-result cache: answers of the providers, keyed by user and a keyed hash of the secret.
 *
 * @param size entries at most; 0 turns the cache off
 * @param ttl how long an accepted login is answered from the cache
 * @param negativeTtl how long a refused login is answered from the cache (at most {@code ttl})
 * @param refreshAfter an accepted entry this old is refreshed in the background when its user logs in again;
 *     {@link Duration#ZERO} turns refreshing off
 * @param staleIfError when the provider fails or times out, an accepted entry younger than this is still honoured;
 *     {@link Duration#ZERO} turns it off
 */
public record CacheConfig(int size, Duration ttl, Duration negativeTtl, Duration refreshAfter, Duration staleIfError) {
    public static final CacheConfig DEFAULTS = new CacheConfig(
            100_000, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(4), Duration.ofHours(1));

    public CacheConfig {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        Objects.requireNonNull(refreshAfter, "refreshAfter");
        Objects.requireNonNull(staleIfError, "staleIfError");
    }

    public boolean enabled() {
        return size > 0;
    }
}
