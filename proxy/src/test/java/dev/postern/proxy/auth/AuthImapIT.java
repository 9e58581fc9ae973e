package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.Frontends;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.FakeLineBackend;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Authentication end to end: Python's imaplib logs in through Postern's IMAP listeners (plain, STARTTLS, implicit
 * TLS) to the real Dovecot, with an auth service speaking nginx's protocol (answering in 20 ms) deciding and routing,
 * the cache in front of it, and the throttle around it; and a raw auth service (a fault: a 101 answer).
 */
class AuthImapIT {
    private static final String LOGINS =
            """
            import imaplib, ssl, sys
            host, port, mode, user, password, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ok = 0
            for i in range(n):
                if mode == 'implicit':
                    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
                else:
                    m = imaplib.IMAP4(host, port)
                    if mode == 'starttls':
                        m.starttls(ssl_context=ctx)
                try:
                    m.login(user, password)
                    typ, data = m.select('INBOX')
                    if typ == 'OK':
                        ok += 1
                    m.logout()
                except imaplib.IMAP4.error as e:
                    print('ERR', e)
                    m.shutdown()
            print('OK', ok)
            """;

    @TempDir
    static Path dir;

    static NginxAuthService service;
    static PosternHarness postern;

    @BeforeAll
    static void start() throws Exception {
        // written before the IMAP front end reached this branch: it runs wherever the front end is in the build
        Assumptions.assumeTrue(
                Frontends.forProtocol(Protocol.IMAP).isPresent(), "this build has no IMAP front end yet");
        DevBackends.ensureStarted();
        service = NginxAuthService.start(Duration.ofMillis(20))
                .user(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)
                .route("127.0.0.1", DevBackends.IMAP);
        postern = PosternHarness.start(config(service.url(), "", "plain", "starttls", "implicit"), dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (service != null) {
            service.close();
        }
    }

    /** One listener per mode, named after it, asking the auth service at {@code url}. */
    private static String config(String url, String extra, String... modes) {
        StringBuilder listeners = new StringBuilder();
        for (String mode : modes) {
            String tls =
                    switch (mode) {
                        case "implicit" -> "tls: implicit";
                        case "starttls" -> "tls: starttls";
                        default -> "allow-plaintext-auth: true";
                    };
            listeners.append(
                    "  - {name: %s, protocol: imap, bind: \"127.0.0.1:%d\", %s, pool: dovecot, auth: [directory]}\n"
                            .formatted(mode, FreePorts.next(), tls));
        }
        return """
                auth:
                  providers:
                    - {name: directory, type: http, url: "%s", timeout: 2s}
                %s
                listeners:
                %s
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                .formatted(url, extra, listeners, DevBackends.IMAP);
    }

    private static String logins(PosternHarness p, String mode, String user, String password, int n) {
        Processes.Result r = Processes.python(
                Duration.ofSeconds(120), LOGINS, "127.0.0.1", "" + p.port(mode), mode, user, password, "" + n);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"plain", "starttls", "implicit"})
    void fiftyLoginsOfOneUserMakeOneAuthServiceCallWhileTheCacheIsWarm(String mode) {
        postern.postern().auth().invalidateAll();
        service.calls.set(0);

        String out = logins(postern, mode, DevBackends.ALICE, DevBackends.ALICE_PASSWORD, 50);

        assertThat(out).contains("OK 50");
        assertThat(service.calls()).as("auth service calls for 50 logins").isEqualTo(1);
        assertThat(postern.postern().auth().stats().cache().hits()).isGreaterThanOrEqualTo(49);
    }

    @Test
    void aWrongPasswordIsRefusedAndNeverLocksOutTheRightOne() {
        postern.postern().auth().invalidateAll();
        service.calls.set(0);

        String wrong = logins(postern, "plain", DevBackends.ALICE, "not-her-password", 2);
        String right = logins(postern, "plain", DevBackends.ALICE, DevBackends.ALICE_PASSWORD, 1);

        assertThat(wrong).contains("ERR").contains("OK 0");
        assertThat(right).contains("OK 1");
        assertThat(service.calls())
                .as("the same wrong password twice: once from the cache")
                .isEqualTo(2);
    }

    @Test
    void whenTheAuthServiceDiesAKnownUserStillGetsInWithinTheGracePeriod() throws Exception {
        NginxAuthService dying = NginxAuthService.start()
                .user(DevBackends.BOB, DevBackends.BOB_PASSWORD)
                .route("127.0.0.1", DevBackends.IMAP);
        try (PosternHarness p = PosternHarness.start(
                config(
                        dying.url(),
                        "  cache: {ttl: 1ms, negative-ttl: 1ms, refresh-after: 0, stale-if-error: 1h}",
                        "plain"),
                dir)) {
            assertThat(logins(p, "plain", DevBackends.BOB, DevBackends.BOB_PASSWORD, 1))
                    .contains("OK 1");
            dying.close();

            assertThat(logins(p, "plain", DevBackends.BOB, DevBackends.BOB_PASSWORD, 2))
                    .contains("OK 2");
            assertThat(p.postern().auth().stats().cache().staleServed()).isEqualTo(2);
            assertThat(logins(p, "plain", DevBackends.BOB, "wrong", 1))
                    .as("a login never seen before gets no stale answer")
                    .contains("OK 0");
        } finally {
            dying.close();
        }
    }

    @Test
    void aBlockedClientGetsTheTemporaryErrorEvenWithTheRightPassword() throws Exception {
        try (PosternHarness p = PosternHarness.start(
                config(service.url(), "  throttle: {max-failures-per-user-address: 2, delays: [0s]}", "plain"), dir)) {
            logins(p, "plain", DevBackends.ALICE, "guess-1", 1);
            logins(p, "plain", DevBackends.ALICE, "guess-2", 1);
            service.calls.set(0);

            String refused = logins(p, "plain", DevBackends.ALICE, DevBackends.ALICE_PASSWORD, 1);

            assertThat(refused).contains("UNAVAILABLE").contains("OK 0");
            assertThat(service.calls())
                    .as("a blocked client reaches no provider")
                    .isZero();
            assertThat(p.postern().auth().stats().throttledLogins()).isEqualTo(1);
        }
    }

    @Test
    void anAuthServiceThatSwitchesProtocolsGivesTheTemporaryErrorNeverALogin() throws Exception {
        String route = "127.0.0.1";
        String port = "" + DevBackends.IMAP;
        try (FakeLineBackend switching = FakeLineBackend.start(c -> {
                    int asked = 0;
                    while (NginxAuthService.rawRequest(c) != null) {
                        asked++;
                        if (c.connection().number() > 1) {
                            c.write(NginxAuthService.rawAnswer(
                                    "Auth-Status", "OK", "Auth-Server", route, "Auth-Port", port));
                        } else if (asked == 1) {
                            c.write("HTTP/1.1 101 Switching Protocols\r\nAuth-Status: OK\r\nAuth-Server: " + route
                                    + "\r\nAuth-Port: " + port + "\r\n\r\n");
                        } else {
                            // what this connection, asked again, would answer the next login with
                            c.write(NginxAuthService.rawAnswer(
                                    "Auth-Status", "OK", "Auth-User", DevBackends.ALICE, "Auth-Pass", "x"));
                        }
                    }
                });
                PosternHarness p = PosternHarness.start(
                        config("http://127.0.0.1:" + switching.port() + "/auth", "", "plain"), dir)) {
            String first = logins(p, "plain", DevBackends.BOB, DevBackends.BOB_PASSWORD, 1);
            String second = logins(p, "plain", DevBackends.BOB, DevBackends.BOB_PASSWORD, 1);

            assertThat(first).as("the 101 answer").contains("UNAVAILABLE").contains("OK 0");
            assertThat(second).as("the next login, on a new connection").contains("OK 1");
            assertThat(switching.connectionCount()).isEqualTo(2);
            assertThat(switching.failure()).isNull();
        }
    }
}
