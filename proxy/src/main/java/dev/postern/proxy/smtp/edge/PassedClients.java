package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Clients that passed the zombie tests (pregreet, DNS lists) recently: they skip them until the entry expires, so a
 * good sender pays the tests once per period, as with postscreen's cache. In memory, per listener, bounded; in a
 * cluster also in the {@link SharedPassedClients}, so that a pass on one node counts on every node: a client this
 * node does not know is looked up there while its tests start, and taken in here for what is left of its period.
 */
final class PassedClients {
    static final long MAX_ENTRIES = 500_000;

    private final String listener;
    private final Duration ttl;
    private final Ticker ticker;
    private final SharedPassedClients shared;
    /** A client to the end of its period, in {@link #ticker} nanos. */
    private final Cache<InetAddress, Long> passed;

    /** {@code ttl} zero: nothing is remembered. */
    PassedClients(Duration ttl, Ticker ticker) {
        this("", ttl, ticker, SharedPassedClients.NONE);
    }

    /** Remembered here and in {@code shared} too, under the listener's name. */
    PassedClients(String listener, Duration ttl, Ticker ticker, SharedPassedClients shared) {
        this.listener = listener;
        this.ttl = ttl;
        this.ticker = ticker;
        this.shared = shared;
        this.passed = ttl.isZero()
                ? null
                : Caffeine.newBuilder()
                        .ticker(ticker)
                        .executor(Runnable::run)
                        .maximumSize(MAX_ENTRIES)
                        .expireAfter(new Expiry<InetAddress, Long>() {
                            @Override
                            public long expireAfterCreate(InetAddress key, Long end, long now) {
                                return Math.max(0, end - now);
                            }

                            @Override
                            public long expireAfterUpdate(InetAddress key, Long end, long now, long current) {
                                return Math.max(0, end - now);
                            }

                            @Override
                            public long expireAfterRead(InetAddress key, Long end, long now, long current) {
                                return current;
                            }
                        })
                        .build();
    }

    boolean contains(InetAddress client) {
        return passed != null && passed.getIfPresent(client) != null;
    }

    /** Whether there is a cluster's memory to look a client up in. */
    boolean isShared() {
        return passed != null && shared != SharedPassedClients.NONE;
    }

    /**
     * Whether another node passed {@code client} within its period (then this node remembers it for the rest of
     * it); false when none did or the store did not answer. May complete on any thread.
     */
    CompletionStage<Boolean> containsShared(InetAddress client) {
        if (!isShared()) {
            return CompletableFuture.completedFuture(false);
        }
        return shared.remaining(listener, client).thenApply(left -> {
            if (left == null || left.isZero() || left.isNegative()) {
                return false;
            }
            passed.put(client, ticker.read() + Math.min(left.toNanos(), ttl.toNanos()));
            return true;
        });
    }

    void add(InetAddress client) {
        if (passed != null) {
            passed.put(client, ticker.read() + ttl.toNanos());
            shared.add(listener, client, ttl);
        }
    }
}
