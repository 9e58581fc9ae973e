package dev.postern.proxy.dns;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Results of asynchronous lookups, each kept for a time its value decides (0: not kept), with the lookups in flight
 * shared: a second caller of a pending key waits for the same lookup.
 *
 * <p>A result is stored before its callers see it complete, so a caller that continues (and moves a test's clock)
 * always finds it stored, with its lifetime counted from the moment it arrived. Caffeine's own asynchronous cache
 * stores the value in a callback of its own that may run after the callers' ones.
 */
final class TtlCache<K, V> {
    private final Cache<K, V> done;
    private final ConcurrentHashMap<K, CompletableFuture<V>> pending = new ConcurrentHashMap<>();
    private final ToLongFunction<V> lifetimeNanos;

    /**
     * @param ticker the clock of the lifetimes
     * @param maximumSize results kept at most
     * @param lifetimeNanos how long a value is kept
     */
    TtlCache(Ticker ticker, long maximumSize, ToLongFunction<V> lifetimeNanos) {
        this.lifetimeNanos = lifetimeNanos;
        this.done = Caffeine.newBuilder()
                .maximumSize(maximumSize)
                .ticker(ticker)
                .executor(Runnable::run)
                .expireAfter(new Expiry<K, V>() {
                    @Override
                    public long expireAfterCreate(K key, V value, long currentTime) {
                        return lifetimeNanos.applyAsLong(value);
                    }

                    @Override
                    public long expireAfterUpdate(K key, V value, long currentTime, long currentDuration) {
                        return lifetimeNanos.applyAsLong(value);
                    }

                    @Override
                    public long expireAfterRead(K key, V value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    /** The kept value of {@code key}, the pending lookup of it, or a new lookup by {@code load}. */
    CompletionStage<V> get(K key, Function<K, CompletionStage<V>> load) {
        V value = done.getIfPresent(key);
        if (value != null) {
            return CompletableFuture.completedStage(value);
        }
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> other = pending.putIfAbsent(key, mine);
        if (other != null) {
            return other.minimalCompletionStage();
        }
        CompletionStage<V> loading;
        try {
            loading = load.apply(key);
        } catch (RuntimeException e) {
            pending.remove(key, mine);
            mine.completeExceptionally(e);
            return mine.minimalCompletionStage();
        }
        loading.whenComplete((result, error) -> {
            if (result != null && lifetimeNanos.applyAsLong(result) > 0) {
                done.put(key, result);
            }
            pending.remove(key, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(result);
            }
        });
        return mine.minimalCompletionStage();
    }

    void invalidateAll() {
        done.invalidateAll();
    }
}
