package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.AdminConfig;
import dev.postern.config.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP side: tokens, status codes, limits, keep-alive and pipelining. */
class HttpBehaviourTest {
    private AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void noTokenOrAWrongOneIs401WithoutDetail() {
        AdminFixture.Reply none = admin.send("GET", "/api/v1/pools", null, null);
        AdminFixture.Reply wrong = admin.send("GET", "/api/v1/pools", "ops-token-0123456789abcdeX", null);
        AdminFixture.Reply notBearer =
                admin.send("GET", "/api/v1/pools", null, null, "Authorization", "Basic b3BzOnNlY3JldA==");

        for (AdminFixture.Reply r : List.of(none, wrong, notBearer)) {
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"postern\"");
            assertThat(r.json().get("detail").asText()).isEqualTo("a valid bearer token is required");
            assertThat(r.body()).doesNotContain("dovecot");
        }
    }

    @Test
    void unknownResourcesUnderTheApiNeedATokenBeforeTheyAre404() {
        assertThat(admin.send("GET", "/api/v1/nothing-here", null, null).status())
                .isEqualTo(401);
        assertThat(admin.get("/api/v1/nothing-here").status()).isEqualTo(404);
        assertThat(admin.send("GET", "/elsewhere", null, null).status()).isEqualTo(404);
    }

    @Test
    void anEncodedPathNeedsATokenLikeThePlainOne() {
        assertThat(admin.send("GET", "/%61pi/v1/pools", null, null).status()).isEqualTo(401);
        assertThat(admin.send("DELETE", "/%61pi/v1/pools/postfix", AdminFixture.VIEWER_TOKEN, null)
                        .status())
                .isEqualTo(403);
        assertThat(admin.get("/%61pi/v1/pools").status()).isEqualTo(200);
        assertThat(admin.store.current().pool("postfix")).isPresent();
    }

    @Test
    void aPathThatIsNotPercentEncodedUtf8Is400() {
        AdminFixture.Reply r = admin.get("/api/v1/pools/%C3");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("detail").asText()).isEqualTo("the path is not valid percent-encoded UTF-8");
    }

    @Test
    void aReadOnlyTokenReadsButCannotWrite() {
        assertThat(admin.send("GET", "/api/v1/pools", AdminFixture.VIEWER_TOKEN, null)
                        .status())
                .isEqualTo(200);

        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/pools/postfix", AdminFixture.VIEWER_TOKEN, null);

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("detail").asText()).isEqualTo("token 'viewer' is read-only");
        assertThat(admin.store.current().pool("postfix")).isPresent();
    }

    @Test
    void withoutConfiguredTokensEveryApiCallIs401ButHealthStaysOpen() {
        admin.close();
        admin = AdminFixture.start(s -> AdminSettings.of(new HostPort("127.0.0.1", 0), List.<AdminConfig.Token>of()));

        AdminFixture.Reply r = admin.get("/api/v1/pools");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.json().get("detail").asText())
                .isEqualTo("a bearer token is required, and none is configured (admin.tokens)");
        assertThat(admin.send("GET", "/healthz", null, null).status()).isEqualTo(200);
        assertThat(admin.send("GET", "/readyz", null, null).status()).isEqualTo(200);
        assertThat(admin.send("GET", "/metrics", null, null).status()).isEqualTo(200);
    }

    @Test
    void metricsCanRequireAToken() {
        admin.close();
        admin = AdminFixture.start(s -> s.withMetricsAuth(true));

        assertThat(admin.send("GET", "/metrics", null, null).status()).isEqualTo(401);
        assertThat(admin.send("GET", "/metrics", AdminFixture.VIEWER_TOKEN, null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aWrongMethodIs405WithAllow() {
        AdminFixture.Reply r = admin.send("PATCH", "/api/v1/pools/dovecot", "{}");

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).isEqualTo("DELETE, GET, PUT");
        assertThat(admin.send("POST", "/healthz", null, "{}").header("Allow")).isEqualTo("GET");
    }

    @Test
    void ifMatchWithTheCurrentRevisionApplies() {
        AdminFixture.Reply r = admin.send(
                "POST", "/api/v1/pools/postfix/backends/p1/disable", AdminFixture.OPS_TOKEN, null, "If-Match", "\"1\"");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("ETag")).isEqualTo("\"2\"");
    }

    @Test
    void ifMatchWithAnOldRevisionIs412AndChangesNothing() {
        admin.send("PUT", "/api/v1/routes/users/a@example.com", "{\"pool\": \"postfix\"}");

        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/routes/users/a@example.com",
                AdminFixture.OPS_TOKEN,
                "{\"pool\": \"dovecot\"}",
                "If-Match",
                "\"1\"");

        assertThat(r.status()).isEqualTo(412);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:revision-conflict");
        assertThat(r.json().get("detail").asText())
                .isEqualTo(
                        "If-Match names revision 1, but the routing table is at revision 2; read it again and retry");
        assertThat(admin.store.current().routes().users()).containsEntry("a@example.com", "postfix");
    }

    @Test
    void ifMatchAppliesToStateChangesThatChangeNothingToo() {
        admin.send("POST", "/api/v1/pools/postfix/backends/p1/disable", null);

        AdminFixture.Reply r = admin.send(
                "POST", "/api/v1/pools/postfix/backends/p1/disable", AdminFixture.OPS_TOKEN, null, "If-Match", "\"1\"");

        assertThat(r.status()).isEqualTo(412);
    }

    @Test
    void aMalformedIfMatchIs400() {
        AdminFixture.Reply r =
                admin.send("DELETE", "/api/v1/routes/default", AdminFixture.OPS_TOKEN, null, "If-Match", "yesterday");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("If-Match");
    }

    @Test
    void healthzAndReadyz() {
        AdminFixture.Reply health = admin.send("GET", "/healthz", null, null);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().get("status").asText()).isEqualTo("up");

        AdminFixture.Reply ready = admin.send("GET", "/readyz", null, null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("ready").asBoolean()).isTrue();

        admin.proxy.readiness = new Readiness(true, Map.of("dovecot", 2, "postfix", 0));
        AdminFixture.Reply notReady = admin.send("GET", "/readyz", null, null);
        assertThat(notReady.status()).isEqualTo(503);
        assertThat(notReady.json().get("pools-without-backend").get(0).asText()).isEqualTo("postfix");

        admin.proxy.readiness = new Readiness(false, Map.of("dovecot", 2));
        assertThat(admin.send("GET", "/readyz", null, null).status()).isEqualTo(503);
    }

    @Test
    void aBodyOverTheLimitIs413AndTheConnectionCloses() throws IOException {
        admin.close();
        admin = AdminFixture.start(s -> s.withMaxBodyBytes(1024));
        String body = "{\"name\": \"" + "x".repeat(2000) + "\"}";

        String response = raw("POST /api/v1/pools HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                + AdminFixture.OPS_TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body);

        assertThat(response).startsWith("HTTP/1.1 413 Request Entity Too Large\r\n");
        assertThat(response).contains("content-type: application/problem+json").contains("connection: close");
        assertThat(response).contains("\"detail\" : \"the body is larger than 1024 bytes\"");
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void aWriteWhoseBodyIsNotDeclaredJsonIs415AndChangesNothing() throws IOException {
        String put = "{\"pool\": \"postfix\"}";
        String start = "PUT /api/v1/routes/users/p@example.com HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                + "Authorization: Bearer " + AdminFixture.OPS_TOKEN + "\r\nContent-Length: " + put.length() + "\r\n";

        for (String contentType : List.of("", "Content-Type: text/plain\r\n", "Content-Type: application/jsonx\r\n")) {
            String response = raw(start + contentType + "\r\n" + put);

            assertThat(response).startsWith("HTTP/1.1 415 Unsupported Media Type\r\n");
            assertThat(response).contains("content-type: application/problem+json");
            assertThat(response).contains("\"detail\" : \"a request body must be application/json\"");
        }
        assertThat(admin.store.current().revision()).isEqualTo(1);

        String response = raw(start + "Content-Type: Application/JSON; charset=UTF-8\r\n\r\n" + put);

        assertThat(response).startsWith("HTTP/1.1 201 Created\r\n");
        assertThat(admin.store.current().revision()).isEqualTo(2);
    }

    @Test
    void aBodyShorterThanItsContentLengthIs408AfterTheRequestReadTimeout() throws IOException {
        admin.close();
        admin = AdminFixture.start(s -> s.withRequestReadTimeout(Duration.ofMillis(300)));
        String put = "{\"pool\": \"postfix\"}";
        long start = System.nanoTime();

        String response = raw("PUT /api/v1/routes/users/p@example.com HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                + AdminFixture.OPS_TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: "
                + (put.length() + 10) + "\r\n\r\n" + put);

        assertThat(response).startsWith("HTTP/1.1 408 Request Timeout\r\n");
        assertThat(response).contains("connection: close");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void aWriteWithoutABodyNeedsNoContentType() {
        assertThat(admin.send("DELETE", "/api/v1/routes/users/vip@example.com", null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws IOException {
        String auth = "Authorization: Bearer " + AdminFixture.OPS_TOKEN + "\r\n";
        String put = "{\"pool\": \"postfix\"}";
        String response = raw("GET /api/v1/revision HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n"
                + "PUT /api/v1/routes/users/p@example.com HTTP/1.1\r\nHost: a\r\n" + auth
                + "Content-Type: application/json\r\nContent-Length: " + put.length() + "\r\n\r\n" + put
                + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /api/v1/revision HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + auth + "\r\n");

        List<String> statusLines =
                response.lines().filter(l -> l.startsWith("HTTP/1.1")).toList();
        assertThat(statusLines)
                .containsExactly("HTTP/1.1 200 OK", "HTTP/1.1 201 Created", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK");
        int first = response.indexOf("\"revision\" : 1");
        int last = response.indexOf("\"revision\" : 2");
        assertThat(first).isPositive();
        assertThat(last).isGreaterThan(first);
    }

    @Test
    void garbageIsAnsweredWith400AndTheConnectionCloses() throws IOException {
        String response = raw("NOT HTTP AT ALL\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 400 Bad Request");
    }

    @Test
    void anOversizedHeaderIsRefused() throws IOException {
        String response = raw("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 431 Request Header Fields Too Large");
    }

    /** Sends {@code request} on a fresh connection and reads until the server closes it. */
    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", admin.server.address().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketException e) {
                // a reset after the answer (the server closed with unread input): what came is what counts
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }
}
