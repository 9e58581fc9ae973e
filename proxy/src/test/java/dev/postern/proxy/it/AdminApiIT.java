package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestCertificates;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API against a running Postern in front of the real Dovecot: a route change takes effect for the next
 * login while a live session keeps working, changes persist across a restart, a certificate reload is seen by the
 * next handshake, /metrics parses as Prometheus text after a login, and the error statuses.
 */
class AdminApiIT {
    private static final String RW = "admin-it-read-write-token-0123";
    private static final String RO = "admin-it-read-only-token-01234";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String yaml;
    private PosternHarness postern;
    private AdminHttp admin;
    private TestCertificates ca;
    private SSLContext clientTls;

    @BeforeEach
    void start() throws Exception {
        DevBackends.ensureStarted();
        ca = TestCertificates.newAuthority();
        clientTls = ca.clientSslContext();
        ca.issue(TestCertificates.KeyType.EC_P256, "first.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        int adminPort = FreePorts.next();
        yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: p1}
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: p1}
                tls:
                  certificates: [{name: mail, cert: mail-chain.pem, key: mail-key.pem}]
                pools:
                  - {name: p1, backends: [{id: plain143, address: "127.0.0.1:%d"}]}
                  - {name: p2, backends: [{id: tls993, address: "127.0.0.1:%d", tls: implicit, tls-verify: false}]}
                routing:
                  store: routes.json
                admin:
                  bind: "127.0.0.1:%d"
                  tokens:
                    - {name: ops, token: "%s", access: read-write}
                    - {name: viewer, token: "%s", access: read-only}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                DevBackends.IMAP,
                                DevBackends.IMAPS,
                                adminPort,
                                RW,
                                RO);
        postern = PosternHarness.start(yaml, dir, PrometheusMetrics.create());
        admin = new AdminHttp(adminPort, RW);
    }

    @AfterEach
    void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private String backendOfNewest(String user) {
        return postern.postern().services().sessions().find(s -> user.equals(s.user())).stream()
                .max(Comparator.comparingLong(Session::startMillis).thenComparing(Session::id))
                .map(Session::backendId)
                .orElse(null);
    }

    private ImapTestClient loggedIn() {
        ImapTestClient c = ImapTestClient.connect(postern.port("imap"));
        assertThat(c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");
        return c;
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void aRouteChangeTakesEffectForTheNextLoginWhileALiveSessionKeepsWorking() throws Exception {
        try (ImapTestClient live = loggedIn()) {
            assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("plain143");

            var put = admin.put("/api/v1/routes/users/" + DevBackends.ALICE, "{\"pool\": \"p2\"}");
            assertThat(put.statusCode()).as(put.body()).isIn(200, 201);

            try (ImapTestClient next = loggedIn()) {
                assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("tls993");
                assertThat(next.command("SELECT INBOX")).startsWith("OK");
            }
            // the session that started before the change keeps its backend and works
            assertThat(live.command("SELECT INBOX")).startsWith("OK");
            assertThat(postern.postern()
                            .services()
                            .sessions()
                            .find(s -> s.backendId() != null && s.backendId().equals("plain143")))
                    .hasSize(1);
        }
    }

    @Test
    void changesPersistAcrossARestart() throws Exception {
        var put = admin.put("/api/v1/routes/domains/example.test", "{\"pool\": \"p2\"}");
        assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
        long revision = json(admin.get("/api/v1/revision")).path("revision").asLong();
        assertThat(Files.readString(dir.resolve("routes.json"))).contains("\"example.test\" : \"p2\"");

        postern.close();
        postern = PosternHarness.start(yaml, dir, PrometheusMetrics.create()); // the same configuration and store
        assertThat(json(admin.get("/api/v1/revision")).path("revision").asLong())
                .isEqualTo(revision);
        assertThat(json(admin.get("/api/v1/routes"))
                        .path("domains")
                        .path("example.test")
                        .asText())
                .isEqualTo("p2");
        try (ImapTestClient c = loggedIn()) {
            assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("tls993");
        }
    }

    private SSLSocket tls() throws Exception {
        SSLSocket s = (SSLSocket)
                clientTls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), postern.port("imaps"));
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName("localhost")));
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static String subject(SSLSocket s) throws Exception {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                .getSubjectX500Principal()
                .getName();
    }

    @Test
    void aCertificateReloadIsSeenByTheNextHandshakeWhileLiveSessionsKeepTheirs() throws Exception {
        try (SSLSocket before = tls()) {
            assertThat(subject(before)).contains("CN=first.example.test");
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(before.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("* OK");

            ca.issue(TestCertificates.KeyType.RSA_2048, "second.example.test", "localhost")
                    .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
            var reload = admin.post("/api/v1/tls/reload", null);
            assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
            assertThat(json(admin.get("/api/v1/tls/certificates")).toString()).contains("second.example.test");

            try (SSLSocket after = tls()) {
                assertThat(subject(after)).contains("CN=second.example.test");
            }
            before.getOutputStream().write("a NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("a OK NOOP completed");
        }
    }

    @Test
    void metricsAfterALoginParseAsPrometheusTextAndCarryNoUserOrAddress() throws Exception {
        Processes.Result login = Processes.python(
                Duration.ofSeconds(30),
                """
                import imaplib, ssl, sys
                ctx = ssl.create_default_context(cafile=sys.argv[1])
                m = imaplib.IMAP4_SSL("localhost", int(sys.argv[2]), ssl_context=ctx)
                m.login("alice@example.test", "alice-pw")
                m.select("INBOX")
                m.logout()
                """,
                ca.writeCaCertificate(dir.resolve("ca.pem")).toString(),
                Integer.toString(postern.port("imaps")));
        assertThat(login.exitCode()).as(login.toString()).isZero();
        postern.awaitNoSessions();

        HttpResponse<String> metrics = admin.send("GET", "/metrics", null, null, false);
        assertThat(metrics.statusCode()).isEqualTo(200);
        Path text = Files.writeString(dir.resolve("metrics.txt"), metrics.body());
        // the Prometheus project's own parser (Debian's python3-prometheus-client)
        Processes.Result parsed = Processes.run(
                Duration.ofSeconds(30),
                "/usr/bin/python3",
                "-c",
                """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                for f in text_string_to_metric_families(open(sys.argv[1]).read()):
                    for s in f.samples:
                        print(s.name, " ".join(sorted(s.labels.values())), s.value)
                """,
                text.toString());
        assertThat(parsed.exitCode()).as(parsed.toString()).isZero();
        String samples = parsed.stdout();
        assertThat(samples)
                .contains("postern_connections_accepted_total")
                .contains("postern_tls_handshakes_total")
                .contains("postern_tls_handshake_duration_seconds_bucket")
                .contains("postern_auth_attempts_total")
                .contains("postern_backend_connect_duration_seconds_count")
                .contains("postern_backend_healthy")
                .contains("postern_backend_sessions")
                .contains("postern_sessions_closed_total")
                .contains("postern_session_duration_seconds_count")
                .contains("postern_relayed_bytes_total")
                .contains("postern_route_store_revision")
                .contains("postern_tls_certificate_expiry_timestamp_seconds")
                .contains("jvm_memory_used_bytes");
        assertThat(samples).doesNotContain("alice").doesNotContain("127.0.0.1");
    }

    @Test
    void errorsHaveTheirStatusesAgainstTheRunningProxy() throws Exception {
        AdminHttp anonymous = new AdminHttp(admin_port(), null);
        assertThat(anonymous.get("/api/v1/pools").statusCode()).isEqualTo(401);
        AdminHttp viewer = new AdminHttp(admin_port(), RO);
        assertThat(viewer.get("/api/v1/pools").statusCode()).isEqualTo(200);
        assertThat(viewer.put("/api/v1/routes/users/x@example.test", "{\"pool\": \"p2\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(admin.get("/api/v1/pools/nope").statusCode()).isEqualTo(404);

        var invalid =
                admin.put("/api/v1/pools/p3", "{\"backends\": [{\"address\": \"127.0.0.1:2143\", \"weight\": 0}]}");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.body()).contains("$.backends[0].weight");

        assertThat(admin.put("/api/v1/routes/users/x@example.test", "{\"pool\": \"p2\"}")
                        .statusCode())
                .isIn(200, 201);
        var inUse = admin.delete("/api/v1/pools/p2");
        assertThat(inUse.statusCode()).as(inUse.body()).isEqualTo(409);
        var listenerPool = admin.send("DELETE", "/api/v1/pools/p1?force=true", null, null, true);
        assertThat(listenerPool.statusCode()).as("a listener's pool stays").isEqualTo(409);

        var read = admin.get("/api/v1/routes");
        String etag = read.headers().firstValue("ETag").orElseThrow();
        assertThat(admin.send("PUT", "/api/v1/routes/users/y@example.test", "{\"pool\": \"p2\"}", etag, true)
                        .statusCode())
                .isIn(200, 201);
        var stale = admin.send("PUT", "/api/v1/routes/users/z@example.test", "{\"pool\": \"p2\"}", etag, true);
        assertThat(stale.statusCode()).isEqualTo(412);
    }

    private int admin_port() {
        return postern.postern().adminAddress().orElseThrow().getPort();
    }
}
