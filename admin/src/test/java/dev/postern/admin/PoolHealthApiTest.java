package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.HealthCheckConfig;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Health-check settings through the pools API, and each backend's live health in the pool list. */
class PoolHealthApiTest {
    private static final String LOGIN_POOL =
            """
            {"backends": [{"id": "f1", "address": "10.0.1.1:143"}],
             "health-check": {"mode": "login", "protocol": "imap", "user": "probe@example.com",
                              "password": "probe-secret", "fall": 2, "rise": 1}}
            """;

    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    private HealthCheckConfig stored(String pool) {
        return admin.store.current().pool(pool).orElseThrow().healthCheck();
    }

    @Test
    void aPutSetsTheLoginModeAndShowsThePasswordRedacted() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/fast", LOGIN_POOL);

        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().at("/health-check/mode").asText()).isEqualTo("login");
        assertThat(r.json().at("/health-check/password").asText()).isEqualTo("***");
        assertThat(r.body()).doesNotContain("probe-secret");
        HealthCheckConfig h = stored("fast");
        assertThat(h.mode()).isEqualTo(HealthCheckConfig.Mode.LOGIN);
        assertThat(h.login().orElseThrow().password().reveal()).isEqualTo("probe-secret");
        assertThat(h.fall()).isEqualTo(2);
    }

    @Test
    void aPoolReadAndWrittenBackKeepsItsHealthSettingsAndProbePassword() {
        admin.send("PUT", "/api/v1/pools/fast", LOGIN_POOL);
        ObjectNode doc = (ObjectNode) admin.get("/api/v1/pools/fast").json();
        ((ObjectNode) doc.at("/backends/0")).put("weight", 7);

        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/fast", doc.toString());

        assertThat(r.status()).isEqualTo(200);
        HealthCheckConfig h = stored("fast");
        assertThat(h.mode()).isEqualTo(HealthCheckConfig.Mode.LOGIN);
        assertThat(h.login().orElseThrow().password().reveal()).isEqualTo("probe-secret");
        assertThat(h.rise()).isEqualTo(1);
        assertThat(admin.store
                        .current()
                        .pool("fast")
                        .orElseThrow()
                        .backends()
                        .get(0)
                        .weight())
                .isEqualTo(7);
    }

    @Test
    void aPutWithoutHealthSettingsGoesBackToTheDefaults() {
        admin.send("PUT", "/api/v1/pools/fast", LOGIN_POOL);

        admin.send("PUT", "/api/v1/pools/fast", "{\"backends\": [{\"id\": \"f1\", \"address\": \"10.0.1.1:143\"}]}");

        assertThat(stored("fast")).isEqualTo(HealthCheckConfig.DEFAULTS);
    }

    @Test
    void aRedactedProbePasswordWithNothingToKeepIsRefused() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/fast", LOGIN_POOL.replace("probe-secret", "***"));

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("health-check.password");
        assertThat(admin.store.current().pool("fast")).isEmpty();
    }

    @Test
    void loginModeWithATcpProtocolIsRefusedWithItsPath() {
        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/fast", LOGIN_POOL.replace("\"imap\"", "\"tcp\""));

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("health-check.mode").contains("only for imap, pop3 and smtp pools");
    }

    @Test
    void theListShowsEachBackendsHealthAndLastFailure() {
        Instant at = Instant.parse("2026-12-04T18:00:00Z");
        admin.proxy.statuses.put(
                "dovecot/d1",
                new BackendStatus(
                        false,
                        0,
                        Optional.of("login refused: NO [AUTHENTICATIONFAILED] Authentication failed."),
                        Optional.of(at)));
        admin.proxy.statuses.put("dovecot/d2", new BackendStatus(true, 3));

        JsonNode list = admin.get("/api/v1/pools").json();

        assertThat(list.at("/pools/0/backends/0/health/healthy").asBoolean()).isFalse();
        assertThat(list.at("/pools/0/backends/0/health/last-failure").asText())
                .isEqualTo("login refused: NO [AUTHENTICATIONFAILED] Authentication failed.");
        assertThat(list.at("/pools/0/backends/0/health/last-failure-at").asText())
                .isEqualTo("2026-12-04T18:00:00Z");
        assertThat(list.at("/pools/0/backends/1/health/healthy").asBoolean()).isTrue();
        assertThat(list.at("/pools/0/backends/1/health/last-failure").isNull()).isTrue();
        JsonNode status = admin.get("/api/v1/pools/dovecot/status").json();
        assertThat(status.at("/backends/0/last-failure").asText()).startsWith("login refused:");
    }

    @Test
    void aListedBackendWrittenBackIsReadWithoutItsHealth() {
        admin.proxy.statuses.put("dovecot/d2", new BackendStatus(true, 1));
        JsonNode listed = admin.get("/api/v1/pools").json().at("/pools/0/backends/1");
        assertThat(listed.has("health")).isTrue();

        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/dovecot/backends/d2", listed.toString());

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void aListedPoolWrittenBackIsReadWithoutItsHealth() {
        admin.proxy.statuses.put("dovecot/d1", new BackendStatus(false, 0, Optional.of("timeout"), Optional.empty()));
        JsonNode listed = admin.get("/api/v1/pools").json().at("/pools/0");

        AdminFixture.Reply r = admin.send("PUT", "/api/v1/pools/dovecot", listed.toString());

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().at("/backends/0/health").isMissingNode()).isTrue();
        assertThat(admin.store
                        .current()
                        .pool("dovecot")
                        .orElseThrow()
                        .backends()
                        .get(0)
                        .master())
                .isPresent();
    }
}
