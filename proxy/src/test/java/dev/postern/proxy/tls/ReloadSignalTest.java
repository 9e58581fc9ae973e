package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReloadSignalTest {
    @Test
    void sighupRunsTheActionAndAFailingActionIsOnlyLogged() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(2);
        Runnable action = () -> {
            int call = calls.incrementAndGet();
            first.countDown();
            second.countDown();
            if (call == 1) {
                throw new IllegalStateException("reload failed: no private key in /x/key.pem");
            }
        };
        Optional<ReloadSignal> installed = ReloadSignal.install(action);
        // Only signal ourselves once our handler is in place: the JVM's default handler for SIGHUP exits.
        assumeTrue(installed.isPresent(), "SIGHUP cannot be handled here");
        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(ReloadSignal.class)) {
            sendSighupToSelf();
            assertThat(first.await(10, TimeUnit.SECONDS))
                    .as("first SIGHUP handled")
                    .isTrue();
            sendSighupToSelf();
            assertThat(second.await(10, TimeUnit.SECONDS))
                    .as("second SIGHUP handled")
                    .isTrue();

            assertThat(calls).hasValue(2);
            assertThat(log.awaitMessages(Level.ERROR, 1)).containsExactly("SIGHUP action failed");
        } finally {
            installed.get().close();
        }
    }

    private static void sendSighupToSelf() throws Exception {
        Process kill = new ProcessBuilder(
                        "kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
