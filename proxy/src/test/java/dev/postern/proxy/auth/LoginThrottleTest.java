package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Cidr;
import dev.postern.config.ThrottleConfig;
import dev.postern.testkit.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Throttling sequences on a fake clock. */
class LoginThrottleTest {
    private final FakeTicker ticker = new FakeTicker();

    private LoginThrottle throttle(int perAddress, int perUser, int perPair) {
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
                Runnable::run);
    }

    @Test
    void eachFailureWaitsLongerUpToTheCap() {
        LoginThrottle t = throttle(100, 100, 100);
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            delays.add(t.failed(login("alice", "guess" + i)).toSeconds());
        }

        assertThat(delays).containsExactly(1L, 2L, 4L, 8L, 15L, 15L, 15L);
    }

    @Test
    void pastTheThresholdTheUserFromThatAddressIsRefusedForTheBlockTime() {
        LoginThrottle t = throttle(100, 100, 5);
        for (int i = 0; i < 4; i++) {
            t.failed(login("alice", "guess" + i));
            assertThat(t.blocked(login("alice", "x"))).isNull();
        }
        t.failed(login("alice", "guess4"));

        assertThat(t.blocked(login("alice", "right"))).isEqualTo(LoginThrottle.USER_ADDRESS);
        assertThat(t.blocked(login("alice", "right", "192.0.2.99")))
                .as("another address")
                .isNull();
        assertThat(t.blocked(login("bob", "x"))).as("another user").isNull();
        ticker.advance(Duration.ofMinutes(10));
        assertThat(t.blocked(login("alice", "right"))).as("the block ended").isNull();
        assertThat(t.failed(login("alice", "guess5")))
                .as("counting starts afresh")
                .isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void anAddressTryingManyUsersIsRefused() {
        LoginThrottle t = throttle(3, 100, 100);
        t.failed(login("a", "x"));
        t.failed(login("b", "x"));
        assertThat(t.failed(login("c", "x"))).as("each user's first failure").isEqualTo(Duration.ofSeconds(1));

        assertThat(t.blocked(login("d", "x"))).isEqualTo(LoginThrottle.ADDRESS);
    }

    @Test
    void ipv6ClientsAreCountedByPrefix() {
        LoginThrottle t = throttle(2, 100, 100);
        t.failed(login("a", "x", "2001:db8:1:2::1"));
        t.failed(login("b", "x", "2001:db8:1:2:ffff::9"));

        assertThat(t.blocked(login("c", "x", "2001:db8:1:2::77"))).isEqualTo(LoginThrottle.ADDRESS);
        assertThat(t.blocked(login("c", "x", "2001:db8:1:3::1")))
                .as("another /64")
                .isNull();
    }

    @Test
    void aUserUnderAttackCanStillLogInFromWhereTheyDidBefore() {
        LoginThrottle t = throttle(100, 3, 100);
        t.succeeded(login("alice", "right", "192.0.2.50"));
        t.failed(login("alice", "g1", "203.0.113.1"));
        t.failed(login("alice", "g2", "203.0.113.2"));
        t.failed(login("alice", "g3", "203.0.113.3"));

        assertThat(t.blocked(login("alice", "right", "203.0.113.4"))).isEqualTo(LoginThrottle.USER);
        assertThat(t.blocked(login("alice", "right", "192.0.2.50"))).isNull();
    }

    @Test
    void theSameWrongPasswordAgainCountsOnce() {
        LoginThrottle t = throttle(100, 100, 3);
        for (int i = 0; i < 10; i++) {
            assertThat(t.failed(login("alice", "old-password"))).isEqualTo(Duration.ofSeconds(1));
        }

        assertThat(t.blocked(login("alice", "right"))).isNull();
    }

    @Test
    void failuresLeaveTheSlidingWindow() {
        LoginThrottle t = throttle(100, 100, 3);
        t.failed(login("alice", "g1"));
        ticker.advance(Duration.ofMinutes(10));
        t.failed(login("alice", "g2"));
        ticker.advance(Duration.ofMinutes(6));

        assertThat(t.failed(login("alice", "g3"))).as("g1 left the window").isEqualTo(Duration.ofSeconds(2));
        assertThat(t.blocked(login("alice", "x"))).isNull();
    }

    @Test
    void aSuccessClearsTheUserAndAddressCount() {
        LoginThrottle t = throttle(100, 100, 3);
        t.failed(login("alice", "typo1"));
        t.failed(login("alice", "typo2"));
        t.succeeded(login("alice", "right"));

        assertThat(t.failed(login("alice", "typo3"))).isEqualTo(Duration.ofSeconds(1));
        assertThat(t.blocked(login("alice", "x"))).isNull();
    }

    @Test
    void trustedNetworksAreNeverCountedDelayedOrRefused() {
        LoginThrottle t = throttle(1, 1, 1);
        for (int i = 0; i < 5; i++) {
            assertThat(t.failed(login("alice", "g" + i, "10.1.2.3"))).isZero();
        }

        assertThat(t.blocked(login("alice", "x", "10.1.2.3"))).isNull();
        assertThat(t.blocked(login("alice", "x", "192.0.2.10")))
                .as("nothing was counted for alice")
                .isNull();
        assertThat(t.blocked(login("alice", "x", "::ffff:10.9.9.9"))).isNull();
    }
}
