package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RoutesApiTest {
    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void getsAllRoutes() {
        AdminFixture.Reply r = admin.get("/api/v1/routes");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("ETag")).isEqualTo("\"1\"");
        assertThat(r.json().toString())
                .isEqualTo("{\"users\":{\"vip@example.com\":\"dovecot\"},\"domains\":{\"example.com\":\"dovecot\"},"
                        + "\"default\":\"dovecot\"}");
    }

    @Test
    void replacesAllRoutes() {
        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/routes",
                "{\"users\": {\"Bob@Example.com\": \"postfix\"}, \"domains\": {\"*.example.org\": \"dovecot\"}}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(admin.store.current().routes().users()).isEqualTo(Map.of("bob@example.com", "postfix"));
        assertThat(admin.store.current().routes().domains()).isEqualTo(Map.of("*.example.org", "dovecot"));
        assertThat(admin.store.current().routes().defaultPool()).isEmpty();
    }

    @Test
    void invalidRoutesAre400WithEveryProblem() {
        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/routes",
                "{\"users\": {\"bob smith\": \"dovecot\", \"a@b.c\": \"gone\"}, \"domains\": {\"x..y\": \"dovecot\"},"
                        + " \"defualt\": \"dovecot\"}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors"))
                .extracting(
                        e -> e.get("path").asText() + ": " + e.get("message").asText())
                .containsExactlyInAnyOrder(
                        "$.defualt: unknown key (did you mean 'default'?)",
                        "$.users.bob smith: 'bob smith' is not a user name",
                        "$.users.a@b.c: no pool named 'gone' (pools: dovecot, postfix)",
                        "$.domains.x..y: 'x..y' is not a domain or *.domain");
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void routesOneUser() {
        AdminFixture.Reply created =
                admin.send("PUT", "/api/v1/routes/users/Alice@Example.com", "{\"pool\": \"postfix\"}");

        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().toString()).isEqualTo("{\"user\":\"alice@example.com\",\"pool\":\"postfix\"}");
        assertThat(admin.store
                        .current()
                        .routes()
                        .match("alice@example.com")
                        .orElseThrow()
                        .pool())
                .isEqualTo("postfix");

        AdminFixture.Reply moved =
                admin.send("PUT", "/api/v1/routes/users/alice@example.com", "{\"pool\": \"dovecot\"}");
        assertThat(moved.status()).isEqualTo(200);

        assertThat(admin.get("/api/v1/routes/users/alice@example.com")
                        .json()
                        .get("pool")
                        .asText())
                .isEqualTo("dovecot");
        assertThat(admin.send("DELETE", "/api/v1/routes/users/alice@example.com", null)
                        .status())
                .isEqualTo(200);
        assertThat(admin.get("/api/v1/routes/users/alice@example.com").status()).isEqualTo(404);
        assertThat(admin.send("DELETE", "/api/v1/routes/users/alice@example.com", null)
                        .status())
                .isEqualTo(404);
    }

    @Test
    void movesADomain() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/domains/example.com", "{\"pool\": \"postfix\"}");

        assertThat(r.status()).isEqualTo(200);
        assertThat(admin.store
                        .current()
                        .routes()
                        .match("someone@example.com")
                        .orElseThrow()
                        .pool())
                .isEqualTo("postfix");
        assertThat(admin.send("PUT", "/api/v1/routes/domains/*.example.net", "{\"pool\": \"postfix\"}")
                        .status())
                .isEqualTo(201);
    }

    @Test
    void aRouteToAPoolThatDoesNotExistIs400() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/domains/example.com", "{\"pool\": \"gone\"}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/path").asText()).isEqualTo("$.pool");
        assertThat(r.json().at("/errors/0/message").asText())
                .isEqualTo("no pool named 'gone' (pools: dovecot, postfix)");
    }

    @Test
    void aRouteDocumentIsCheckedAsAWhole() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/users/a@b.c", "{\"pol\": \"dovecot\"}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors"))
                .extracting(
                        e -> e.get("path").asText() + ": " + e.get("message").asText())
                .containsExactly("$.pol: unknown key (known keys: pool)", "$.pool: is required");
    }

    @Test
    void aBadKeyInTheUrlIs400NamingTheParameter() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/routes/domains/not_a..domain", "{\"pool\": \"dovecot\"}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("domain");
        assertThat(r.json().at("/errors/0/path").isMissingNode()).isTrue();
    }

    @Test
    void setsAndClearsTheDefaultPool() {
        assertThat(admin.get("/api/v1/routes/default").json().get("pool").asText())
                .isEqualTo("dovecot");
        assertThat(admin.send("PUT", "/api/v1/routes/default", "{\"pool\": \"postfix\"}")
                        .status())
                .isEqualTo(200);
        assertThat(admin.store.current().routes().defaultPool()).contains("postfix");
        assertThat(admin.send("DELETE", "/api/v1/routes/default", null).status())
                .isEqualTo(200);
        assertThat(admin.get("/api/v1/routes/default").status()).isEqualTo(404);
        assertThat(admin.send("PUT", "/api/v1/routes/default", "{\"pool\": \"postfix\"}")
                        .status())
                .isEqualTo(201);
    }

    @Test
    void explainAsksTheProxyAndShowsItsAnswer() {
        admin.proxy.explanation = new Explanation(
                "bob@example.com",
                Optional.of("domain"),
                Optional.of("example.com"),
                Optional.of("dovecot"),
                List.of(
                        new Explanation.Candidate("d2", true, "active, healthy, 3 sessions"),
                        new Explanation.Candidate("d1", false, "draining")));

        AdminFixture.Reply r = admin.get("/api/v1/routes/explain?user=bob%40example.com&protocol=imap");

        assertThat(r.status()).isEqualTo(200);
        JsonNode e = r.json();
        assertThat(e.get("rule").asText()).isEqualTo("domain");
        assertThat(e.get("key").asText()).isEqualTo("example.com");
        assertThat(e.get("pool").asText()).isEqualTo("dovecot");
        assertThat(e.get("protocol").asText()).isEqualTo("imap");
        assertThat(e.get("backends"))
                .extracting(b -> b.get("id").asText() + " " + b.get("eligible").asBoolean() + " "
                        + b.get("reason").asText())
                .containsExactly("d2 true active, healthy, 3 sessions", "d1 false draining");
        assertThat(admin.proxy.calls).contains("explain bob@example.com imap");
    }

    @Test
    void explainNeedsAUserAndAKnownProtocol() {
        AdminFixture.Reply noUser = admin.get("/api/v1/routes/explain");
        assertThat(noUser.status()).isEqualTo(400);
        assertThat(noUser.json().at("/errors/0/parameter").asText()).isEqualTo("user");

        AdminFixture.Reply badProtocol = admin.get("/api/v1/routes/explain?user=a@b.c&protocol=gopher");
        assertThat(badProtocol.status()).isEqualTo(400);
        assertThat(badProtocol.json().at("/errors/0/message").asText())
                .isEqualTo("'gopher' is not one of imap, pop3, managesieve, smtp, lmtp, tcp");
    }
}
