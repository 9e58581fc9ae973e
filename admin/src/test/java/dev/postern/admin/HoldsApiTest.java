package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code /api/v1/holds} and {@code POST /api/v1/routes/users/{user}/move}. */
class HoldsApiTest {
    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void setsListsAndReleasesAHold() {
        AdminFixture.Reply set =
                admin.send("POST", "/api/v1/holds", "{\"user\": \"Alice@Example.com\", \"timeout\": \"10m\"}");

        assertThat(set.status()).as(set.body()).isEqualTo(201);
        assertThat(set.json().get("user").asText()).isEqualTo("alice@example.com");
        assertThat(set.json().get("until").asText()).isEqualTo("2026-06-01T12:10:00Z");
        assertThat(set.json().get("cluster").asText()).isEqualTo("off");
        assertThat(admin.proxy.calls).contains("hold alice@example.com 600s");

        AdminFixture.Reply list = admin.get("/api/v1/holds");
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.json().get("hold-timeout").asText()).isEqualTo("30s");
        assertThat(list.json().get("holds")).singleElement().satisfies(h -> {
            assertThat(h.get("user").asText()).isEqualTo("alice@example.com");
            assertThat(h.get("remaining-ms").asLong()).isEqualTo(600_000);
        });

        AdminFixture.Reply released = admin.send("DELETE", "/api/v1/holds/alice@example.com", null);
        assertThat(released.status()).as(released.body()).isEqualTo(200);
        assertThat(released.json().get("released").asText()).isEqualTo("alice@example.com");
        assertThat(admin.get("/api/v1/holds").json().get("holds")).isEmpty();
    }

    @Test
    void aHoldWithoutATimeoutLastsFiveMinutes() {
        AdminFixture.Reply set = admin.send("POST", "/api/v1/holds", "{\"user\": \"bob@example.com\"}");

        assertThat(set.status()).isEqualTo(201);
        assertThat(admin.proxy.calls).contains("hold bob@example.com 300s");
    }

    @Test
    void badHoldDocumentsAre400() {
        assertThat(admin.send("POST", "/api/v1/holds", "{\"timeout\": \"10m\"}").body())
                .contains("$.user")
                .contains("is required");
        AdminFixture.Reply badTimeout =
                admin.send("POST", "/api/v1/holds", "{\"user\": \"a@b.c\", \"timeout\": \"soon\"}");
        assertThat(badTimeout.status()).isEqualTo(400);
        assertThat(badTimeout.body()).contains("'soon' is not a positive duration");
        AdminFixture.Reply tooLong = admin.send("POST", "/api/v1/holds", "{\"user\": \"a@b.c\", \"timeout\": \"2d\"}");
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.body()).contains("longer than 24h");
        AdminFixture.Reply badUser = admin.send("POST", "/api/v1/holds", "{\"user\": \"bob smith\"}");
        assertThat(badUser.status()).isEqualTo(400);
        assertThat(badUser.body()).contains("is not a user name");
        assertThat(admin.proxy.calls).noneMatch(c -> c.startsWith("hold "));
    }

    @Test
    void releasingAUserWhoIsNotHeldIs404() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/holds/nobody@example.com", null);

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).contains("is not held");
    }

    @Test
    void holdsNeedAReadWriteToken() {
        AdminFixture.Reply r =
                admin.send("POST", "/api/v1/holds", AdminFixture.VIEWER_TOKEN, "{\"user\": \"bob@example.com\"}");

        assertThat(r.status()).isEqualTo(403);
        assertThat(admin.proxy.calls).noneMatch(c -> c.startsWith("hold "));
    }

    @Test
    void aMoveHoldsEndsSessionsSwitchesTheRouteAndReleases() {
        admin.proxy.explanation = new Explanation(
                "carol@example.com",
                Optional.of("domain"),
                Optional.of("example.com"),
                Optional.of("dovecot"),
                java.util.List.of());

        AdminFixture.Reply r =
                admin.send("POST", "/api/v1/routes/users/Carol@Example.com/move", "{\"to\": \"dovecot/d2\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("user").asText()).isEqualTo("carol@example.com");
        assertThat(r.json().at("/from/pool").asText()).isEqualTo("dovecot");
        assertThat(r.json().at("/to/pool").asText()).isEqualTo("dovecot");
        assertThat(r.json().at("/to/backend").asText()).isEqualTo("d2");
        assertThat(r.json().get("revision").asLong()).isEqualTo(2);
        assertThat(r.json().has("took-ms")).isTrue();
        assertThat(r.json().get("steps-ms").has("hold")).isTrue();
        assertThat(admin.store.current().routes().users()).containsEntry("carol@example.com", "dovecot");
        assertThat(admin.store.current().routes().pin("carol@example.com")).contains("d2");
        // in this order: hold, kick, (route), release with the new revision
        assertThat(admin.proxy.calls)
                .containsSubsequence(
                        "hold carol@example.com 30s",
                        "killUserSessions carol@example.com",
                        "release carol@example.com 2");
        assertThat(admin.proxy.holds.holds()).isEmpty();
    }

    @Test
    void aMoveToAPoolUnpinsTheUser() {
        admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"dovecot/d1\"}");

        AdminFixture.Reply r =
                admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"postfix\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().at("/to/backend").isNull()).isTrue();
        assertThat(admin.store.current().routes().users()).containsEntry("carol@example.com", "postfix");
        assertThat(admin.store.current().routes().pin("carol@example.com")).isEmpty();
    }

    @Test
    void aMoveToAnUnknownPoolOrBackendIs404AndHoldsNothing() {
        AdminFixture.Reply pool =
                admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"nowhere\"}");
        AdminFixture.Reply backend =
                admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"dovecot/d9\"}");

        assertThat(pool.status()).isEqualTo(404);
        assertThat(pool.body()).contains("no pool named 'nowhere'");
        assertThat(backend.status()).isEqualTo(404);
        assertThat(backend.body()).contains("no backend 'd9' in pool 'dovecot'");
        assertThat(admin.proxy.calls).noneMatch(c -> c.startsWith("hold ") || c.startsWith("kill"));
        assertThat(admin.store.current().revision()).isEqualTo(1);
    }

    @Test
    void aMoveDocumentMustNameWhereTo() {
        AdminFixture.Reply missing = admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{}");
        AdminFixture.Reply bad =
                admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"dovecot/\"}");

        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.body()).contains("$.to");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("is not POOL or POOL/BACKEND");
    }

    @Test
    void aPinnedUserRouteShowsInTheRoutesAndASetRouteDropsThePin() {
        admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"dovecot/d2\"}");
        assertThat(admin.get("/api/v1/routes")
                        .json()
                        .at("/pins/carol@example.com")
                        .asText())
                .isEqualTo("d2");

        admin.send("PUT", "/api/v1/routes/users/carol@example.com", "{\"pool\": \"dovecot\"}");

        assertThat(admin.store.current().routes().pin("carol@example.com")).isEmpty();
    }

    @Test
    void removingThePinnedBackendDropsThePin() {
        admin.send("POST", "/api/v1/routes/users/carol@example.com/move", "{\"to\": \"dovecot/d2\"}");

        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/pools/dovecot/backends/d2", null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(admin.store.current().routes().pin("carol@example.com")).isEmpty();
        assertThat(admin.store.current().routes().users()).containsEntry("carol@example.com", "dovecot");
    }

    @Test
    void holdsListedByTheProxyShowTheirWaitingLogins() {
        admin.proxy.holds.put("dave@example.com", Instant.parse("2026-06-01T12:01:00Z"), 3);

        assertThat(admin.get("/api/v1/holds").json().at("/holds/0/waiting").asInt())
                .isEqualTo(3);
    }
}
