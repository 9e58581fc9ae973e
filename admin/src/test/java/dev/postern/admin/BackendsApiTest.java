package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.Backend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendsApiTest {
    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    private Backend backend(String pool, String id) {
        return admin.store.current().pool(pool).orElseThrow().backend(id).orElseThrow();
    }

    @Test
    void listsAndGetsBackends() {
        JsonNode list = admin.get("/api/v1/pools/dovecot/backends").json();
        assertThat(list.get("backends")).extracting(b -> b.get("id").asText()).containsExactly("d1", "d2");

        AdminFixture.Reply one = admin.get("/api/v1/pools/dovecot/backends/d2");
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.header("ETag")).isEqualTo("\"1\"");
        assertThat(one.json().get("host").asText()).isEqualTo("10.0.0.2");

        assertThat(admin.get("/api/v1/pools/dovecot/backends/d9").status()).isEqualTo(404);
        assertThat(admin.get("/api/v1/pools/nope/backends").status()).isEqualTo(404);
    }

    @Test
    void addsABackend() {
        AdminFixture.Reply r = admin.send(
                "POST",
                "/api/v1/pools/dovecot/backends",
                "{\"id\": \"d3\", \"address\": \"10.0.0.9:143\", \"weight\": 3}");

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("Location")).isEqualTo("/api/v1/pools/dovecot/backends/d3");
        assertThat(backend("dovecot", "d3").weight()).isEqualTo(3);
    }

    @Test
    void aBackendWithoutIdIsNamedByItsAddressAndCanBeAddressedSo() {
        AdminFixture.Reply r =
                admin.send("POST", "/api/v1/pools/postfix/backends", "{\"address\": \"[2001:db8::1]:25\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("Location")).isEqualTo("/api/v1/pools/postfix/backends/%5B2001%3Adb8%3A%3A1%5D%3A25");
        assertThat(admin.get(r.header("Location")).json().get("host").asText()).isEqualTo("2001:db8::1");
    }

    @Test
    void addingAnExistingBackendIs409() {
        AdminFixture.Reply r =
                admin.send("POST", "/api/v1/pools/dovecot/backends", "{\"id\": \"d1\", \"address\": \"10.0.0.9:143\"}");

        assertThat(r.status()).isEqualTo(409);
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void anInvalidBackendIs400WithPaths() {
        AdminFixture.Reply r = admin.send(
                "PUT",
                "/api/v1/pools/dovecot/backends/d2",
                "{\"address\": \"10.0.0.2:99999\", \"state\": \"sleepy\", \"tls-verify\": \"maybe\"}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors"))
                .extracting(e -> e.get("path").asText())
                .containsExactlyInAnyOrder("$.address", "$.state", "$.tls-verify");
    }

    @Test
    void replacesABackendAndKeepsItsRedactedMasterPassword() {
        JsonNode d1 = admin.get("/api/v1/pools/dovecot/backends/d1").json();
        String changed = d1.toString().replace("\"host\":\"10.0.0.1\"", "\"host\":\"10.0.0.11\"");

        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/dovecot/backends/d1", changed);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(backend("dovecot", "d1").host()).isEqualTo("10.0.0.11");
        assertThat(backend("dovecot", "d1").master().orElseThrow().password().reveal())
                .isEqualTo("master-pw");
        assertThat(r.body()).doesNotContain("master-pw");
    }

    @Test
    void deletesABackendButNotTheLastOne() {
        assertThat(admin.send("DELETE", "/api/v1/pools/dovecot/backends/d2", null)
                        .status())
                .isEqualTo(200);
        assertThat(admin.store.current().pool("dovecot").orElseThrow().backends())
                .extracting(Backend::id)
                .containsExactly("d1");

        AdminFixture.Reply last = admin.send("DELETE", "/api/v1/pools/dovecot/backends/d1", null);

        assertThat(last.status()).isEqualTo(409);
        assertThat(last.json().get("type").asText()).isEqualTo("urn:postern:problem:last-backend");
        assertThat(admin.send("DELETE", "/api/v1/pools/dovecot/backends/d2", null)
                        .status())
                .isEqualTo(404);
    }

    @Test
    void drainSetsTheStateAndTellsTheProxyTheDeadline() {
        AdminFixture.Reply r = admin.send("POST", "/api/v1/pools/dovecot/backends/d1/drain", "{\"deadline\": \"10m\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("state").asText()).isEqualTo("draining");
        assertThat(r.json().get("deadline").asText()).isEqualTo("2026-06-01T12:10:00Z");
        assertThat(backend("dovecot", "d1").state()).isEqualTo(Backend.State.DRAINING);
        assertThat(admin.proxy.calls).contains("drain dovecot/d1 2026-06-01T12:10:00Z");
    }

    @Test
    void drainWithoutDeadlineLetsSessionsRun() {
        AdminFixture.Reply r = admin.send("POST", "/api/v1/pools/dovecot/backends/d2/drain", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().has("deadline")).isFalse();
        assertThat(admin.proxy.calls).contains("drain dovecot/d2 -");
    }

    @Test
    void drainTakesAnAbsoluteDeadlineToo() {
        AdminFixture.Reply r = admin.send(
                "POST", "/api/v1/pools/dovecot/backends/d2/drain", "{\"deadline\": \"2026-06-01T13:00:00Z\"}");

        assertThat(r.json().get("deadline").asText()).isEqualTo("2026-06-01T13:00:00Z");
    }

    @Test
    void aBadDeadlineIs400AndChangesNothing() {
        AdminFixture.Reply r = admin.send(
                "POST", "/api/v1/pools/dovecot/backends/d1/drain", "{\"deadline\": \"soon\", \"force\": true}");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors"))
                .extracting(e -> e.get("path").asText())
                .containsExactly("$.force");
        AdminFixture.Reply r2 =
                admin.send("POST", "/api/v1/pools/dovecot/backends/d1/drain", "{\"deadline\": \"soon\"}");
        assertThat(r2.status()).isEqualTo(400);
        assertThat(r2.json().at("/errors/0/message").asText())
                .isEqualTo("'soon' is neither a duration (30s, 10m, 2h) nor a time (2030-01-01T00:00:00Z)");
        assertThat(backend("dovecot", "d1").state()).isEqualTo(Backend.State.ACTIVE);
        assertThat(admin.proxy.calls).noneMatch(c -> c.startsWith("drain"));
    }

    @Test
    void disableAndEnable() {
        AdminFixture.Reply disabled = admin.send("POST", "/api/v1/pools/postfix/backends/p1/disable", null);
        assertThat(disabled.status()).isEqualTo(200);
        assertThat(disabled.header("ETag")).isEqualTo("\"2\"");
        assertThat(backend("postfix", "p1").state()).isEqualTo(Backend.State.DISABLED);

        AdminFixture.Reply again = admin.send("POST", "/api/v1/pools/postfix/backends/p1/disable", null);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.header("ETag")).as("nothing changed, no new revision").isEqualTo("\"2\"");

        AdminFixture.Reply enabled = admin.send("POST", "/api/v1/pools/postfix/backends/p1/enable", null);
        assertThat(enabled.json().get("state").asText()).isEqualTo("active");
        assertThat(backend("postfix", "p1").state()).isEqualTo(Backend.State.ACTIVE);
        assertThat(admin.store.current().revision()).isEqualTo(3);
    }

    @Test
    void stateChangesOfUnknownBackendsAre404() {
        assertThat(admin.send("POST", "/api/v1/pools/postfix/backends/p9/drain", null)
                        .status())
                .isEqualTo(404);
        assertThat(admin.send("POST", "/api/v1/pools/nope/backends/p1/enable", null)
                        .status())
                .isEqualTo(404);
        assertThat(admin.proxy.calls).noneMatch(c -> c.startsWith("drain"));
    }
}
