package dev.postern.proxy.smtp.edge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.SmtpConfig;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connection limits per client of one edge listener: concurrent connections, and new connections per minute (a
 * fixed one-minute window that opens with the client's first connection). Keyed by {@link ClientKey}; the rate
 * windows live in a bounded Caffeine cache with an injected {@link Ticker}, so tests move time without sleeping.
 * Thread-safe: listeners accept on several event loops.
 */
final class ClientLimits {
    /** Clients whose rate window is remembered at once; beyond that the least recent are forgotten. */
    static final long MAX_TRACKED = 200_000;

    private final SmtpConfig.Limits limits;
    private final ConcurrentHashMap<ClientKey, AtomicInteger> concurrent = new ConcurrentHashMap<>();
    private final Cache<ClientKey, AtomicInteger> rate;

    ClientLimits(SmtpConfig.Limits limits, Ticker ticker) {
        this.limits = limits;
        this.rate = Caffeine.newBuilder()
                .ticker(ticker)
                .executor(Runnable::run)
                .maximumSize(MAX_TRACKED)
                .expireAfterWrite(Duration.ofMinutes(1))
                .build();
    }

    /** Why a connection was refused; null means it was admitted. */
    enum Refusal {
        CONCURRENT("too many connections"),
        RATE("too many connections per minute");

        final String text;

        Refusal(String text) {
            this.text = text;
        }
    }

    /**
     * Counts a new connection from {@code client}. When admitted (null), the caller must call {@link #release} once
     * the connection closes; a refused one is not counted as open (but counts toward the rate).
     */
    Refusal admit(InetAddress client) {
        ClientKey key = ClientKey.of(client);
        if (limits.connectionsPerMinute() > 0) {
            // the window's counter is created once per minute; incrementing it is not a write, so it keeps expiring
            // one minute after it opened
            int n = rate.get(key, k -> new AtomicInteger()).incrementAndGet();
            if (n > limits.connectionsPerMinute()) {
                return Refusal.RATE;
            }
        }
        if (limits.connectionsPerClient() > 0) {
            AtomicInteger open = concurrent.computeIfAbsent(key, k -> new AtomicInteger());
            if (open.incrementAndGet() > limits.connectionsPerClient()) {
                release(client);
                return Refusal.CONCURRENT;
            }
        }
        return null;
    }

    /** A connection that {@link #admit} let in has closed. */
    void release(InetAddress client) {
        if (limits.connectionsPerClient() <= 0) {
            return;
        }
        concurrent.computeIfPresent(ClientKey.of(client), (k, open) -> open.decrementAndGet() <= 0 ? null : open);
    }

    /** Open connections from {@code client}'s key (for tests and the admin side). */
    int open(InetAddress client) {
        AtomicInteger n = concurrent.get(ClientKey.of(client));
        return n == null ? 0 : n.get();
    }

    /** Clients with an open connection (the map never grows beyond the open connections). */
    int tracked() {
        return concurrent.size();
    }
}
