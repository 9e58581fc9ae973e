package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The auth service slow, then down, under logins through Postern to Dovecot (imaplib): a user Postern accepted before
 * is served from the stale cache entry (stale-if-error), anyone else gets the temporary failure, and no login waits
 * longer than the provider's timeout.
 */
class AuthServiceFaultsIT {
    @TempDir
    static Path dir;

    private static NginxAuthService auth;
    private static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        auth = NginxAuthService.start()
                .user(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)
                .user(DevBackends.BOB, DevBackends.BOB_PASSWORD)
                .route("127.0.0.1", DevBackends.IMAP);
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot,
                     auth: [svc]}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                auth:
                  providers:
                    - {name: svc, type: http, url: "%s", timeout: 1s}
                  cache: {ttl: 1s, negative-ttl: 1s, refresh-after: 0s, stale-if-error: 1h}
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP, auth.url());
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        auth.close();
    }

    /** Logs in once; prints "OK" or the refusal, and the seconds it took. */
    private static String login(String user, String password) {
        Processes.Result r = Processes.python(
                Duration.ofSeconds(60),
                """
                import imaplib, sys, time
                m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
                t = time.monotonic()
                try:
                    print(m.login(sys.argv[2], sys.argv[3])[0], end=" ")
                    m.logout()
                except imaplib.IMAP4.error as e:
                    print(str(e), end=" ")
                print("%.1fs" % (time.monotonic() - t))
                """,
                String.valueOf(postern.port("imap")),
                user,
                password);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().trim();
    }

    private static void afterTheTtl() {
        long end = System.nanoTime() + 1_200_000_000L;
        Await.until("the cache entries are older than their ttl", Duration.ofSeconds(5), () -> System.nanoTime() > end);
    }

    @Test
    void aSlowThenDeadServiceServesKnownUsersStaleAndOthersATemporaryFailureWithoutHanging() {
        assertThat(login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK ");

        auth.delay = Duration.ofSeconds(5);
        afterTheTtl();
        assertThat(login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).matches("OK [0-2]\\.\\ds");
        assertThat(login(DevBackends.BOB, DevBackends.BOB_PASSWORD)).matches(".*UNAVAILABLE.* [0-2]\\.\\ds");
        assertThat(login(DevBackends.ALICE, "wrong-pw")).matches(".*UNAVAILABLE.* [0-2]\\.\\ds");

        auth.close();
        afterTheTtl();
        assertThat(login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).matches("OK [0-2]\\.\\ds");
        assertThat(login(DevBackends.BOB, DevBackends.BOB_PASSWORD)).matches(".*UNAVAILABLE.* [0-2]\\.\\ds");
    }
}
