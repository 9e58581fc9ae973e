package dev.postern.proxy.cluster;

import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.auth.LoginThrottle;
import dev.postern.proxy.auth.SharedFailures;
import dev.postern.proxy.auth.ThrottleIds;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.ScriptOutputType;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The login throttle's counters shared in Redis. Per counted address, user and pair: a sorted set of the window's
 * failures ({@code <prefix>throttle:a:<id>}, {@code :u:}, {@code :p:}; the fingerprint of each wrong secret, scored
 * by the time of its first failure), a block ({@code <prefix>throttle:blocked:a:<id>}, ..., with the block time as
 * its expiry), and per user the pairs where they logged in ({@code <prefix>throttle:good:<user id>}, scored by when
 * that ends). Ids are {@link ThrottleIds} hashes: no user name or address is in a key.
 *
 * <p>A failure is one script ({@link #FAILURE}): it counts in the three windows on Redis's clock, blocks what
 * reached its limit, publishes each new block on {@code <prefix>throttle-blocked}, and answers the counts and the
 * blocks in force. A success is one script too, not waited for. The key the nodes fingerprint wrong secrets with is
 * made by the first node and kept in {@code <prefix>throttle:fingerprint-key}.
 */
public final class RedisThrottleStore implements SharedFailures {
    private static final Logger log = LoggerFactory.getLogger(RedisThrottleStore.class);
    static final String CHANNEL = "throttle-blocked";
    static final String KEY = "throttle:fingerprint-key";
    private static final String[] SCOPES = {"a", "u", "p"};

    /**
     * KEYS: 1-3 the windows of the address, the user and the pair; 4-6 their blocks; 7 the user's good pairs. ARGV:
     * 1 the fingerprint, 2 the window and 3 the block (ms), 4-6 the limits, 7 the channel, 8-10 the ids. Answers the
     * three counts, the three blocks' remaining ms (0: none), then, while the user is blocked, each good pair's id
     * and remaining ms.
     */
    static final String FAILURE =
            """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local window = tonumber(ARGV[2])
            local block = tonumber(ARGV[3])
            local scopes = {'a', 'u', 'p'}
            local out = {0, 0, 0, 0, 0, 0}
            local blocked = {}
            for i = 1, 3 do
              local key = KEYS[i]
              redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
              if not redis.call('ZSCORE', key, ARGV[1]) then
                redis.call('ZADD', key, now, ARGV[1])
              end
              local count = redis.call('ZCARD', key)
              local left = redis.call('PTTL', KEYS[3 + i])
              if count >= tonumber(ARGV[3 + i]) then
                redis.call('DEL', key)
                redis.call('SET', KEYS[3 + i], '1', 'PX', block)
                left = block
                blocked[#blocked + 1] = i
              else
                redis.call('PEXPIRE', key, window)
              end
              out[i] = count
              if left > 0 then out[3 + i] = left end
            end
            local good = ''
            if out[5] > 0 then
              redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now)
              local open = redis.call('ZRANGE', KEYS[7], 0, -1, 'WITHSCORES')
              for j = 1, #open, 2 do
                local ms = math.floor(tonumber(open[j + 1]) - now)
                out[#out + 1] = open[j]
                out[#out + 1] = ms
                good = good .. ' ' .. open[j] .. '=' .. ms
              end
            end
            for _, i in ipairs(blocked) do
              local message = scopes[i] .. ' ' .. ARGV[7 + i] .. ' ' .. block
              if i == 2 then message = message .. good end
              redis.call('PUBLISH', ARGV[7], message)
            end
            return out
            """;

    /**
     * KEYS: 1 the pair's window, 2 the user's good pairs. ARGV: 1 the pair's id, 2 the window (ms). Clears the
     * pair's count; the pair is good for the window (the newest 100 of a user's are kept).
     */
    static final String SUCCESS =
            """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('DEL', KEYS[1])
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
            redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -101)
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
            return 1
            """;

    /** KEYS: 1 the key's key; ARGV: 1 a new key. The key there, made from the new one when there was none. */
    static final String FINGERPRINT_KEY =
            """
            redis.call('SET', KEYS[1], ARGV[1], 'NX')
            return redis.call('GET', KEYS[1])
            """;

    private static final RedisScript FAILURE_SCRIPT = new RedisScript("throttle-failure", FAILURE);
    private static final RedisScript SUCCESS_SCRIPT = new RedisScript("throttle-success", SUCCESS);
    private static final RedisScript KEY_SCRIPT = new RedisScript("throttle-key", FINGERPRINT_KEY);

    private final ClusterClient client;
    private final String channel;
    private final List<Consumer<Block>> listeners = new CopyOnWriteArrayList<>();
    private volatile byte[] fingerprintKey;
    /** What the log said last: null before it said anything, then whether failures are counted in Redis. */
    private volatile Boolean counting;

    private RedisThrottleStore(ClusterClient client) {
        this.client = client;
        this.channel = client.key(CHANNEL);
    }

    /** The shared counters over {@code client}: they follow its connection from now on. */
    public static RedisThrottleStore start(ClusterClient client) {
        RedisThrottleStore store = new RedisThrottleStore(client);
        client.subscribe(store.channel, store::message);
        client.onStateChange(up -> {
            if (up) {
                store.fetchKey();
            } else {
                store.counting(false, "lost redis " + client.description());
            }
        });
        client.firstRound().thenAccept(up -> {
            if (!up) {
                client.executor().execute(() -> store.counting(false, "no answer from redis " + client.description()));
            }
        });
        // connected before the listener was in: state changes run on the client's thread, so this comes after them
        client.executor().execute(() -> {
            if (client.isUp() && store.fingerprintKey == null) {
                store.fetchKey();
            }
        });
        return store;
    }

    @Override
    public boolean available() {
        return client.isUp() && fingerprintKey != null;
    }

    @Override
    public byte[] fingerprintKey() {
        return fingerprintKey;
    }

    @Override
    public CompletionStage<Tally> failed(ThrottleIds ids, String fingerprint, ThrottleConfig limits) {
        String[] keys = {
            client.key("throttle:a:" + ids.address()),
            client.key("throttle:u:" + ids.user()),
            client.key("throttle:p:" + ids.pair()),
            client.key("throttle:blocked:a:" + ids.address()),
            client.key("throttle:blocked:u:" + ids.user()),
            client.key("throttle:blocked:p:" + ids.pair()),
            client.key("throttle:good:" + ids.user())
        };
        String[] args = {
            fingerprint,
            Long.toString(limits.window().toMillis()),
            Long.toString(limits.block().toMillis()),
            Integer.toString(limits.maxFailuresPerAddress()),
            Integer.toString(limits.maxFailuresPerUser()),
            Integer.toString(limits.maxFailuresPerUserAddress()),
            channel,
            ids.address(),
            ids.user(),
            ids.pair()
        };
        CompletableFuture<List<Object>> answer = FAILURE_SCRIPT.run(client, ScriptOutputType.MULTI, keys, args);
        return answer.handle((r, e) -> {
            if (e != null) {
                failedCommand(e);
                throw new IllegalStateException("the failure was not counted in redis", e);
            }
            counting(true, null);
            return tally(ids, r);
        });
    }

    @Override
    public void succeeded(ThrottleIds ids, ThrottleConfig limits) {
        String[] keys = {client.key("throttle:p:" + ids.pair()), client.key("throttle:good:" + ids.user())};
        SUCCESS_SCRIPT
                .<Long>run(
                        client,
                        ScriptOutputType.INTEGER,
                        keys,
                        ids.pair(),
                        Long.toString(limits.window().toMillis()))
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        // the pair's count stays until its window ends: as a failure counted alone would
                        log.debug("throttle: a success was not recorded in redis: {}", RedisErrors.reason(e));
                    }
                });
    }

    @Override
    public void onBlocked(Consumer<Block> listener) {
        listeners.add(listener);
    }

    /** Reads the cluster's fingerprint key, making it when there is none yet; on the client's thread. */
    private void fetchKey() {
        byte[] candidate = new byte[32];
        new SecureRandom().nextBytes(candidate);
        String[] keys = {client.key(KEY)};
        KEY_SCRIPT
                .<String>run(
                        client, ScriptOutputType.VALUE, keys, HexFormat.of().formatHex(candidate))
                .whenCompleteAsync(
                        (hex, e) -> {
                            if (e == null && hex != null) {
                                try {
                                    fingerprintKey = HexFormat.of().parseHex(hex);
                                    counting(true, null);
                                    return;
                                } catch (IllegalArgumentException bad) {
                                    e = bad;
                                }
                            }
                            log.warn(
                                    "throttle: the fingerprint key could not be read from redis ({}); trying again"
                                            + " in {}",
                                    e == null ? "none" : RedisErrors.reason(e),
                                    client.config().checkInterval());
                            client.executor()
                                    .schedule(
                                            () -> {
                                                if (client.isUp() && fingerprintKey == null) {
                                                    fetchKey();
                                                }
                                            },
                                            client.config().checkInterval().toMillis(),
                                            TimeUnit.MILLISECONDS);
                        },
                        client.executor());
    }

    private void failedCommand(Throwable e) {
        Throwable cause = RedisErrors.unwrap(e);
        if (cause instanceof RedisCommandTimeoutException) {
            // a connection that takes commands and answers none: the next failures must not wait on it too
            client.suspect(
                    "no answer to a throttle count within " + client.config().commandTimeout());
        }
        if (!(cause instanceof RedisErrors.NotConnectedException)) {
            client.executor()
                    .execute(() -> counting(false, "redis did not count a failed login: " + RedisErrors.reason(e)));
        }
    }

    /** Logs a change between counting in Redis and counting alone, once per change. */
    private void counting(boolean inRedis, String why) {
        Boolean said = counting;
        if (said != null && said == inRedis) {
            return;
        }
        synchronized (this) {
            said = counting;
            if (said != null && said == inRedis) {
                return;
            }
            counting = inRedis;
        }
        if (inRedis) {
            log.info("throttle: failed logins are counted in redis {}, with the other nodes", client.description());
        } else {
            log.warn(
                    "throttle: {}; this node counts failed logins alone until redis answers (the blocks it knows stay)",
                    why);
        }
    }

    private Tally tally(ThrottleIds ids, List<Object> r) {
        int address = (int) number(r.get(0));
        int user = (int) number(r.get(1));
        int pair = (int) number(r.get(2));
        Map<String, Duration> good = new LinkedHashMap<>();
        for (int i = 6; i + 1 < r.size(); i += 2) {
            good.put(String.valueOf(r.get(i)), Duration.ofMillis(number(r.get(i + 1))));
        }
        String[] idOf = {ids.address(), ids.user(), ids.pair()};
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long left = number(r.get(3 + i));
            if (left > 0) {
                blocks.add(new Block(scope(SCOPES[i]), idOf[i], Duration.ofMillis(left), i == 1 ? good : Map.of()));
            }
        }
        return new Tally(address, user, pair, blocks);
    }

    /** A block message ({@code <a|u|p> <id> <ms>[ <pair id>=<ms>...]}), on the client's thread. */
    private void message(String message) {
        String[] parts = message.trim().split(" ");
        Block b;
        try {
            String scope = scope(parts[0]);
            Map<String, Duration> good = new LinkedHashMap<>();
            for (int i = 3; i < parts.length; i++) {
                int eq = parts[i].indexOf('=');
                good.put(parts[i].substring(0, eq), Duration.ofMillis(Long.parseLong(parts[i].substring(eq + 1))));
            }
            b = new Block(scope, parts[1], Duration.ofMillis(Long.parseLong(parts[2])), good);
        } catch (RuntimeException e) {
            log.debug("throttle: a block message that is not one: {}", message);
            return;
        }
        for (Consumer<Block> l : listeners) {
            l.accept(b);
        }
    }

    private static String scope(String letter) {
        return switch (letter) {
            case "a" -> LoginThrottle.ADDRESS;
            case "u" -> LoginThrottle.USER;
            case "p" -> LoginThrottle.USER_ADDRESS;
            default -> throw new IllegalArgumentException("scope " + letter);
        };
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(o));
    }
}
