package dev.postern.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.health.HealthChecks;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Health checks against the real Dovecot and Postfix, a closed port, and fakes that greet wrongly or not at all. */
class HealthCheckerIT {
    static Transport transport;
    static final List<String> changes = new CopyOnWriteArrayList<>();
    static HealthChecker checker;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        transport = Transport.create(1, true);
        checker = new HealthChecker(
                transport,
                Metrics.NOOP,
                (b, up) -> changes.add(b.id() + (up ? " up" : " down")),
                HealthChecks.basic(transport));
        checker.start();
    }

    @AfterAll
    static void stop() {
        checker.close();
        transport.close();
    }

    static BackendRuntime backend(String id, int port) {
        return new BackendRuntime(
                "p",
                new Backend(
                        id,
                        "127.0.0.1",
                        port,
                        Map.of(),
                        1,
                        Backend.State.ACTIVE,
                        0,
                        TlsMode.NONE,
                        true,
                        Backend.Identity.NONE,
                        Optional.empty()));
    }

    static HealthChecker.Settings settings(Protocol protocol) {
        return new HealthChecker.Settings(protocol, Duration.ofMillis(100), Duration.ofMillis(500), 2, 2);
    }

    private static boolean checkOnce(BackendRuntime b, Protocol protocol) throws Exception {
        EventLoop loop = (EventLoop) transport.workerGroup().next();
        var f = checker.check(b, settings(protocol), loop);
        f.await(5, TimeUnit.SECONDS);
        return f.isSuccess();
    }

    @Test
    void realServersPassTheirProtocolsCheck() throws Exception {
        assertThat(checkOnce(backend("imap", DevBackends.IMAP), Protocol.IMAP)).isTrue();
        assertThat(checkOnce(backend("pop3", DevBackends.POP3), Protocol.POP3)).isTrue();
        assertThat(checkOnce(backend("smtp", DevBackends.SMTP), Protocol.SMTP)).isTrue();
        assertThat(checkOnce(backend("submission", DevBackends.SUBMISSION), Protocol.SMTP))
                .isTrue();
        assertThat(checkOnce(backend("tcp", DevBackends.IMAP), Protocol.TCP)).isTrue();
        // the wrong protocol's greeting fails
        assertThat(checkOnce(backend("imap-as-pop3", DevBackends.IMAP), Protocol.POP3))
                .isFalse();
    }

    @Test
    void aManageSieveServerPassesOnceItsCapabilityGreetingEndsWithOk() throws Exception {
        assertThat(checkOnce(backend("sieve", DevBackends.SIEVE), Protocol.MANAGESIEVE))
                .isTrue();
        assertThat(checkOnce(backend("imap-as-sieve", DevBackends.IMAP), Protocol.MANAGESIEVE))
                .isFalse();
    }

    @Test
    void aClosedPortFailsAndAMuteServerTimesOut() throws Exception {
        assertThat(checkOnce(backend("closed", FreePorts.closed()), Protocol.IMAP))
                .isFalse();
        try (ServerSocket mute = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            assertThat(checkOnce(backend("mute", mute.getLocalPort()), Protocol.IMAP))
                    .isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(450));
        }
    }

    @Test
    void aBackendGoesDownAfterFallFailuresAndComesBackAfterRiseSuccesses() throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int port = server.getLocalPort();
        Thread greeter = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write("* OK fake ready\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        greeter.start();
        BackendRuntime b = backend("flappy", port);
        checker.watch(b, settings(Protocol.IMAP));
        try {
            assertThat(b.healthy()).isTrue();
            server.close();
            Await.until("flappy marked down", Duration.ofSeconds(10), () -> !b.healthy());
            assertThat(b.available()).isFalse();
            Await.until("the change reported", Duration.ofSeconds(5), () -> changes.contains("flappy down"));
            // the server comes back on the same port
            try (ServerSocket again = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
                Thread t = new Thread(() -> {
                    while (!again.isClosed()) {
                        try (Socket s = again.accept()) {
                            s.getOutputStream().write("* OK back\r\n".getBytes(StandardCharsets.US_ASCII));
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                t.start();
                Await.until("flappy healthy again", Duration.ofSeconds(10), b::healthy);
                Await.until("the change reported", Duration.ofSeconds(5), () -> changes.contains("flappy up"));
                assertThat(changes).containsSubsequence("flappy down", "flappy up");
            }
        } finally {
            checker.unwatch(b);
            server.close();
        }
    }

    @Test
    void riseAndFallNeedConsecutiveResults() {
        BackendRuntime b = backend("counting", 1);
        assertThat(b.observe(false, 2, 3)).isFalse();
        assertThat(b.observe(false, 2, 3)).isFalse();
        assertThat(b.observe(true, 2, 3)).isFalse(); // the streak breaks
        assertThat(b.observe(false, 2, 3)).isFalse();
        assertThat(b.observe(false, 2, 3)).isFalse();
        assertThat(b.observe(false, 2, 3)).isTrue();
        assertThat(b.healthy()).isFalse();
        assertThat(b.observe(true, 2, 3)).isFalse();
        assertThat(b.observe(true, 2, 3)).isTrue();
        assertThat(b.healthy()).isTrue();
    }
}
