package dev.postern.proxy.cluster;

import io.lettuce.core.SetArgs;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * The port-25 edge's memory of clients that passed its tests, shared like postscreen's cache: a key per listener and
 * client, {@code <prefix>passed:<listener>:<id>} (the id a SHA-256 of the address, its first 128 bits in hex), that
 * expires with the listener's {@code passed-cache}. A lookup is one {@code PTTL}, a pass one {@code SET ... PX},
 * not waited for; while Redis is down, a lookup answers "not known" at once and each node remembers alone.
 */
public final class RedisPassedClients {
    private final ClusterClient client;
    private final LongAdder unanswered = new LongAdder();

    private RedisPassedClients(ClusterClient client) {
        this.client = client;
    }

    public static RedisPassedClients start(ClusterClient client) {
        return new RedisPassedClients(client);
    }

    /** Whether lookups go to Redis now. */
    public boolean available() {
        return client.isUp();
    }

    /**
     * How long a node's pass of {@code address} on {@code listener} still counts; zero when none passed it, or when
     * Redis did not answer. Completes on an I/O loop (or at once while Redis is down), never exceptionally.
     */
    public CompletableFuture<Duration> remaining(String listener, InetAddress address) {
        String key = key(listener, address);
        return client.<Long>command("passed-lookup", c -> c.pttl(key)).handle((ms, e) -> {
            if (e != null) {
                unanswered.increment();
                return Duration.ZERO;
            }
            // -2: no such key; -1: one without an expiry, which this class never writes
            return ms != null && ms > 0 ? Duration.ofMillis(ms) : Duration.ZERO;
        });
    }

    /** Remembers that {@code address} passed on {@code listener}, for {@code ttl}; not waited for. */
    public void add(String listener, InetAddress address, Duration ttl) {
        if (ttl.isZero() || ttl.isNegative()) {
            return;
        }
        String key = key(listener, address);
        client.command("passed-add", c -> c.set(key, "1", SetArgs.Builder.px(ttl.toMillis())))
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        unanswered.increment();
                    }
                });
    }

    /** Lookups and passes Redis did not take since start: each node went on alone for those. */
    public long unanswered() {
        return unanswered.sum();
    }

    private String key(String listener, InetAddress address) {
        return client.key("passed:" + listener + ":" + hash(address));
    }

    private static String hash(InetAddress address) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(address.getHostAddress().getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
