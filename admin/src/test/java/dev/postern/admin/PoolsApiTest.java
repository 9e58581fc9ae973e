package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.Backend;
import dev.postern.config.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PoolsApiTest {
    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void listsPoolsWithTheRevisionAsETagAndSecretsRedacted() {
        AdminFixture.Reply r = admin.get("/api/v1/pools");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("ETag")).isEqualTo("\"1\"");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        JsonNode json = r.json();
        assertThat(json.get("revision").asLong()).isEqualTo(1);
        assertThat(json.get("pools")).extracting(p -> p.get("name").asText()).containsExactly("dovecot", "postfix");
        assertThat(json.at("/pools/0/backends/0/master-password").asText()).isEqualTo("***");
        assertThat(r.body()).doesNotContain("master-pw");
    }

    @Test
    void getsOnePool() {
        AdminFixture.Reply r = admin.get("/api/v1/pools/postfix");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("ETag")).isEqualTo("\"1\"");
        assertThat(r.json().get("balancer").asText()).isEqualTo("round-robin");
        assertThat(r.json().at("/backends/0/id").asText()).isEqualTo("p1");
    }

    @Test
    void anUnknownPoolIs404() {
        AdminFixture.Reply r = admin.get("/api/v1/pools/nope");

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(r.json().get("status").asInt()).isEqualTo(404);
        assertThat(r.json().get("detail").asText()).isEqualTo("no pool named 'nope'");
    }

    @Test
    void createsAPoolThatTheStoreThenHolds() {
        AdminFixture.Reply r = admin.send(
                "POST",
                "/api/v1/pools",
                """
                {"name": "fast", "balancer": "least-sessions",
                 "backends": [{"id": "f1", "address": "10.0.1.1:143", "weight": 5}]}
                """);

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("Location")).isEqualTo("/api/v1/pools/fast");
        assertThat(r.header("ETag")).isEqualTo("\"2\"");
        Pool fast = admin.store.current().pool("fast").orElseThrow();
        assertThat(fast.balancer()).isEqualTo(Pool.Balancer.LEAST_SESSIONS);
        assertThat(fast.backends())
                .extracting(Backend::id, Backend::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("f1", 5));
        assertThat(admin.store.current().revision()).isEqualTo(2);
    }

    @Test
    void creatingAnExistingPoolIs409() {
        AdminFixture.Reply r = admin.send(
                "POST", "/api/v1/pools", "{\"name\": \"postfix\", \"backends\": [{\"address\": \"10.0.1.1:25\"}]}");

        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:exists");
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void anInvalidPoolIs400WithEveryProblemAndItsPath() {
        AdminFixture.Reply r = admin.send(
                "POST",
                "/api/v1/pools",
                """
                {"name": "Fast", "balancer": "random",
                 "backends": [{"address": "10.0.1.1:143", "weight": 0}, {"host": "10.0.1.2", "colour": "red"}]}
                """);

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        JsonNode problem = r.json();
        assertThat(problem.get("type").asText()).isEqualTo("urn:postern:problem:invalid-input");
        assertThat(problem.get("title").asText()).isEqualTo("The request is invalid");
        assertThat(problem.get("status").asInt()).isEqualTo(400);
        assertThat(problem.get("errors"))
                .extracting(
                        e -> e.get("path").asText() + ": " + e.get("message").asText())
                .containsExactlyInAnyOrder(
                        "$.name: 'Fast' is not a valid name (lowercase letters, digits, '-' and '_', starting with a"
                                + " letter or digit)",
                        "$.balancer: 'random' is not one of round-robin, least-sessions, consistent-hash",
                        "$.backends[0].weight: 0 must be between 1 and 1000",
                        "$.backends[1].colour: unknown key (known keys: id, address, host, port, ports, weight,"
                                + " state, max-sessions, tls, tls-verify, identity, master-user, master-password)",
                        "$.backends[1]: needs a port (in address, port or ports)");
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void aBodyThatIsNotJsonIs400() {
        AdminFixture.Reply r = admin.send("POST", "/api/v1/pools", "{\"name\": ");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/path").asText()).isEqualTo("$");
        assertThat(r.json().at("/errors/0/message").asText()).startsWith("JSON syntax error at line 1");
    }

    @Test
    void replacesAPoolKeepingARedactedSecret() {
        JsonNode dovecot = admin.get("/api/v1/pools/dovecot").json();
        String changed = dovecot.toString().replace("\"weight\":1", "\"weight\":7");

        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/dovecot", changed);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Pool pool = admin.store.current().pool("dovecot").orElseThrow();
        assertThat(pool.backends()).extracting(Backend::weight).containsExactly(7, 7);
        assertThat(pool.backend("d1")
                        .orElseThrow()
                        .master()
                        .orElseThrow()
                        .password()
                        .reveal())
                .isEqualTo("master-pw");
    }

    @Test
    void aRedactedSecretWithNothingToKeepIs400() {
        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/pools/dovecot",
                """
                {"backends": [{"id": "d2", "address": "10.0.0.2:143", "master-user": "m", "master-password": "***"}]}
                """);

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/path").asText()).isEqualTo("$.backends[0].master-password");
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void putCreatesAPoolAndTakesItsNameFromTheUrl() {
        AdminFixture.Reply r =
                admin.send("PUT", "/api/v1/pools/new-pool", "{\"backends\": [{\"address\": \"10.0.2.1:143\"}]}");

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(admin.store.current().pool("new-pool")).isPresent();
    }

    @Test
    void aNameThatContradictsTheUrlIs400() {
        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/pools/dovecot",
                "{\"name\": \"other\", \"backends\": [{\"address\": \"10.0.2.1:143\"}]}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/path").asText()).isEqualTo("$.name");
        assertThat(r.json().at("/errors/0/message").asText())
                .isEqualTo("'other' is not the name in the URL ('dovecot')");
    }

    @Test
    void deletingAPoolThatRoutesUseIs409UnlessForced() {
        AdminFixture.Reply refused = admin.send("DELETE", "/api/v1/pools/dovecot", null);

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("type").asText()).isEqualTo("urn:postern:problem:in-use");
        assertThat(refused.json().get("detail").asText())
                .isEqualTo("pool 'dovecot' is the target of 3 route(s): user vip@example.com, domain example.com,"
                        + " default; move or delete them first, or delete with ?force=true to delete them too");
        assertThat(admin.store.current().pool("dovecot")).isPresent();

        AdminFixture.Reply forced = admin.send("DELETE", "/api/v1/pools/dovecot?force=true", null);

        assertThat(forced.status()).as(forced.body()).isEqualTo(200);
        assertThat(forced.json().get("routes-deleted"))
                .extracting(JsonNode::asText)
                .containsExactly("user vip@example.com", "domain example.com", "default");
        assertThat(admin.store.current().pool("dovecot")).isEmpty();
        assertThat(admin.store.current().routes().users()).isEmpty();
        assertThat(admin.store.current().routes().defaultPool()).isEmpty();
    }

    @Test
    void deletingAnUnusedPoolNeedsNoForce() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/pools/postfix", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("ETag")).isEqualTo("\"2\"");
        assertThat(admin.store.current().pool("postfix")).isEmpty();
        assertThat(admin.send("DELETE", "/api/v1/pools/postfix", null).status()).isEqualTo(404);
    }

    @Test
    void aValidatorOfTheStoreRefusesWith409AndTablePaths() {
        admin.store.addValidator(t -> t.pool("postfix").isPresent()
                ? java.util.List.of()
                : java.util.List.of(new dev.postern.config.ConfigProblem(
                        "listeners[3].pool", "no pool named 'postfix' (listener 'smtp' uses it)")));

        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/pools/postfix", null);

        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:invalid-table");
        assertThat(r.json().at("/errors/0/path").asText()).isEqualTo("$.listeners[3].pool");
        assertThat(admin.store.current().pool("postfix")).isPresent();
    }

    @Test
    void statusShowsEachBackendsLiveState() {
        admin.proxy.statuses.put("dovecot/d1", new BackendStatus(true, 12));
        admin.proxy.statuses.put("dovecot/d2", new BackendStatus(false, 0));

        JsonNode status = admin.get("/api/v1/pools/dovecot/status").json();

        assertThat(status.get("backends"))
                .extracting(b -> b.get("id").asText() + " " + b.get("state").asText() + " healthy="
                        + b.get("healthy").asText() + " sessions="
                        + b.get("sessions").asText())
                .containsExactly("d1 active healthy=true sessions=12", "d2 active healthy=false sessions=0");
    }
}
