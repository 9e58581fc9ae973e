package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetAddress;
import java.time.Duration;

/**
 * Clients that passed the zombie tests (pregreet, DNS lists) recently: they skip them until the entry expires, so a
 * good sender pays the tests once per period, as with postscreen's cache. In memory, per listener, bounded.
 */
final class PassedClients {
    static final long MAX_ENTRIES = 500_000;

    private final Cache<InetAddress, Boolean> passed;

    /** {@code ttl} zero: nothing is remembered. */
    PassedClients(Duration ttl, Ticker ticker) {
        this.passed = ttl.isZero()
                ? null
                : Caffeine.newBuilder()
                        .ticker(ticker)
                        .executor(Runnable::run)
                        .maximumSize(MAX_ENTRIES)
                        .expireAfterWrite(ttl)
                        .build();
    }

    boolean contains(InetAddress client) {
        return passed != null && passed.getIfPresent(client) != null;
    }

    void add(InetAddress client) {
        if (passed != null) {
            passed.put(client, Boolean.TRUE);
        }
    }
}
