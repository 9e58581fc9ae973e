package dev.postern.proxy.auth;

import static dev.postern.proxy.auth.Requests.login;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.PosternConfig;
import dev.postern.config.ThrottleConfig;
import dev.postern.testkit.FakeTicker;
import org.junit.jupiter.api.Test;

/** A listener without a throttle section is throttled with the documented defaults (secure by default). */
class ThrottleByDefaultTest {
    private static final String LISTENER =
            """
            listeners:
              - name: imap
                protocol: imap
                bind: 127.0.0.1:1143
                pool: dovecot
            pools:
              - name: dovecot
                backends:
                  - address: 127.0.0.1:2143
            """;

    private final FakeTicker ticker = new FakeTicker();

    @Test
    void aListenerWithoutAThrottleSectionRefusesTheSixthGuessFromOneAddress() throws Exception {
        PosternConfig config = ConfigLoader.parse(LISTENER);
        assertThat(config.listener("imap").orElseThrow().throttled()).isTrue();
        LoginThrottle throttle = new LoginThrottle(config.auth().throttle().orElseThrow(), ticker::read, Runnable::run);

        for (int i = 1; i <= 5; i++) {
            assertThat(throttle.blocked(login("alice", "guess" + i)))
                    .as("guess %d is answered", i)
                    .isNull();
            assertThat(throttle.failed(login("alice", "guess" + i))).isEqualTo(ThrottleConfig.DEFAULTS.delay(i));
        }

        assertThat(throttle.blocked(login("alice", "guess6"))).isEqualTo(LoginThrottle.USER_ADDRESS);
    }

    @Test
    void throttleOffLeavesNoThrottle() throws Exception {
        assertThat(ConfigLoader.parse("auth: {throttle: off}\n" + LISTENER)
                        .auth()
                        .throttle())
                .isEmpty();
        assertThat(ConfigLoader.parse(LISTENER.replace("pool: dovecot\n", "pool: dovecot\n    throttle: off\n"))
                        .listener("imap")
                        .orElseThrow()
                        .throttled())
                .isFalse();
    }
}
