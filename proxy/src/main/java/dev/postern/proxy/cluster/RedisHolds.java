package dev.postern.proxy.cluster;

import dev.postern.proxy.hold.Holds;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SetArgs;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's holds kept in Redis as well as sent to the nodes up: one key per held user ({@code
 * postern:hold:<user>}, the origin node as its value, the hold's own expiry as the key's), so that a node that starts,
 * or connects again after an outage, while a hold is in force holds that user's logins too (the command that set the
 * hold reached only the nodes up at the time). A release deletes the key. When Redis is down the node that was asked
 * still holds on its own, as before; when it connects again it puts its own holds back into Redis and deletes the keys
 * of its own holds that it released meanwhile, so Redis says what the node that set each hold says.
 */
public final class RedisHolds {
    private static final Logger log = LoggerFactory.getLogger(RedisHolds.class);
    static final String PREFIX = "postern:hold:";
    private static final int SCAN_COUNT = 200;

    private final ClusterClient client;
    private final Holds local;
    /** Set after the first load: a restarted node takes its own holds back; only a reconnect knows it released one. */
    private volatile boolean loadedBefore;

    private RedisHolds(ClusterClient client, Holds local) {
        this.client = client;
        this.local = local;
    }

    /** Loads the holds in Redis into {@code local} now (if connected) and on every later connection. */
    public static RedisHolds start(ClusterClient client, Holds local) {
        RedisHolds r = new RedisHolds(client, local);
        client.onStateChange(up -> {
            if (up) {
                r.load();
            }
        });
        if (client.isUp()) {
            client.executor().execute(r::load);
        }
        return r;
    }

    static String key(String user) {
        return PREFIX + user.toLowerCase(Locale.ROOT);
    }

    /** Keeps {@code user}'s hold in Redis for {@code timeout}. */
    public CompletableFuture<String> stored(String user, Duration timeout, String origin) {
        return client.command(
                "hold-store", c -> c.set(key(user), origin, SetArgs.Builder.px(Math.max(1, timeout.toMillis()))));
    }

    /** Removes {@code user}'s hold from Redis. */
    public CompletableFuture<Long> removed(String user) {
        return client.command("hold-remove", c -> c.del(key(user)));
    }

    /**
     * Takes every hold in Redis that this node does not have yet, with the time it has left; puts this node's own
     * holds into Redis where they are missing (set while Redis was down), and deletes the keys of this node's holds it
     * no longer has (released while Redis was down; on the first connection of a process its own holds are taken
     * back like any other: a restart is not a release).
     */
    void load() {
        List<Holds.Hold> mine = local.holds();
        Set<String> here = mine.stream().map(Holds.Hold::user).collect(Collectors.toSet());
        String me = client.nodeId();
        Instant now = Instant.now();
        for (Holds.Hold h : mine) {
            long left = Duration.between(now, h.until()).toMillis();
            if (h.origin().equals(me) && left > 0) {
                client.command(
                        "hold-store",
                        c -> c.set(key(h.user()), me, SetArgs.Builder.px(left).nx()));
            }
        }
        scan(ScanCursor.INITIAL, here, loadedBefore ? me : null);
        loadedBefore = true;
    }

    private void scan(ScanCursor cursor, Set<String> here, String me) {
        client.command(
                        "hold-load",
                        c -> c.scan(
                                cursor, ScanArgs.Builder.matches(PREFIX + "*").limit(SCAN_COUNT)))
                .whenComplete((KeyScanCursor<String> page, Throwable e) -> {
                    if (e != null) {
                        log.warn("cluster: could not read the holds kept in redis: {}", RedisErrors.reason(e));
                        return;
                    }
                    for (String k : page.getKeys()) {
                        String user = k.substring(PREFIX.length());
                        if (!here.contains(user)) {
                            take(k, user, me);
                        }
                    }
                    if (!page.isFinished()) {
                        scan(page, here, me);
                    }
                });
    }

    private void take(String k, String user, String me) {
        client.command("hold-load", c -> c.pttl(k))
                .thenCompose(ttl -> client.command("hold-load", c -> c.get(k)).thenAccept(origin -> {
                    if (origin != null && origin.equals(me)) {
                        // this node set it, connected before, and no longer has it: released while Redis was down
                        client.command("hold-remove", c -> c.del(k));
                    } else if (ttl != null && ttl > 0 && origin != null) {
                        local.hold(user, Duration.ofMillis(ttl), origin);
                    }
                }))
                .exceptionally(e -> {
                    log.warn("cluster: could not read the hold of {} kept in redis: {}", user, RedisErrors.reason(e));
                    return null;
                });
    }
}
