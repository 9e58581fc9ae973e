package dev.postern.proxy.health;

import static dev.postern.proxy.health.HealthCheckTesting.backend;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.HealthChecker;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A backend that greets but refuses logins is taken out after {@code fall} checks, and back after {@code rise}. */
class RiseAndFallTest {
    private final Transport transport = Transport.create(1, true);
    private final HealthCheckTesting.RecordingMetrics metrics = new HealthCheckTesting.RecordingMetrics();
    private final AtomicBoolean loginsWork = new AtomicBoolean(false);
    private final FakeLineBackend fake = FakeLineBackend.builder()
            .tagged()
            .greeting("* OK [CAPABILITY IMAP4rev1] fake ready")
            .on(
                    "LOGIN",
                    (c, line) -> c.send(c.tagOf(line)
                            + (loginsWork.get()
                                    ? " OK Logged in"
                                    : " NO [AUTHENTICATIONFAILED] Authentication failed.")))
            .on("CAPABILITY", FakeLineBackend.tagged("* CAPABILITY IMAP4rev1", "OK done"))
            .on("SELECT", FakeLineBackend.tagged("* 0 EXISTS", "OK [READ-WRITE] done"))
            .on("LOGOUT", (c, line) -> c.sendAndClose("* BYE", c.tagOf(line) + " OK"))
            .otherwise(FakeLineBackend.tagged("BAD unknown"))
            .start();
    /** At each state change: the state, the failed checks counted and the checks that got as far as SELECT. */
    private final List<String> changes = new CopyOnWriteArrayList<>();

    private final HealthChecker checker = new HealthChecker(
            transport,
            metrics,
            (b, up) -> changes.add(
                    (up ? "up" : "down") + " after " + metrics.failures.size() + " failures, " + selects() + " logins"),
            mode -> mode == HealthCheckConfig.Mode.LOGIN
                    ? new LoginCheck(transport, HealthCheckTesting.dialogues(transport))
                    : new GreetingCheck(transport, null));

    /** Every log line of the test, DEBUG included: the probe password must be in none. */
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    private final Logger postern = (Logger) LoggerFactory.getLogger("dev.postern");
    private final Level level = postern.getLevel();

    @BeforeEach
    void captureLogs() {
        logs.start();
        postern.addAppender(logs);
        postern.setLevel(Level.DEBUG);
    }

    @AfterEach
    void stop() {
        postern.detachAppender(logs);
        postern.setLevel(level);
        checker.close();
        fake.close();
        transport.close();
    }

    private long selects() {
        return fake.connections().stream()
                .filter(c -> c.lines().stream().anyMatch(l -> l.endsWith("SELECT INBOX")))
                .count();
    }

    private static HealthChecker.Settings login(int rise, int fall) {
        return new HealthChecker.Settings(
                Protocol.IMAP,
                Duration.ofMillis(20),
                Duration.ofSeconds(2),
                rise,
                fall,
                HealthCheckConfig.Mode.LOGIN,
                Optional.of(HealthCheckTesting.PROBE));
    }

    @Test
    void refusedLoginsTakeTheBackendOutAfterFallChecksAndGoodOnesBringItBackAfterRise() {
        BackendRuntime b = new BackendRuntime("p", backend(fake.port()));
        checker.start();
        checker.watch(b, login(2, 3));

        // the state flips before the listener hears of it: wait for the listener
        Await.until("the backend is down", Duration.ofSeconds(10), () -> changes.size() == 1);
        assertThat(b.healthy()).isFalse();
        assertThat(changes).containsExactly("down after 3 failures, 0 logins");
        assertThat(metrics.failures).allMatch("login-refused"::equals);
        assertThat(b.lastFailure().orElseThrow().reason())
                .isEqualTo("login refused: NO [AUTHENTICATIONFAILED] Authentication failed.");
        assertThat(b.available()).isFalse();

        loginsWork.set(true);
        Await.until("the backend is back", Duration.ofSeconds(10), () -> changes.size() == 2);
        assertThat(b.healthy()).isTrue();
        assertThat(changes).element(1).asString().endsWith(", 2 logins");
        assertThat(metrics.changes).containsExactly("down", "up");
        // the last failure stays on show after the recovery, for the operator who wonders what happened
        assertThat(b.lastFailure()).isPresent();
        assertThat(logs.list).isNotEmpty();
        assertThat(logs.list)
                .extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains(HealthCheckTesting.PROBE_PASSWORD));
    }
}
