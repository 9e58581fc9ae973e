package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opaque bearer tokens end to end: Python's imaplib authenticates with OAUTHBEARER and XOAUTH2 through Postern's IMAPS
 * listener, whose {@code oauth2-introspection} provider asks an RFC 7662 endpoint this test serves; an active token
 * logs in on the real Dovecot with the pool's master user, an inactive one gets the RFC 7628 error status as a
 * challenge, answers it with the dummy response, and is refused with {@code NO [AUTHENTICATIONFAILED]}.
 */
class IntrospectionLoginIT {
    private static final String LOGIN =
            """
            import imaplib, ssl, sys
            port, mechanism, user, token = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
            if mechanism == "XOAUTH2":
                message = "user=%s\\x01auth=Bearer %s\\x01\\x01" % (user, token)
            else:
                message = "n,a=%s,\\x01host=127.0.0.1\\x01port=%d\\x01auth=Bearer %s\\x01\\x01" % (user, port, token)
            def answer(challenge):
                if challenge:
                    print("challenge", challenge.decode())
                    return b"\\x01"
                return message.encode()
            try:
                m.authenticate(mechanism, answer)
                typ, data = m.select("INBOX")
                print("select", typ)
                m.logout()
            except imaplib.IMAP4.error as e:
                print("refused", e)
            """;

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static HttpServer endpoint;
    static final AtomicInteger requests = new AtomicInteger();
    static final Map<String, String> answers = new ConcurrentHashMap<>();
    static volatile String authorization;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        endpoint = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        endpoint.createContext("/introspect", exchange -> {
            requests.incrementAndGet();
            authorization = exchange.getRequestHeaders().getFirst("Authorization");
            String form = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String token = "";
            for (String pair : form.split("&")) {
                if (pair.startsWith("token=")) {
                    token = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
                }
            }
            byte[] body = answers.getOrDefault(token, "{\"active\":false}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        endpoint.start();
        Path secret = Files.writeString(dir.resolve("client-secret"), "it-secret\n");
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: master, auth: [opaque]}
                auth:
                  providers:
                    - name: opaque
                      type: oauth2-introspection
                      url: http://127.0.0.1:%d/introspect
                      client-id: postern
                      client-secret: ${file:%s}
                      audience: mail
                      scope: mail
                      openid-configuration: https://id.example.test/.well-known/openid-configuration
                pools:
                  - name: master
                    backends:
                      - {address: "127.0.0.1:%d", master-user: %s, master-password: %s}
                """
                        .formatted(
                                FreePorts.next(),
                                endpoint.getAddress().getPort(),
                                secret,
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (endpoint != null) {
            endpoint.stop(0);
        }
    }

    private static Processes.Result login(String mechanism, String user, String token) {
        return Processes.python(
                Duration.ofSeconds(30), LOGIN, String.valueOf(postern.port("imaps")), mechanism, user, token);
    }

    @Test
    void anActiveOpaqueTokenLogsInToDovecotWithTheMasterUser() {
        answers.put(
                "opaque-alice-1",
                "{\"active\":true,\"username\":\"%s\",\"aud\":\"mail\",\"exp\":%d}"
                        .formatted(
                                DevBackends.ALICE,
                                Instant.now().plusSeconds(300).getEpochSecond()));
        for (String mechanism : new String[] {"OAUTHBEARER", "XOAUTH2"}) {
            Processes.Result r = login(mechanism, DevBackends.ALICE, "opaque-alice-1");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout())
                    .as(mechanism + ": " + r)
                    .contains("select OK")
                    .doesNotContain("challenge");
        }
        assertThat(authorization).as("client credentials, HTTP Basic").isEqualTo("Basic cG9zdGVybjppdC1zZWNyZXQ=");
    }

    @Test
    void anInactiveTokenGetsTheErrorStatusThenNo() {
        Processes.Result r = login("OAUTHBEARER", DevBackends.ALICE, "revoked-token");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .as(r.toString())
                .contains("challenge {\"status\":\"invalid_token\",\"scope\":\"mail\","
                        + "\"openid-configuration\":\"https://id.example.test/.well-known/openid-configuration\"}")
                .contains("refused")
                .contains("AUTHENTICATIONFAILED")
                .doesNotContain("select OK");

        Processes.Result google = login("XOAUTH2", DevBackends.ALICE, "revoked-token");
        assertThat(google.stdout())
                .as(google.toString())
                .contains("challenge {\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\"}")
                .contains("AUTHENTICATIONFAILED");
    }

    @Test
    void aTokenForAnotherUserIsRefused() {
        answers.put(
                "opaque-bob-1", "{\"active\":true,\"username\":\"%s\",\"aud\":\"mail\"}".formatted(DevBackends.BOB));
        Processes.Result r = login("OAUTHBEARER", DevBackends.ALICE, "opaque-bob-1");
        assertThat(r.stdout()).as(r.toString()).contains("invalid_token").contains("AUTHENTICATIONFAILED");
    }
}
