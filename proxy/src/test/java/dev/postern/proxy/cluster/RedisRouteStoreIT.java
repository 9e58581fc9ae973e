package dev.postern.proxy.cluster;

import static dev.postern.proxy.cluster.ClusterNode.config;
import static dev.postern.proxy.cluster.ClusterNode.table;
import static dev.postern.proxy.cluster.ClusterNode.withUser;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.LocalRouteStore;
import dev.postern.config.RouteStore;
import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared route store on a real redis-server: nodes are stores of their own in this JVM, on one Redis. */
class RedisRouteStoreIT {
    private static final Duration SOON = Duration.ofSeconds(5);

    static Transport transport;
    TestRedis redis;
    final List<ClusterNode> nodes = new ArrayList<>();

    @TempDir
    Path dir;

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
        nodes.forEach(ClusterNode::close);
        redis.close();
    }

    private ClusterNode node(String id, RoutingTable seed) {
        return node(id, LocalRouteStore.inMemory(seed));
    }

    private ClusterNode node(String id, LocalRouteStore local) {
        ClusterNode n = ClusterNode.started(config(redis.address(), id), local, transport);
        nodes.add(n);
        return n;
    }

    @Test
    void theFirstNodeSeedsAnEmptyRedisAndTheNextTakesItsTable() {
        ClusterNode a = node("a", table("10.0.0.1", "alice@example.com"));
        ClusterNode b = node("b", table("10.0.0.2"));

        assertThat(a.metrics.resyncs("seeded")).isEqualTo(1);
        assertThat(b.metrics.resyncs("seeded")).isZero();
        assertThat(b.current()).isEqualTo(a.current());
        assertThat(b.current().routes().users()).containsKey("alice@example.com");
        assertThat(redis.cli("HGET", "postern:routes", "revision")).isEqualTo("1");
        assertThat(redis.cli("HGET", "postern:routes", "node")).isEqualTo("a");
    }

    @Test
    void ofTwoNodesStartingTogetherOnAnEmptyRedisExactlyOneSeeds() {
        ClusterNode a =
                ClusterNode.start(config(redis.address(), "a"), LocalRouteStore.inMemory(table("10.0.0.1")), transport);
        ClusterNode b =
                ClusterNode.start(config(redis.address(), "b"), LocalRouteStore.inMemory(table("10.0.0.2")), transport);
        nodes.add(a);
        nodes.add(b);

        assertThat(a.store.awaitFirstSync(SOON)).isTrue();
        assertThat(b.store.awaitFirstSync(SOON)).isTrue();
        Await.until("both nodes on one table", SOON, () -> a.current().equals(b.current()));
        assertThat(a.metrics.resyncs("seeded") + b.metrics.resyncs("seeded")).isEqualTo(1);
    }

    @Test
    void ofTwoChangesBasedOnTheSameRevisionThroughTwoNodesExactlyOneWins() throws Exception {
        ClusterNode a = node("a", table("10.0.0.1"));
        ClusterNode b = node("b", table("10.0.0.1"));
        ExecutorService admins = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                long revision = a.current().revision();
                Await.until("b at revision " + revision, SOON, () -> b.current().revision() == revision);
                CyclicBarrier together = new CyclicBarrier(2);
                String userA = "a" + round + "@example.com";
                String userB = "b" + round + "@example.com";
                Future<Object> viaA = admins.submit(() -> attempt(together, a, revision, userA));
                Future<Object> viaB = admins.submit(() -> attempt(together, b, revision, userB));
                List<Object> outcomes = List.of(viaA.get(10, TimeUnit.SECONDS), viaB.get(10, TimeUnit.SECONDS));

                assertThat(outcomes).filteredOn(o -> o instanceof RoutingTable).hasSize(1);
                assertThat(outcomes)
                        .filteredOn(o -> o instanceof RouteStore.RevisionConflictException)
                        .hasSize(1);
                RoutingTable winner = (RoutingTable) outcomes.stream()
                        .filter(o -> o instanceof RoutingTable)
                        .findFirst()
                        .orElseThrow();
                assertThat(winner.revision()).isEqualTo(revision + 1);
                Await.until(
                        "both nodes on the winner's table",
                        SOON,
                        () -> a.current().equals(winner) && b.current().equals(winner));
                assertThat(winner.routes().users().containsKey(userA)
                                ^ winner.routes().users().containsKey(userB))
                        .as("exactly one of the two changes is in the table")
                        .isTrue();
            }
        } finally {
            admins.shutdownNow();
        }
    }

    @Test
    void aChangeThroughOneNodeReachesTheOtherNodesSubscribersAtOnce() throws Exception {
        // checks far apart: every change here arrives by its message
        Duration rarely = Duration.ofMinutes(10);
        ClusterNode a = ClusterNode.started(
                config(redis.address(), "a").withTimings(ClusterNode.CONNECT, ClusterNode.COMMAND, rarely),
                LocalRouteStore.inMemory(table("10.0.0.1")),
                transport);
        ClusterNode b = ClusterNode.started(
                config(redis.address(), "b").withTimings(ClusterNode.CONNECT, ClusterNode.COMMAND, rarely),
                LocalRouteStore.inMemory(table("10.0.0.1")),
                transport);
        nodes.addAll(List.of(a, b));
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String user = "user" + i + "@example.com";
            long sent = System.nanoTime();
            RoutingTable written = a.store.update(-1, t -> withUser(t, user));
            long seen =
                    Await.value("b sees revision " + written.revision(), SOON, () -> b.seenAt.get(written.revision()));
            micros.add((seen - sent) / 1000);
            assertThat(b.current().routes().users()).containsKey(user);
        }
        assertThat(b.metrics.resyncs("notified")).isEqualTo(50);

        Collections.sort(micros);
        String report = String.format(
                "cluster propagation, write through node a until node b's subscriber has the table (%d changes,"
                        + " redis-server on loopback, %s):%n  min %.2f ms, median %.2f ms, p90 %.2f ms, max %.2f ms%n",
                micros.size(),
                Instant.now(),
                micros.get(0) / 1000.0,
                micros.get(micros.size() / 2) / 1000.0,
                micros.get(micros.size() * 9 / 10) / 1000.0,
                micros.get(micros.size() - 1) / 1000.0);
        System.out.print(report);
        Files.writeString(Path.of("target", "cluster-propagation.txt"), report);
        assertThat(micros.get(micros.size() - 1)).as("slowest propagation, µs").isLessThan(1_000_000);
    }

    @Test
    void aChangeWhoseMessageWasLostIsFoundByThePeriodicCheck() throws Exception {
        ClusterNode b = node("b", table("10.0.0.1"));
        RoutingTable elsewhere = withUser(b.current(), "lost@example.com")
                .withRevision(b.current().revision() + 1);

        // written as a node would, but without the message on the channel
        redis.cli(
                "HSET",
                "postern:routes",
                "revision",
                Long.toString(elsewhere.revision()),
                "table",
                RoutingJson.write(elsewhere),
                "node",
                "elsewhere");

        Await.until(
                "b takes the revision the check found", SOON, () -> b.current().equals(elsewhere));
        assertThat(b.metrics.resyncs("check")).isEqualTo(1);
        assertThat(b.metrics.resyncs("notified")).isZero();
    }

    @Test
    void whileRedisIsDownTheLastTableAnswersChangesAreRefusedAndWhenItIsBackTheNodesResyncByThemselves()
            throws Exception {
        ClusterNode a = node("a", LocalRouteStore.open(dir.resolve("a.json"), table("10.0.0.1")));
        ClusterNode b = node("b", LocalRouteStore.open(dir.resolve("b.json"), table("10.0.0.1")));
        a.store.update(-1, t -> withUser(t, "before@example.com"));
        Await.until("b at revision 2", SOON, () -> b.current().revision() == 2);
        // b stops; a goes on alone, and Redis keeps a's revision 3 on disk before it goes down
        b.close();
        nodes.remove(b);
        RoutingTable three = a.store.update(-1, t -> withUser(t, "while-b-was-away@example.com"));
        redis.saveAndKill();

        Await.until("a notices redis is down", SOON, () -> !a.store.available());
        assertThat(a.current()).isEqualTo(three);
        assertThatThrownBy(() -> a.store.update(-1, t -> withUser(t, "during@example.com")))
                .isInstanceOfSatisfying(RouteStore.StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown())
                        .isFalse());
        assertThat(a.current()).isEqualTo(three);

        // b restarts while Redis is down: it starts with the last table it saw, from its file
        ClusterNode restarted = ClusterNode.start(
                config(redis.address(), "b"),
                LocalRouteStore.open(dir.resolve("b.json"), table("10.0.0.9")),
                transport);
        nodes.add(restarted);
        assertThat(restarted.store.awaitFirstSync(Duration.ofMillis(200))).isFalse();
        assertThat(restarted.current().revision()).isEqualTo(2);
        assertThat(restarted.current().routes().users()).containsKey("before@example.com");

        redis.restart();

        Await.until("a reconnects", SOON, () -> a.store.available());
        Await.until("b takes revision 3", SOON, () -> restarted.current().equals(three));
        // at its connect, or at the next check when Redis was still loading its data then
        assertThat(restarted.metrics.resyncs("connect") + restarted.metrics.resyncs("check"))
                .isEqualTo(1);
        assertThat(a.metrics.reconnects.get()).isPositive();
        RoutingTable four = a.store.update(3, t -> withUser(t, "after@example.com"));
        Await.until("b takes revision 4", SOON, () -> restarted.current().equals(four));
        assertThat(RoutingJson.read(Files.readString(dir.resolve("b.json")))).isEqualTo(four);
    }

    @Test
    void aRedisThatLostItsDataIsSeededAgainByOneNode() throws Exception {
        ClusterNode a = node("a", table("10.0.0.1"));
        ClusterNode b = node("b", table("10.0.0.1"));
        RoutingTable two = a.store.update(-1, t -> withUser(t, "kept@example.com"));
        Await.until("b at revision 2", SOON, () -> b.current().equals(two));

        redis.kill();
        Await.until("both notice", SOON, () -> !a.store.available() && !b.store.available());
        redis.restart();

        Await.until("redis seeded again", SOON, () -> redis.cli("HGET", "postern:routes", "revision")
                .equals("2"));
        Await.until("both reconnected", SOON, () -> a.store.available() && b.store.available());
        assertThat(a.metrics.resyncs("seeded") + b.metrics.resyncs("seeded")).isEqualTo(2);
        assertThat(a.current()).isEqualTo(two);
        assertThat(b.current()).isEqualTo(two);
        RoutingTable three = b.store.update(2, t -> withUser(t, "next@example.com"));
        Await.until("a at revision 3", SOON, () -> a.current().equals(three));
    }

    @Test
    void theKeyPrefixKeepsTwoClustersOnOneRedisApart() throws Exception {
        ClusterNode one = ClusterNode.started(
                config(redis.address(), "one-a").withKeyPrefix("one:"),
                LocalRouteStore.inMemory(table("10.0.1.1")),
                transport);
        ClusterNode two = ClusterNode.started(
                config(redis.address(), "two-a").withKeyPrefix("two:"),
                LocalRouteStore.inMemory(table("10.0.2.1")),
                transport);
        ClusterNode oneB = ClusterNode.started(
                config(redis.address(), "one-b").withKeyPrefix("one:"),
                LocalRouteStore.inMemory(table("10.0.9.9")),
                transport);
        nodes.addAll(List.of(one, two, oneB));

        RoutingTable changed = one.store.update(-1, t -> withUser(t, "only-in-one@example.com"));
        Await.until("the other node of cluster one has it", SOON, () -> oneB.current()
                .equals(changed));
        int checks = two.metrics.revisionChecks.get();
        Await.until(
                "cluster two checked its revision twice more",
                SOON,
                () -> two.metrics.revisionChecks.get() >= checks + 2);

        assertThat(two.current().revision()).isEqualTo(1);
        assertThat(two.current().pools().get(0).backends().get(0).host()).isEqualTo("10.0.2.1");
        assertThat(oneB.current().pools().get(0).backends().get(0).host()).isEqualTo("10.0.1.1");
        assertThat(redis.cli("--scan").lines().sorted().toList()).containsExactly("one:routes", "two:routes");
    }

    private static Object attempt(CyclicBarrier together, ClusterNode node, long revision, String user) {
        try {
            together.await(5, TimeUnit.SECONDS);
            return node.store.update(revision, t -> withUser(t, user));
        } catch (RouteStore.RevisionConflictException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
