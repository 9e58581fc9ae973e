package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.ThrottleConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's view of the cluster's throttle: the blocks it learnt from the store (in the answers to its own
 * failures, and from every other node's by broadcast), each until its remaining time runs out on this node's clock,
 * and the pairs that stay open to a blocked user. What {@link LoginThrottle#blocked} reads, so that a login is
 * checked in memory, never with a call to Redis.
 */
final class SharedBlocks {
    private final SharedFailures store;
    private final Ticker ticker;
    /** Scope and id to the end of the block, in {@link #ticker} nanos. */
    private final Cache<String, Long> blocks;
    /** A pair's id to the end of its standing as a good place of the user's. */
    private final Cache<String, Long> goodPairs;

    private final LongAdder fallbacks = new LongAdder();
    /** The fingerprint key in use and the bytes it was made of (the store's may change: a Redis that lost its data). */
    private volatile Keyed keyed;

    private record Keyed(byte[] bytes, HmacKey key) {}

    SharedBlocks(SharedFailures store, ThrottleConfig config, Ticker ticker, Executor executor) {
        this.store = store;
        this.ticker = ticker;
        this.blocks = untilValue(config.maxTracked() * 3L, ticker, executor);
        this.goodPairs = untilValue(config.maxTracked(), ticker, executor);
        store.onBlocked(this::learn);
    }

    /** A cache whose entries live until the time they hold. */
    private static Cache<String, Long> untilValue(long size, Ticker ticker, Executor executor) {
        return Caffeine.newBuilder()
                .maximumSize(size)
                .expireAfter(new Expiry<String, Long>() {
                    @Override
                    public long expireAfterCreate(String key, Long end, long now) {
                        return Math.max(0, end - now);
                    }

                    @Override
                    public long expireAfterUpdate(String key, Long end, long now, long current) {
                        return Math.max(0, end - now);
                    }

                    @Override
                    public long expireAfterRead(String key, Long end, long now, long current) {
                        return current;
                    }
                })
                .ticker(ticker)
                .executor(executor)
                .build();
    }

    SharedFailures store() {
        return store;
    }

    /** The store can count now, with the cluster's fingerprint key: null when it cannot. */
    HmacKey readyKey() {
        if (!store.available()) {
            return null;
        }
        byte[] bytes = store.fingerprintKey();
        if (bytes == null) {
            return null;
        }
        Keyed k = keyed;
        if (k == null || (k.bytes() != bytes && !Arrays.equals(k.bytes(), bytes))) {
            k = new Keyed(bytes, HmacKey.of(bytes));
            keyed = k;
        }
        return k.key();
    }

    /** Whether no block and no good pair is known: then a login needs no ids hashed to be checked. */
    boolean knowsNothing() {
        return blocks.estimatedSize() == 0 && goodPairs.estimatedSize() == 0;
    }

    boolean blocked(String scope, String id) {
        return blocks.getIfPresent(scope + ' ' + id) != null;
    }

    boolean good(String pairId) {
        return goodPairs.getIfPresent(pairId) != null;
    }

    /** Takes the blocks of a failure's answer. */
    void learn(List<SharedFailures.Block> answer) {
        answer.forEach(this::learn);
    }

    /** Takes one block: until its end, or later when another node reported a later one. */
    void learn(SharedFailures.Block b) {
        long now = ticker.read();
        if (!b.remaining().isNegative() && !b.remaining().isZero()) {
            blocks.asMap().merge(b.scope() + ' ' + b.id(), now + b.remaining().toNanos(), Math::max);
        }
        for (Map.Entry<String, Duration> good : b.goodPairs().entrySet()) {
            if (!good.getValue().isNegative() && !good.getValue().isZero()) {
                goodPairs.asMap().merge(good.getKey(), now + good.getValue().toNanos(), Math::max);
            }
        }
    }

    /** A failure was counted by this node alone: the store could not. */
    void fellBack() {
        fallbacks.increment();
    }

    long fallbacks() {
        return fallbacks.sum();
    }
}
