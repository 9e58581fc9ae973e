package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ThrottleConfig;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throttling on by default, end to end: two IMAP listeners of one Postern in front of the real Dovecot, neither with a
 * {@code throttle} section in the configuration, one with {@code throttle: off}. Python's imaplib guesses Alice's
 * password: on the default listener the answers slow down and after the default count of guesses even her right
 * password gets {@code NO [UNAVAILABLE]}; on the other, guesses are answered at once and her password still works.
 */
class ThrottleEndToEndIT {
    /** Guesses in parallel threads (the delays overlap), then the right password; one line per answer. */
    private static final String GUESSES =
            """
            import imaplib, sys, threading, time
            host, port, user, password, guesses, parallel = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \\
                int(sys.argv[5]), sys.argv[6] == 'parallel'
            def login(secret):
                m = imaplib.IMAP4(host, port, timeout=60)
                start = time.monotonic()
                try:
                    m.login(user, secret)
                    answer = 'OK'
                    m.logout()
                except imaplib.IMAP4.error as e:
                    answer = 'NO ' + str(e)
                    m.shutdown()
                return answer, time.monotonic() - start
            lines = []
            def guess(i):
                answer, took = login('guess-%d' % i)
                lines.append('guess %.3f %s' % (took, answer))
            if parallel:
                threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
                for t in threads: t.start()
                for t in threads: t.join()
            else:
                for i in range(guesses): guess(i)
            answer, took = login(password)
            lines.append('right %.3f %s' % (took, answer))
            print('\\n'.join(lines))
            """;

    @TempDir
    static Path dir;

    static PosternHarness postern;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        TestUsers.write(dir);
        postern = PosternHarness.start(
                TestUsers.AUTH_SECTION
                        + """
                        listeners:
                          - {name: default, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                             pool: dovecot, auth: [local]}
                          - {name: webmail, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                             pool: dovecot, auth: [local], throttle: off}
                        pools:
                          - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                        """
                                .formatted(FreePorts.next(), FreePorts.next(), DevBackends.IMAP),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static List<String> guess(String listener, int guesses, boolean parallel) {
        Processes.Result r = Processes.python(
                Duration.ofSeconds(120),
                GUESSES,
                "127.0.0.1",
                "" + postern.port(listener),
                DevBackends.ALICE,
                DevBackends.ALICE_PASSWORD,
                "" + guesses,
                parallel ? "parallel" : "serial");
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout().lines().toList();
    }

    private static double seconds(String line) {
        return Double.parseDouble(line.split(" ")[1]);
    }

    @Test
    void theDefaultListenerBlocksAfterTheDefaultCountWhileTheThrottleOffListenerDoesNot() {
        int count = ThrottleConfig.DEFAULTS.maxFailuresPerUserAddress();
        List<String> throttled = guess("default", count, true);

        List<String> failures = throttled.subList(0, count);
        assertThat(failures).allSatisfy(line -> assertThat(line).contains("AUTHENTICATIONFAILED"));
        double firstDelay = ThrottleConfig.DEFAULTS.delay(1).toMillis() / 1000.0;
        assertThat(failures)
                .as("every failure answered after the throttle's delay")
                .allSatisfy(line -> assertThat(seconds(line)).isGreaterThanOrEqualTo(firstDelay));
        assertThat(throttled.get(count))
                .as("past the default count even the right password is refused for now")
                .startsWith("right")
                .contains("UNAVAILABLE");

        // the same user from the same address, on the listener left out
        List<String> free = guess("webmail", count + 2, false);
        assertThat(free.subList(0, count + 2))
                .allSatisfy(line -> assertThat(line).contains("AUTHENTICATIONFAILED"));
        assertThat(free.subList(0, count + 2).stream()
                        .mapToDouble(ThrottleEndToEndIT::seconds)
                        .sum())
                .as("no delay: all the guesses together took less than the throttle's first delays")
                .isLessThan(firstDelay * count);
        assertThat(free.get(count + 2))
                .as("her password still works")
                .startsWith("right")
                .endsWith(" OK");
    }
}
