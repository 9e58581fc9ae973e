package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Cidr;
import dev.postern.config.ThrottleConfig;
import dev.postern.testkit.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The throttle of a cluster's node against an in-JVM store ({@link FakeSharedFailures}) on a fake clock: the counts
 * come from the store, the blocks it reports are kept and checked in memory, and when it cannot count the node
 * counts alone from what it saw.
 */
class LoginThrottleSharedTest {
    private final FakeTicker ticker = new FakeTicker();
    private final FakeSharedFailures store = new FakeSharedFailures();

    private LoginThrottle node(int perAddress, int perUser, int perPair) {
        return new LoginThrottle(
                new ThrottleConfig(
                        Duration.ofMinutes(15),
                        64,
                        perAddress,
                        perUser,
                        perPair,
                        Duration.ofMinutes(10),
                        ThrottleConfig.DEFAULTS.delays(),
                        List.of(Cidr.parse("10.0.0.0/8")),
                        1000),
                ticker::read,
                Runnable::run,
                store);
    }

    private static Duration fail(LoginThrottle t, AuthRequest r) {
        CompletableFuture<Duration> f = t.fail(r).toCompletableFuture();
        assertThat(f).as("answered without waiting on anything but the store").isDone();
        return f.join();
    }

    @Test
    void failuresSpreadOverThreeNodesTripTheUserLimitAtTheCountOfOneNode() {
        List<LoginThrottle> nodes = List.of(node(100, 6, 100), node(100, 6, 100), node(100, 6, 100));
        for (int i = 1; i < 6; i++) {
            fail(nodes.get(i % 3), login("alice", "guess" + i, "192.0.2." + i));
            for (LoginThrottle n : nodes) {
                assertThat(n.blocked(login("alice", "x", "198.51.100.1")))
                        .as("after %d failures", i)
                        .isNull();
            }
        }
        fail(nodes.get(0), login("alice", "guess6", "192.0.2.6"));

        for (LoginThrottle n : nodes) {
            assertThat(n.blocked(login("alice", "x", "198.51.100.1"))).isEqualTo(LoginThrottle.USER);
        }
    }

    @Test
    void aBlockIsCheckedInMemoryWithoutAskingTheStore() {
        LoginThrottle t = node(100, 100, 2);
        fail(t, login("alice", "g1"));
        fail(t, login("alice", "g2"));
        int calls = store.calls.size();

        for (int i = 0; i < 50; i++) {
            assertThat(t.blocked(login("alice", "right"))).isEqualTo(LoginThrottle.USER_ADDRESS);
            assertThat(t.blocked(login("bob", "right"))).isNull();
        }

        assertThat(store.calls).hasSize(calls);
    }

    @Test
    void theDelayFollowsTheSharedCountOfThePair() {
        LoginThrottle a = node(100, 100, 100);
        LoginThrottle b = node(100, 100, 100);

        assertThat(fail(a, login("alice", "g1"))).isEqualTo(Duration.ofSeconds(1));
        assertThat(fail(b, login("alice", "g2"))).isEqualTo(Duration.ofSeconds(2));
        assertThat(fail(a, login("alice", "g3"))).isEqualTo(Duration.ofSeconds(4));
        assertThat(fail(b, login("alice", "g3"))).as("the same secret again").isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aBlockHeardFromAnotherNodeRefusesHereUntilItsTimeIsUp() {
        LoginThrottle t = node(100, 100, 100);
        ThrottleIds ids = ThrottleIds.of("192.0.2.10", "alice");
        store.broadcast(
                new SharedFailures.Block(LoginThrottle.ADDRESS, ids.address(), Duration.ofMinutes(3), Map.of()));

        assertThat(t.blocked(login("bob", "x"))).isEqualTo(LoginThrottle.ADDRESS);
        ticker.advance(Duration.ofMinutes(3).minusSeconds(1));
        assertThat(t.blocked(login("carol", "x"))).isEqualTo(LoginThrottle.ADDRESS);
        ticker.advance(Duration.ofSeconds(1));
        assertThat(t.blocked(login("carol", "x")))
                .as("its remaining time is up")
                .isNull();
        assertThat(store.calls).isEmpty();
    }

    @Test
    void aBlockedUserStillLogsInFromWhereTheyDidOnAnyNode() {
        LoginThrottle a = node(100, 3, 100);
        LoginThrottle b = node(100, 3, 100);
        a.succeeded(login("alice", "right", "192.0.2.50"));
        fail(b, login("alice", "g1", "203.0.113.1"));
        fail(b, login("alice", "g2", "203.0.113.2"));
        fail(a, login("alice", "g3", "203.0.113.3"));

        assertThat(b.blocked(login("alice", "right", "203.0.113.4"))).isEqualTo(LoginThrottle.USER);
        assertThat(b.blocked(login("alice", "right", "192.0.2.50")))
                .as("b never saw her log in from there; the block's broadcast said it")
                .isNull();
        assertThat(a.blocked(login("alice", "right", "192.0.2.50"))).isNull();
    }

    @Test
    void whileTheStoreIsUnavailableANodeCountsAloneAtOnceAndSaysSo() {
        LoginThrottle t = node(100, 100, 3);
        store.available = false;

        assertThat(fail(t, login("alice", "g1"))).isEqualTo(Duration.ofSeconds(1));
        fail(t, login("alice", "g2"));
        assertThat(t.blocked(login("alice", "x"))).isNull();
        fail(t, login("alice", "g3"));

        assertThat(t.blocked(login("alice", "x"))).isEqualTo(LoginThrottle.USER_ADDRESS);
        assertThat(t.blocked(login("bob", "x"))).as("logins go on").isNull();
        assertThat(store.calls).isEmpty();
        assertThat(t.fallbacks()).isEqualTo(3);
        assertThat(t.failures()).isEqualTo(3);
    }

    @Test
    void withoutTheClustersFingerprintKeyANodeCountsAlone() {
        LoginThrottle t = node(100, 100, 3);
        store.key = null;

        fail(t, login("alice", "g1"));

        assertThat(store.calls).isEmpty();
        assertThat(t.fallbacks()).isEqualTo(1);
    }

    @Test
    void aFailureTheStoreDidNotCountIsCountedHereWithTheOnesThisNodeSawBefore() {
        LoginThrottle t = node(100, 100, 4);
        fail(t, login("alice", "g1"));
        fail(t, login("alice", "g2"));
        fail(t, login("alice", "g3"));
        assertThat(t.fallbacks()).isZero();
        store.mode = FakeSharedFailures.Mode.FAIL;

        assertThat(fail(t, login("alice", "g4")))
                .as("the 4th failure this node saw")
                .isEqualTo(Duration.ofSeconds(8));

        assertThat(t.blocked(login("alice", "x"))).isEqualTo(LoginThrottle.USER_ADDRESS);
        assertThat(t.fallbacks()).isEqualTo(1);
    }

    @Test
    void whileTheStoreCountsTheNodesOwnCountsNeverBlock() {
        LoginThrottle t = node(100, 100, 2);
        LoginThrottle other = node(100, 100, 2);
        // the store's count is cleared by a success through the other node; this node still counts 2
        fail(t, login("alice", "g1"));
        other.succeeded(login("alice", "right"));
        fail(t, login("alice", "g2"));

        assertThat(t.blocked(login("alice", "x"))).as("the store counts 1").isNull();
    }

    @Test
    void whenTheStoreIsBackTheNodeCountsThereAgainAndItsOwnBlocksRunOut() {
        LoginThrottle t = node(100, 100, 2);
        store.available = false;
        fail(t, login("alice", "g1"));
        fail(t, login("alice", "g2"));
        assertThat(t.blocked(login("alice", "x"))).isEqualTo(LoginThrottle.USER_ADDRESS);
        store.available = true;

        fail(t, login("bob", "g1"));
        assertThat(store.failedCalls()).isEqualTo(1);
        assertThat(t.blocked(login("alice", "x")))
                .as("a block made alone lasts its time")
                .isEqualTo(LoginThrottle.USER_ADDRESS);
        ticker.advance(Duration.ofMinutes(10));
        assertThat(t.blocked(login("alice", "x"))).isNull();
    }

    @Test
    void aSuccessIsToldToTheStoreWhenItIsThereAndNeverWaitedFor() {
        LoginThrottle t = node(100, 100, 3);
        t.succeeded(login("alice", "right"));
        store.available = false;
        t.succeeded(login("alice", "right"));

        assertThat(store.calls).containsExactly("succeeded");
    }

    @Test
    void theStoreSeesHashesAndShortFingerprintsOnly() {
        LoginThrottle a = node(100, 100, 100);
        LoginThrottle b = node(100, 100, 100);
        fail(a, login("Alice", "old-password"));
        fail(b, login("Alice", "old-password"));
        fail(a, login("alice", "new-guess"));

        ThrottleIds ids = store.failedIds.get(0);
        assertThat(List.of(ids.address(), ids.user(), ids.pair()))
                .allSatisfy(id -> assertThat(id).matches("[0-9a-f]{32}"))
                .doesNotHaveDuplicates();
        assertThat(store.failedIds.get(2))
                .as("user names are counted in lower case")
                .isEqualTo(ids);
        assertThat(store.prints).allSatisfy(p -> assertThat(p).matches("[0-9a-f]{4}"));
        assertThat(store.prints.get(1))
                .as("one secret, one fingerprint, whichever node")
                .isEqualTo(store.prints.get(0));
        assertThat(ThrottleIds.of("192.0.2.10", "alice")).isEqualTo(ids);
    }

    @Test
    void trustedNetworksNeverReachTheStore() {
        LoginThrottle t = node(1, 1, 1);

        assertThat(fail(t, login("alice", "g", "10.1.2.3"))).isZero();
        t.succeeded(login("alice", "right", "10.1.2.3"));

        assertThat(store.calls).isEmpty();
    }
}
