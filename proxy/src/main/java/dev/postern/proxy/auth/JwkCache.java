package dev.postern.proxy.auth;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys of a JWKS, fetched on first use and again when a token names a key id the set lacks (a rotation), at most
 * once per {@code minRefetch} however many such tokens arrive, so unknown key ids cannot make Postern hammer the
 * identity provider. One fetch at a time; logins waiting for it share it. Thread-safe.
 */
final class JwkCache {
    private static final Logger log = LoggerFactory.getLogger(JwkCache.class);

    private final String provider;
    private final Supplier<CompletionStage<JWKSet>> source;
    private final Clock clock;
    private final long minRefetchMillis;
    private JWKSet keys;
    private long lastFetchMillis = Long.MIN_VALUE;
    private CompletableFuture<JWKSet> inFlight;

    /**
     * @param source fetches the key set; completes on its own thread, never blocks the caller
     * @param minRefetch the least time between two fetches
     */
    JwkCache(String provider, Supplier<CompletionStage<JWKSet>> source, Clock clock, Duration minRefetch) {
        this.provider = provider;
        this.source = Objects.requireNonNull(source, "source");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.minRefetchMillis = minRefetch.toMillis();
    }

    /**
     * The keys that could have signed a token with {@code header} (key type for its algorithm, its key id, for
     * signatures). Empty when none matches even after a refetch, or when a refetch is not due yet. Completes
     * exceptionally when no key set could be fetched at all.
     */
    CompletionStage<List<JWK>> select(JWSHeader header) {
        JWKSelector selector = new JWKSelector(JWKMatcher.forJWSHeader(header));
        JWKSet current;
        synchronized (this) {
            current = keys;
        }
        if (current != null) {
            List<JWK> found = selector.select(current);
            if (!found.isEmpty()) {
                return CompletableFuture.completedFuture(found);
            }
        }
        CompletionStage<JWKSet> refetched = refetch(current);
        if (refetched == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        return refetched.thenApply(selector::select);
    }

    /** A fetch (started now or already running), or null when the last one was too recent and keys exist. */
    private CompletionStage<JWKSet> refetch(JWKSet seen) {
        CompletableFuture<JWKSet> mine;
        synchronized (this) {
            if (inFlight != null) {
                return inFlight;
            }
            if (keys != seen && keys != null) {
                return CompletableFuture.completedFuture(keys); // another login fetched meanwhile
            }
            long now = clock.millis();
            if (lastFetchMillis != Long.MIN_VALUE && now - lastFetchMillis < minRefetchMillis) {
                return keys == null
                        ? CompletableFuture.failedFuture(
                                new IllegalStateException("no key set yet; the last fetch failed"))
                        : null;
            }
            lastFetchMillis = now;
            mine = new CompletableFuture<>();
            inFlight = mine;
        }
        CompletionStage<JWKSet> fetch;
        try {
            fetch = source.get();
        } catch (RuntimeException e) {
            fetch = CompletableFuture.failedFuture(e);
        }
        fetch.whenComplete((set, error) -> {
            synchronized (this) {
                inFlight = null;
                if (error == null) {
                    keys = set;
                }
            }
            if (error != null) {
                log.warn("auth provider {}: cannot fetch the JWKS: {}", provider, error.toString());
                mine.completeExceptionally(error);
            } else {
                log.info(
                        "auth provider {}: JWKS with {} keys",
                        provider,
                        set.getKeys().size());
                mine.complete(set);
            }
        });
        return mine;
    }
}
