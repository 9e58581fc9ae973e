package dev.postern.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.Protocol;
import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.LoginThrottle;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The throttle of three nodes (three clients, stores and throttles in this JVM) on one real redis-server: failures
 * spread over the nodes meet the limits of one, every node refuses what one blocked, and with Redis gone each node
 * counts alone until it is back.
 */
class RedisThrottleStoreIT {
    private static final Duration SOON = Duration.ofSeconds(5);

    static Transport transport;
    TestRedis redis;
    final List<Node> nodes = new ArrayList<>();

    /** One node: its connection, the shared counters over it, and its throttle. */
    record Node(ClusterClient client, RedisThrottleStore store, LoginThrottle throttle) {}

    @BeforeAll
    static void startTransport() {
        transport = Transport.create(1, true);
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    @BeforeEach
    void startRedis() {
        redis = TestRedis.start();
    }

    @AfterEach
    void stop() {
        nodes.forEach(n -> n.client().close());
        redis.close();
    }

    static ThrottleConfig limits(int perAddress, int perUser, int perPair) {
        return new ThrottleConfig(
                Duration.ofMinutes(15),
                64,
                perAddress,
                perUser,
                perPair,
                Duration.ofMinutes(10),
                List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4)),
                List.of(),
                1000);
    }

    private List<Node> cluster(int size, ThrottleConfig limits) {
        for (int i = 0; i < size; i++) {
            String id = "n" + (i + 1);
            ClusterClient client = ClusterClient.start(
                    ClusterNode.config(redis.address(), id), id, transport, new ClusterNode.Counted());
            RedisThrottleStore store = RedisThrottleStore.start(client);
            nodes.add(new Node(client, store, new LoginThrottle(limits, Ticker.systemTicker(), Runnable::run, store)));
        }
        Await.until("every node counts in redis", SOON, () -> nodes.stream()
                .allMatch(n -> n.store().available()));
        return List.copyOf(nodes);
    }

    static AuthRequest login(String user, String password, String address) {
        return new AuthRequest(
                Credentials.password(SaslMechanism.PLAIN, user, password),
                Protocol.IMAP,
                "imap",
                new InetSocketAddress(address, 50123),
                new InetSocketAddress("198.51.100.1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256",
                1,
                "s1",
                null);
    }

    static Duration fail(LoginThrottle t, AuthRequest r) {
        try {
            return t.fail(r).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The failures (each from another address), through {@code nodes} in turn, after which the node that counted the
     * last one refuses the user; no node refuses before.
     */
    private static int failuresUntilTheUserIsRefused(List<LoginThrottle> nodes, int max) {
        AuthRequest probe = login("alice", "right", "198.51.100.1");
        for (int i = 1; i <= max + 1; i++) {
            for (LoginThrottle n : nodes) {
                assertThat(n.blocked(probe)).as("before failure %d", i).isNull();
            }
            LoginThrottle next = nodes.get(i % nodes.size());
            fail(next, login("alice", "guess" + i, "203.0.113." + i));
            // the node that counted it knows from the answer; the others hear of it by broadcast, just after
            if (next.blocked(probe) != null) {
                return i;
            }
        }
        return max + 1;
    }

    @Test
    void failuresSpreadOverThreeNodesTripThePerUserLimitAtTheCountOfOneNode() {
        ThrottleConfig limits = limits(100, 7, 100);
        int alone = failuresUntilTheUserIsRefused(
                List.of(new LoginThrottle(limits, Ticker.systemTicker(), Runnable::run)), 7);
        List<Node> three = cluster(3, limits);

        int together =
                failuresUntilTheUserIsRefused(three.stream().map(Node::throttle).toList(), 7);

        assertThat(alone).isEqualTo(7);
        assertThat(together).isEqualTo(alone);
        for (Node n : three) {
            Await.until(
                    n.client().nodeId() + " refuses alice",
                    SOON,
                    () -> LoginThrottle.USER.equals(n.throttle().blocked(login("alice", "right", "198.51.100.200"))));
            assertThat(n.throttle().blocked(login("bob", "right", "198.51.100.200")))
                    .isNull();
            assertThat(n.throttle().fallbacks()).isZero();
        }
    }

    @Test
    void theDelaysAndTheRepeatsOfOneSecretAreTheSameThroughThreeNodesAsThroughOne() {
        ThrottleConfig limits = limits(100, 100, 5);
        LoginThrottle one = new LoginThrottle(limits, Ticker.systemTicker(), Runnable::run);
        List<Node> three = cluster(3, limits);
        List<String> secrets = List.of("old-password", "old-password", "guess1", "old-password", "guess2", "guess3");
        List<Duration> alone = new ArrayList<>();
        List<Duration> together = new ArrayList<>();

        for (int i = 0; i < secrets.size(); i++) {
            alone.add(fail(one, login("alice", secrets.get(i), "192.0.2.10")));
            together.add(fail(three.get(i % 3).throttle(), login("alice", secrets.get(i), "192.0.2.10")));
        }

        assertThat(together).isEqualTo(alone);
        assertThat(together)
                .containsExactly(
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(4),
                        Duration.ofSeconds(4));
        assertThat(three.get(0).throttle().blocked(login("alice", "x", "192.0.2.10")))
                .isNull();
    }

    @Test
    void aBlockedUserStillLogsInThroughAnyNodeFromWhereTheyDidThroughOne() {
        List<Node> three = cluster(3, limits(100, 3, 100));
        three.get(0).throttle().succeeded(login("alice", "right", "192.0.2.50"));
        Await.until("the good address is in redis", SOON, () -> !redis.cli("KEYS", "postern:throttle:good:*")
                .isEmpty());
        for (int i = 1; i <= 3; i++) {
            fail(three.get(i % 3).throttle(), login("alice", "guess" + i, "203.0.113." + i));
        }

        for (Node n : three) {
            Await.until(
                    n.client().nodeId() + " refuses alice from elsewhere",
                    SOON,
                    () -> LoginThrottle.USER.equals(n.throttle().blocked(login("alice", "right", "203.0.113.9"))));
            assertThat(n.throttle().blocked(login("alice", "right", "192.0.2.50")))
                    .isNull();
        }
    }

    @Test
    void redisHoldsNoUserNameOrAddressInAKeyOrMessage() {
        List<Node> two = cluster(2, limits(100, 100, 2));
        redis.cli("CONFIG", "SET", "notify-keyspace-events", "");
        fail(two.get(0).throttle(), login("alice@example.com", "g1", "192.0.2.77"));
        fail(two.get(1).throttle(), login("alice@example.com", "g2", "192.0.2.77"));
        two.get(0).throttle().succeeded(login("alice@example.com", "right", "192.0.2.78"));
        Await.until("the success is in", SOON, () -> redis.cli("KEYS", "postern:throttle:good:*")
                .contains("good"));

        String keys = redis.cli("KEYS", "*");
        assertThat(keys).contains("postern:throttle:blocked:p:", "postern:throttle:fingerprint-key");
        assertThat(keys).doesNotContain("alice", "example", "192.0.2");
        assertThat(keys.lines()).allSatisfy(k -> assertThat(k).startsWith("postern:"));
        String window = keys.lines()
                .filter(k -> k.startsWith("postern:throttle:a:"))
                .findFirst()
                .orElseThrow();
        assertThat(redis.cli("ZRANGE", window, "0", "-1")).matches("(?s)[0-9a-f]{4}\\n[0-9a-f]{4}");
    }

    @Test
    void withRedisGoneEachNodeCountsAloneAndLoginsGoOnAndWhenItIsBackTheyCountTogetherAgain() {
        List<Node> three = cluster(3, limits(100, 100, 3));
        Node a = three.get(0);
        Node b = three.get(1);
        fail(a.throttle(), login("alice", "g1", "192.0.2.10"));

        redis.kill();
        Await.until("every node sees redis gone", SOON, () -> three.stream()
                .noneMatch(n -> n.store().available()));
        long start = System.nanoTime();
        fail(a.throttle(), login("alice", "g2", "192.0.2.10"));
        fail(a.throttle(), login("alice", "g3", "192.0.2.10"));
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("counted alone at once")
                .isLessThan(Duration.ofMillis(200));

        assertThat(a.throttle().blocked(login("alice", "x", "192.0.2.10")))
                .as("a's own three failures")
                .isEqualTo(LoginThrottle.USER_ADDRESS);
        assertThat(b.throttle().blocked(login("alice", "x", "192.0.2.10")))
                .as("b heard nothing")
                .isNull();
        assertThat(b.throttle().blocked(login("bob", "x", "192.0.2.11"))).isNull();
        assertThat(a.throttle().fallbacks()).isEqualTo(2);

        redis.restart();
        Await.until("every node counts in redis again", SOON, () -> three.stream()
                .allMatch(n -> n.store().available()));
        for (int i = 1; i <= 3; i++) {
            fail(three.get(i % 3).throttle(), login("carol", "g" + i, "192.0.2.20"));
        }
        for (Node n : three) {
            Await.until(
                    n.client().nodeId() + " refuses carol",
                    SOON,
                    () -> LoginThrottle.USER_ADDRESS.equals(n.throttle().blocked(login("carol", "x", "192.0.2.20"))));
        }
        assertThat(a.throttle().fallbacks()).isEqualTo(2);
        assertThat(b.throttle().fallbacks()).isZero();
    }

    @Test
    void aFailureCostsOneRoundTrip() {
        Node n = cluster(1, limits(1000, 1000, 1000)).get(0);
        // warm: the JIT, and the script loaded (the first call is EVALSHA, NOSCRIPT, then EVAL)
        for (int i = 0; i < 2000; i++) {
            fail(n.throttle(), login("warm" + (i % 100), "g" + i, "192.0.2." + (i % 250)));
        }
        int count = 1000;
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            fail(n.throttle(), login("user" + (i % 100), "guess" + i, "198.51.100." + (i % 250)));
        }
        long perFailure = (System.nanoTime() - start) / count;
        start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            n.client().command("ping", c -> c.ping()).join();
        }
        long perPing = (System.nanoTime() - start) / count;

        String stats = redis.cli("INFO", "commandstats");
        String evalsha = stats.lines()
                .filter(l -> l.startsWith("cmdstat_evalsha:"))
                .findFirst()
                .orElseThrow();
        System.out.printf(
                "RedisThrottleStoreIT: %d failures one after the other: %.1f us per failure; a PING: %.1f us;"
                        + " in redis: %s%n",
                count, perFailure / 1000.0, perPing / 1000.0, evalsha);
        assertThat(perFailure).isLessThan(Duration.ofMillis(50).toNanos());
    }
}
