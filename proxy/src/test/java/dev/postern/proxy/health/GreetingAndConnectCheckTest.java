package dev.postern.proxy.health;

import static dev.postern.proxy.health.HealthCheckTesting.backend;
import static dev.postern.proxy.health.HealthCheckTesting.once;
import static dev.postern.proxy.health.HealthCheckTesting.target;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.proxy.routing.CheckFailure;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.FakeLineBackend;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The connect and greeting modes against scripted backends. */
class GreetingAndConnectCheckTest {
    static Transport transport;
    static GreetingCheck greeting;
    static ConnectCheck connect;
    FakeLineBackend fake;

    @BeforeAll
    static void start() {
        transport = Transport.create(1, true);
        greeting = new GreetingCheck(transport, null);
        connect = new ConnectCheck(transport);
    }

    @AfterAll
    static void stop() {
        transport.close();
    }

    @AfterEach
    void closeFake() {
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void aRightGreetingPassesAndPosternSaysGoodbye() throws Exception {
        fake = FakeLineBackend.builder()
                .greeting("220-fake ESMTP", "220 still fake")
                .otherwise((c, line) -> c.sendAndClose("221 bye"))
                .start();

        assertThat(once(greeting, target(backend(fake.port()), Protocol.SMTP), transport))
                .isNull();
    }

    @Test
    void aWrongGreetingIsTheReason() throws Exception {
        fake = FakeLineBackend.builder().greeting("* BYE too many connections").start();

        CheckFailure failure = once(greeting, target(backend(fake.port()), Protocol.IMAP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.GREETING);
        assertThat(failure.getMessage()).isEqualTo("unexpected greeting: * BYE too many connections");
    }

    @Test
    void aSilentBackendFailsTheGreetingCheckButPassesTheConnectCheck() throws Exception {
        fake = FakeLineBackend.builder().start(); // accepts, never says a word

        CheckFailure failure =
                once(greeting, target(backend(fake.port()), Protocol.POP3, Duration.ofMillis(300)), transport);
        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.TIMEOUT);
        assertThat(failure.getMessage()).isEqualTo("timeout waiting for the greeting (300 ms)");

        assertThat(once(connect, target(backend(fake.port()), Protocol.POP3), transport))
                .isNull();
    }

    @Test
    void aClosedPortFailsTheConnectCheck() throws Exception {
        int port;
        try (FakeLineBackend gone = FakeLineBackend.builder().start()) {
            port = gone.port();
        }

        CheckFailure failure = once(connect, target(backend(port), Protocol.IMAP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.CONNECT);
    }

    @Test
    void aProxyV2BackendIsGreetedAfterAHeader() throws Exception {
        fake = FakeLineBackend.builder()
                .proxyHeader()
                .greeting("+OK ready")
                .otherwise((c, line) -> c.sendAndClose("+OK bye"))
                .start();
        Backend proxied = backend(fake.port(), Backend.Identity.PROXY_V2, Optional.empty());

        assertThat(once(greeting, target(proxied, Protocol.POP3), transport)).isNull();
        assertThat(fake.proxyHeaders()).hasSize(1);
    }
}
