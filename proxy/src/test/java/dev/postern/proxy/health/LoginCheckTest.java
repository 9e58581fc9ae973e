package dev.postern.proxy.health;

import static dev.postern.proxy.health.HealthCheckTesting.PROBE_PASSWORD;
import static dev.postern.proxy.health.HealthCheckTesting.backend;
import static dev.postern.proxy.health.HealthCheckTesting.once;
import static dev.postern.proxy.health.HealthCheckTesting.target;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.Secret;
import dev.postern.proxy.routing.CheckFailure;
import dev.postern.proxy.transport.Transport;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The login check against scripted IMAP, POP3 and SMTP backends. */
class LoginCheckTest {
    static Transport transport;
    static LoginCheck check;
    FakeLineBackend fake;

    @BeforeAll
    static void start() {
        transport = Transport.create(1, true);
        check = new LoginCheck(transport, HealthCheckTesting.dialogues(transport));
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

    /** The fake has read everything the check sent (the check ends before its goodbye is read). */
    static void awaitDone(FakeLineBackend fake) {
        Await.until("the backend closed the check's connection", Duration.ofSeconds(5), () -> fake.connections()
                .get(0)
                .closed());
    }

    static FakeLineBackend.Builder imap(String loginReply) {
        return FakeLineBackend.builder()
                .tagged()
                .greeting("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake ready")
                .on("LOGIN", FakeLineBackend.tagged(loginReply))
                .on("AUTHENTICATE", FakeLineBackend.tagged(loginReply))
                .on("SELECT", FakeLineBackend.tagged("* 0 EXISTS", "OK [READ-WRITE] Select completed."))
                .on("LOGOUT", (c, line) -> c.sendAndClose("* BYE bye", c.tagOf(line) + " OK done"))
                .otherwise(FakeLineBackend.tagged("BAD unknown"));
    }

    @Test
    void imapLogsInSelectsTheInboxAndLogsOut() throws Exception {
        fake = imap("OK [CAPABILITY IMAP4rev1] Logged in").start();

        assertThat(once(check, target(backend(fake.port()), Protocol.IMAP), transport))
                .isNull();

        awaitDone(fake);
        assertThat(fake.connections().get(0).lines())
                .extracting(l -> l.replaceFirst("^\\S+ ", ""))
                .containsExactly("LOGIN \"probe@example.test\" \"" + PROBE_PASSWORD + "\"", "SELECT INBOX", "LOGOUT");
    }

    @Test
    void imapRefusedLoginIsTheReason() throws Exception {
        fake = imap("NO [AUTHENTICATIONFAILED] Authentication failed.").start();

        CheckFailure failure = once(check, target(backend(fake.port()), Protocol.IMAP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.LOGIN_REFUSED);
        assertThat(failure.getMessage()).isEqualTo("login refused: NO [AUTHENTICATIONFAILED] Authentication failed.");
        assertThat(failure.getMessage()).doesNotContain(PROBE_PASSWORD);
    }

    @Test
    void imapSelectRefusedIsACommandFailure() throws Exception {
        fake = imap("OK [CAPABILITY IMAP4rev1] Logged in")
                .on("SELECT", FakeLineBackend.tagged("NO [SERVERBUG] Internal error occurred."))
                .start();

        CheckFailure failure = once(check, target(backend(fake.port()), Protocol.IMAP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.COMMAND);
        assertThat(failure.getMessage()).isEqualTo("SELECT INBOX refused: NO [SERVERBUG] Internal error occurred.");
    }

    @Test
    void aBackendThatGreetsButNeverAnswersTheLoginTimesOutAfterTheGreeting() throws Exception {
        fake = imap("OK").on("LOGIN", (c, line) -> {}).start();

        CheckFailure failure =
                once(check, target(backend(fake.port()), Protocol.IMAP, Duration.ofMillis(300)), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.TIMEOUT);
        assertThat(failure.getMessage()).isEqualTo("timeout after greeting (300 ms)");
    }

    @Test
    void aMasterUserLogsInAsTheProbeUser() throws Exception {
        fake = imap("OK [CAPABILITY IMAP4rev1] Logged in").start();
        Backend withMaster = backend(
                fake.port(),
                Backend.Identity.NONE,
                Optional.of(new Backend.MasterLogin("master", Secret.of("master-pw"))));

        assertThat(once(check, target(withMaster, Protocol.IMAP), transport)).isNull();

        String auth = fake.connections().get(0).lines().get(0);
        assertThat(auth).contains("AUTHENTICATE PLAIN ");
        String decoded = new String(Base64.getDecoder().decode(auth.substring(auth.lastIndexOf(' ') + 1)));
        assertThat(decoded).isEqualTo("probe@example.test\0master\0master-pw");
    }

    @Test
    void aProxyV2BackendGetsALocalHeaderFirst() throws Exception {
        fake = imap("OK [CAPABILITY IMAP4rev1] Logged in").proxyHeader().start();
        Backend proxied = backend(fake.port(), Backend.Identity.PROXY_V2, Optional.empty());

        assertThat(once(check, target(proxied, Protocol.IMAP), transport)).isNull();

        byte[] header = fake.proxyHeaders().get(0);
        assertThat(header[12]).as("version 2, command LOCAL").isEqualTo((byte) 0x20);
    }

    static FakeLineBackend.Builder pop3(String passReply) {
        return FakeLineBackend.builder()
                .greeting("+OK fake ready")
                .on("CAPA", "+OK", "USER", ".")
                .on("USER", "+OK")
                .on("PASS", passReply)
                .on("STAT", "+OK 0 0")
                .on("QUIT", (c, line) -> c.sendAndClose("+OK bye"))
                .otherwise("-ERR unknown");
    }

    @Test
    void pop3LogsInRunsStatAndQuits() throws Exception {
        fake = pop3("+OK logged in").start();

        assertThat(once(check, target(backend(fake.port()), Protocol.POP3), transport))
                .isNull();

        awaitDone(fake);
        assertThat(fake.connections().get(0).lines())
                .containsExactly("CAPA", "USER probe@example.test", "PASS " + PROBE_PASSWORD, "STAT", "QUIT");
    }

    @Test
    void pop3RefusedLoginIsTheReason() throws Exception {
        fake = pop3("-ERR [AUTH] Authentication failed.").start();

        CheckFailure failure = once(check, target(backend(fake.port()), Protocol.POP3), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.LOGIN_REFUSED);
        assertThat(failure.getMessage()).isEqualTo("login refused: -ERR [AUTH] Authentication failed.");
    }

    static FakeLineBackend.Builder smtp(String authReply) {
        return FakeLineBackend.builder()
                .greeting("220 fake ESMTP")
                .on("EHLO", "250-fake", "250 AUTH PLAIN LOGIN")
                .on("AUTH", authReply)
                .on("RSET", "250 2.0.0 Ok")
                .on("QUIT", (c, line) -> c.sendAndClose("221 2.0.0 Bye"))
                .otherwise("502 5.5.2 Error");
    }

    @Test
    void smtpAuthenticatesResetsAndQuits() throws Exception {
        fake = smtp("235 2.7.0 Authentication successful").start();

        assertThat(once(check, target(backend(fake.port()), Protocol.SMTP), transport))
                .isNull();

        awaitDone(fake);
        assertThat(fake.connections().get(0).lines())
                .extracting(l -> l.startsWith("AUTH PLAIN ") ? "AUTH PLAIN ..." : l)
                .containsExactly("EHLO postern.test", "AUTH PLAIN ...", "RSET", "QUIT");
    }

    @Test
    void smtpRefusedAuthIsTheReason() throws Exception {
        fake = smtp("535 5.7.8 Error: authentication failed").start();

        CheckFailure failure = once(check, target(backend(fake.port()), Protocol.SMTP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.LOGIN_REFUSED);
        assertThat(failure.getMessage()).startsWith("login refused: 535").contains("authentication failed");
    }

    @Test
    void aClosedPortIsAConnectFailure() throws Exception {
        int port;
        try (FakeLineBackend gone = FakeLineBackend.builder().start()) {
            port = gone.port();
        }

        CheckFailure failure = once(check, target(backend(port), Protocol.IMAP), transport);

        assertThat(failure.reason()).isEqualTo(CheckFailure.Reason.CONNECT);
        assertThat(failure.getMessage()).startsWith("connect failed: ");
    }
}
