package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.Cidr;
import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.sasl.Credentials;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.Mac;

/**
 * Brute-force throttling. Failed logins only are counted, in sliding windows, per client address (IPv6 by prefix),
 * per user, and per user and address. A failure is answered after a growing delay; past a threshold the address, the
 * user or the pair is refused for a while. What it does better than counting every failure:
 *
 * <ul>
 *   <li>the same wrong secret tried again (a phone with an old password, retrying every minute) counts once per
 *       window: a guesser tries different secrets, a stale client repeats one;
 *   <li>a user blocked for failures from everywhere can still log in from an address where they logged in within
 *       the window, so an attacker cannot lock a user out of their usual places;
 *   <li>a success clears the user-and-address count; trusted networks are never counted, delayed or refused.
 * </ul>
 *
 * <p>In a cluster ({@link SharedFailures}), the nodes count in the shared store instead: one call per failure, whose
 * answer carries the counts (the delay follows them) and the blocks in force; every node hears of every block and
 * keeps it, so that {@link #blocked} stays a look in memory. While the store cannot count, each node counts alone
 * again, from the failures it saw itself (it counts those all along, without blocking on them).
 *
 * <p>Thread-safe; windows and blocks expire on the injected {@link Ticker}, so tests never sleep.
 */
public final class LoginThrottle {
    /** Scope names, for logs and the metric label. */
    public static final String ADDRESS = "address";

    public static final String USER = "user";
    public static final String USER_ADDRESS = "user-address";

    private final ThrottleConfig config;
    private final Ticker ticker;
    private final long windowNanos;
    private final Cache<String, Window> windows;
    private final Cache<String, Boolean> blocked;
    private final Cache<String, Boolean> goodPairs;
    private final HmacKey hmac;
    private final LongAdder refusals = new LongAdder();
    private final LongAdder failures = new LongAdder();
    /** The cluster's view; null on a single node. */
    private final SharedBlocks shared;

    public LoginThrottle(ThrottleConfig config, Ticker ticker, Executor executor) {
        this(config, ticker, executor, null);
    }

    /** @param shared the cluster's store of failures, or null: this node counts alone */
    public LoginThrottle(ThrottleConfig config, Ticker ticker, Executor executor, SharedFailures shared) {
        this.config = config;
        this.ticker = ticker;
        this.windowNanos = config.window().toNanos();
        // one map for the three kinds of counter, keyed with a prefix; three times the per-kind bound
        this.windows = Caffeine.newBuilder()
                .maximumSize(3L * config.maxTracked())
                .expireAfterAccess(config.window())
                .ticker(ticker)
                .executor(executor)
                .build();
        this.blocked = Caffeine.newBuilder()
                .maximumSize(3L * config.maxTracked())
                .expireAfterWrite(config.block())
                .ticker(ticker)
                .executor(executor)
                .build();
        this.goodPairs = Caffeine.newBuilder()
                .maximumSize(config.maxTracked())
                .expireAfterWrite(config.window())
                .ticker(ticker)
                .executor(executor)
                .build();
        this.hmac = HmacKey.random();
        this.shared = shared == null ? null : new SharedBlocks(shared, config, ticker, executor);
    }

    /** Why a login must be refused before it is tried: the blocked scope, or null when it may go ahead. */
    public String blocked(AuthRequest request) {
        Subject s = subject(request);
        if (s == null) {
            return null;
        }
        // the blocks the cluster made, as this node heard of them; hashing only when there are any
        ThrottleIds ids = shared == null || shared.knowsNothing() ? null : ThrottleIds.of(s.address(), s.user());
        String refused = null;
        if (blocked.getIfPresent(pairKey(s)) != null || ids != null && shared.blocked(USER_ADDRESS, ids.pair())) {
            refused = USER_ADDRESS;
        } else if (blocked.getIfPresent(addressKey(s)) != null
                || ids != null && shared.blocked(ADDRESS, ids.address())) {
            refused = ADDRESS;
        } else if ((blocked.getIfPresent(userKey(s)) != null || ids != null && shared.blocked(USER, ids.user()))
                && goodPairs.getIfPresent(pairKey(s)) == null
                && (ids == null || !shared.good(ids.pair()))) {
            refused = USER;
        }
        if (refused != null) {
            refusals.increment();
        }
        return refused;
    }

    /** Records a failed login; returns how long to wait before answering it. */
    public Duration failed(AuthRequest request) {
        Subject s = subject(request);
        if (s == null) {
            return Duration.ZERO;
        }
        failures.increment();
        long now = ticker.read();
        int print = fingerprint(hmac, request.credentials());
        record(addressKey(s), config.maxFailuresPerAddress(), now, print);
        record(userKey(s), config.maxFailuresPerUser(), now, print);
        // the delay grows with the guesses at one account from one place; others sharing the address (a NAT) or
        // the user (their other devices) are not slowed by them
        return config.delay(record(pairKey(s), config.maxFailuresPerUserAddress(), now, print));
    }

    /**
     * Records a failed login; completes with how long to wait before answering it. On a single node that is {@link
     * #failed} at once; in a cluster, once the shared store counted it (one round trip), or at once on this node's
     * own counts when the store cannot. Never completes exceptionally; may complete on any thread.
     */
    public CompletionStage<Duration> fail(AuthRequest request) {
        if (shared == null) {
            return CompletableFuture.completedFuture(failed(request));
        }
        Subject s = subject(request);
        if (s == null) {
            return CompletableFuture.completedFuture(Duration.ZERO);
        }
        HmacKey clusterKey = shared.readyKey();
        if (clusterKey == null) {
            shared.fellBack();
            return CompletableFuture.completedFuture(failed(request));
        }
        failures.increment();
        long now = ticker.read();
        int print = fingerprint(hmac, request.credentials());
        // counted here too, without blocking: if the store goes away, this node goes on from what it saw itself
        int address = count(addressKey(s), config.maxFailuresPerAddress(), now, print);
        int user = count(userKey(s), config.maxFailuresPerUser(), now, print);
        int pair = count(pairKey(s), config.maxFailuresPerUserAddress(), now, print);
        ThrottleIds ids = ThrottleIds.of(s.address(), s.user());
        String sharedPrint = String.format("%04x", fingerprint(clusterKey, request.credentials()) >>> 16);
        return shared.store().failed(ids, sharedPrint, config).handle((tally, error) -> {
            if (error == null && tally != null) {
                shared.learn(tally.blocks());
                return config.delay(tally.pair());
            }
            // the store did not count it: this node decides, on its own counts
            shared.fellBack();
            blockAlone(addressKey(s), address, config.maxFailuresPerAddress());
            blockAlone(userKey(s), user, config.maxFailuresPerUser());
            blockAlone(pairKey(s), pair, config.maxFailuresPerUserAddress());
            return config.delay(pair);
        });
    }

    /** Records a successful login: the pair's count is cleared, and the address is known good for the user. */
    public void succeeded(AuthRequest request) {
        Subject s = subject(request);
        if (s == null) {
            return;
        }
        windows.invalidate(pairKey(s));
        goodPairs.put(pairKey(s), Boolean.TRUE);
        if (shared != null && shared.store().available()) {
            // not waited for: a success costs the cluster one command and the login no time
            shared.store().succeeded(ThrottleIds.of(s.address(), s.user()), config);
        }
    }

    /** Failures this node counted alone since start because the cluster's store could not; 0 on a single node. */
    public long fallbacks() {
        return shared == null ? 0 : shared.fallbacks();
    }

    /** Logins refused while blocked, and failures counted, since start. */
    public long refusals() {
        return refusals.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** Counts the failure under {@code key}; blocks the key when it reaches {@code max}. Returns the count. */
    private int record(String key, int max, long now, int print) {
        Window w = windows.get(key, k -> new Window(max));
        int count;
        synchronized (w) {
            count = w.add(now, windowNanos, print);
            if (count >= max) {
                // blocked from now on; the count starts afresh when the block ends
                w.clear();
            }
        }
        if (count >= max) {
            blocked.put(key, Boolean.TRUE);
        }
        return count;
    }

    /** Counts the failure under {@code key} without blocking on it (the cluster's store decides). */
    private int count(String key, int max, long now, int print) {
        Window w = windows.get(key, k -> new Window(max));
        synchronized (w) {
            return w.add(now, windowNanos, print);
        }
    }

    /** Blocks {@code key} when this node's own {@code count} reached {@code max}, as {@link #record} does. */
    private void blockAlone(String key, int count, int max) {
        if (count < max) {
            return;
        }
        Window w = windows.getIfPresent(key);
        if (w != null) {
            synchronized (w) {
                w.clear();
            }
        }
        blocked.put(key, Boolean.TRUE);
    }

    /** Who a login is counted as; null for trusted networks and unknown addresses. */
    private Subject subject(AuthRequest request) {
        InetSocketAddress client = request.client();
        if (client == null || client.getAddress() == null) {
            return null;
        }
        InetAddress address = Cidr.unmap(client.getAddress());
        for (Cidr trusted : config.trustedNetworks()) {
            if (trusted.contains(address)) {
                return null;
            }
        }
        InetAddress counted = address.getAddress().length == 16 ? Cidr.mask(address, config.ipv6Prefix()) : address;
        return new Subject(
                counted.getHostAddress(), request.credentials().user().toLowerCase(Locale.ROOT));
    }

    private record Subject(String address, String user) {}

    private static String addressKey(Subject s) {
        return "a " + s.address();
    }

    private static String userKey(Subject s) {
        return "u " + s.user();
    }

    private static String pairKey(Subject s) {
        return "p " + s.address() + " " + s.user();
    }

    /** A short keyed hash of the secret: tells repeats of one wrong secret apart from guesses, reveals nothing. */
    private static int fingerprint(HmacKey key, Credentials c) {
        Mac m = key.mac();
        m.update(c.user().getBytes(StandardCharsets.UTF_8));
        m.update((byte) 0);
        byte[] out = m.doFinal(c.secret().getBytes(StandardCharsets.UTF_8));
        return ((out[0] & 0xff) << 24) | ((out[1] & 0xff) << 16) | ((out[2] & 0xff) << 8) | (out[3] & 0xff);
    }

    /** The failures of one key within the window: distinct secrets, newest last, at most {@code max}. */
    private static final class Window {
        private final long[] times;
        private final int[] prints;
        private int start;
        private int size;

        Window(int max) {
            this.times = new long[Math.max(1, max)];
            this.prints = new int[times.length];
        }

        /** Adds a failure at {@code now}; returns the number of distinct failures in the window. */
        int add(long now, long window, int print) {
            // forget what left the window (oldest first)
            while (size > 0 && now - times[start] >= window) {
                start = (start + 1) % times.length;
                size--;
            }
            for (int i = 0; i < size; i++) {
                int at = (start + i) % times.length;
                if (prints[at] == print) {
                    // the same secret again: counted once, from its first time in the window
                    return size;
                }
            }
            if (size == times.length) {
                start = (start + 1) % times.length;
                size--;
            }
            int at = (start + size) % times.length;
            times[at] = now;
            prints[at] = print;
            size++;
            return size;
        }

        void clear() {
            start = 0;
            size = 0;
        }
    }
}
