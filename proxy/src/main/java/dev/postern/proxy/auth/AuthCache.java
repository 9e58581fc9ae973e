package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.CacheConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.sasl.Credentials;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import javax.crypto.Mac;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The auth-result cache (Caffeine), shared by every listener's chain.
 *
 * <p>Key: the chain and protocol (answers may differ by protocol: an auth service routes IMAP and POP3 apart), the
 * user, and an HMAC with a per-process random key over mechanism, authzid, user and secret. The secret itself is never
 * stored or used as a key. Accepted answers are fresh for the ttl; definite refusals for the shorter negative ttl,
 * under the same kind of key, so a wrong password never locks out the right one. Temporary answers and pass-throughs
 * are not cached.
 *
 * <p>Concurrent identical logins make one provider call. A login that finds an accepted answer older than
 * refresh-after gets it at once and starts a refresh in the background (the refresh needs the secret, which only a
 * login has). When the provider fails or says "try later", an accepted answer younger than stale-if-error is still
 * honoured (counted and logged); a refusal is never served stale.
 */
public final class AuthCache {
    private static final Logger log = LoggerFactory.getLogger(AuthCache.class);

    private final CacheConfig config;
    private final Ticker ticker;
    private final Metrics metrics;
    private final Cache<Key, Entry> cache;
    private final ConcurrentHashMap<Key, CompletableFuture<Decision>> inFlight = new ConcurrentHashMap<>();
    private final HmacKey hmac;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder loadFailures = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder staleServed = new LongAdder();
    private final LongAdder refreshes = new LongAdder();

    /**
     * The cache key.
     *
     * @param scope the chain and protocol
     * @param user the user name as the client gave it
     * @param digest the keyed hash of mechanism, authzid, user and secret (base64)
     */
    record Key(String scope, String user, String digest) {}

    /** A cached answer and when it was loaded (ticker nanos). */
    private record Entry(Decision decision, long loadedAt) {}

    /** Counts since start, for the admin API. */
    public record Stats(
            long size,
            long hits,
            long misses,
            long loads,
            long loadFailures,
            long loadNanos,
            long evictions,
            long staleServed,
            long refreshes) {}

    /**
     * @param ticker the clock (tests use a fake one)
     * @param executor runs Caffeine's maintenance and listeners (cheap work)
     */
    public AuthCache(CacheConfig config, Ticker ticker, Executor executor, Metrics metrics) {
        this.config = Objects.requireNonNull(config, "config");
        this.ticker = ticker;
        this.metrics = metrics;
        long positiveLife =
                Math.max(config.ttl().toNanos(), config.staleIfError().toNanos());
        long negativeLife = config.negativeTtl().toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(Math.max(1, config.size()))
                .ticker(ticker)
                .executor(executor)
                .expireAfter(new Expiry<Key, Entry>() {
                    @Override
                    public long expireAfterCreate(Key key, Entry value, long currentTime) {
                        return value.decision().positive()
                                ? Math.min(positiveLife, validForNanos(value))
                                : negativeLife;
                    }

                    @Override
                    public long expireAfterUpdate(Key key, Entry value, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, value, currentTime);
                    }

                    @Override
                    public long expireAfterRead(Key key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .evictionListener((Key k, Entry v, RemovalCause cause) -> {
                    evictions.increment();
                    metrics.authCacheEviction(cause == RemovalCause.SIZE ? "size" : "expired");
                })
                .build();
        this.hmac = HmacKey.random();
    }

    /**
     * The answer for {@code request}: from the cache when fresh, else from {@code loader} (one call for concurrent
     * identical requests).
     *
     * @param scope identifies the chain and protocol the answer is for
     */
    CompletionStage<Decision> get(
            String scope, AuthRequest request, Function<AuthRequest, CompletionStage<Decision>> loader) {
        Key key = key(scope, request.credentials());
        long now = ticker.read();
        Entry entry = cache.getIfPresent(key);
        if (entry != null && fresh(entry, now)) {
            hits.increment();
            metrics.authCacheHit();
            if (entry.decision().positive()
                    && !config.refreshAfter().isZero()
                    && now - entry.loadedAt() >= config.refreshAfter().toNanos()
                    && !inFlight.containsKey(key)) {
                refreshes.increment();
                // off the login path: this login has its answer already; the refresh only updates the entry
                load(key, request, loader).whenComplete((d, e) -> {
                    if (e != null) {
                        log.debug(
                                "auth cache: refresh for {} failed: {}",
                                request.credentials().user(),
                                e.toString());
                    }
                });
            }
            return CompletableFuture.completedFuture(entry.decision().fromCache());
        }
        misses.increment();
        metrics.authCacheMiss();
        Entry stale = entry != null && entry.decision().positive() ? entry : null;
        return load(key, request, loader).handle((decision, error) -> {
            boolean failed = error != null || decision.temporary();
            if (failed && stale != null && withinGrace(stale, ticker.read())) {
                staleServed.increment();
                metrics.authCacheStaleServed();
                log.warn(
                        "auth: provider {} for {}; honouring the accepted answer from {}s ago (stale-if-error)",
                        error != null ? "failed (" + rootMessage(error) + ")" : "answered temporary failure",
                        request.credentials().user(),
                        Duration.ofNanos(ticker.read() - stale.loadedAt()).toSeconds());
                return stale.decision().fromCache();
            }
            if (error != null) {
                throw error instanceof java.util.concurrent.CompletionException ce
                        ? ce
                        : new java.util.concurrent.CompletionException(error);
            }
            return decision;
        });
    }

    private CompletableFuture<Decision> load(
            Key key, AuthRequest request, Function<AuthRequest, CompletionStage<Decision>> loader) {
        CompletableFuture<Decision>[] started = newArray();
        CompletableFuture<Decision> future = inFlight.computeIfAbsent(key, k -> {
            CompletableFuture<Decision> f = new CompletableFuture<>();
            started[0] = f;
            return f;
        });
        if (started[0] == null) {
            return future; // an identical login is already asking the provider: share its answer
        }
        long start = ticker.read();
        CompletionStage<Decision> call;
        try {
            call = loader.apply(request);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((decision, error) -> {
            long nanos = ticker.read() - start;
            loads.increment();
            loadNanos.add(nanos);
            metrics.authCacheLoad(error == null, nanos);
            if (error != null) {
                loadFailures.increment();
            } else if (decision.positive() || decision.negative()) {
                cache.put(key, new Entry(decision, ticker.read()));
            }
            // after the put: a login that misses the in-flight entry finds the cached one
            inFlight.remove(key, future);
            if (error != null) {
                future.completeExceptionally(error);
            } else {
                future.complete(decision);
            }
        });
        return future;
    }

    @SuppressWarnings("unchecked")
    private static CompletableFuture<Decision>[] newArray() {
        return new CompletableFuture[1];
    }

    private boolean fresh(Entry entry, long now) {
        long age = now - entry.loadedAt();
        return entry.decision().positive()
                ? age < Math.min(config.ttl().toNanos(), validForNanos(entry))
                : age < config.negativeTtl().toNanos();
    }

    private boolean withinGrace(Entry entry, long now) {
        // an expired token stays expired when the provider is down: its validity bounds the grace too
        return now - entry.loadedAt() < Math.min(config.staleIfError().toNanos(), validForNanos(entry));
    }

    /** How long an accepted answer holds by its own account (a token's expiry); unbounded when it does not say. */
    private static long validForNanos(Entry entry) {
        return entry.decision().result() instanceof AuthResult.Accepted a
                        && a.validFor().isPresent()
                ? Math.max(0, a.validFor().get().toNanos())
                : Long.MAX_VALUE;
    }

    Key key(String scope, Credentials c) {
        Mac m = hmac.mac();
        update(m, c.mechanism().wireName());
        update(m, c.authzid());
        update(m, c.user());
        update(m, c.secret());
        return new Key(scope, c.user(), Base64.getEncoder().withoutPadding().encodeToString(m.doFinal()));
    }

    /** Length-prefixed, so that no two different field lists hash the same input. */
    private static void update(Mac m, String field) {
        byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
        m.update((byte) (bytes.length >>> 24));
        m.update((byte) (bytes.length >>> 16));
        m.update((byte) (bytes.length >>> 8));
        m.update((byte) bytes.length);
        m.update(bytes);
    }

    /** Drops every answer for {@code user} (case-insensitive); returns how many. */
    public int invalidate(String user) {
        String u = user.toLowerCase(Locale.ROOT);
        int[] n = new int[1];
        cache.asMap().keySet().removeIf(k -> {
            boolean match = k.user().toLowerCase(Locale.ROOT).equals(u);
            if (match) {
                n[0]++;
            }
            return match;
        });
        return n[0];
    }

    /** Drops every answer. */
    public void invalidateAll() {
        cache.invalidateAll();
    }

    public Stats stats() {
        return new Stats(
                cache.estimatedSize(),
                hits.sum(),
                misses.sum(),
                loads.sum(),
                loadFailures.sum(),
                loadNanos.sum(),
                evictions.sum(),
                staleServed.sum(),
                refreshes.sum());
    }

    /** Runs pending maintenance (expiry, eviction listeners); for tests. */
    void cleanUp() {
        cache.cleanUp();
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
