package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LiveApiTest {
    private final AdminFixture admin = AdminFixture.start();

    @BeforeEach
    void sessions() {
        admin.proxy.sessions.add(FakeProxyControl.session("s1", Protocol.IMAP, "alice@example.com", "dovecot", "d1"));
        admin.proxy.sessions.add(FakeProxyControl.session("s2", Protocol.POP3, "alice@example.com", "dovecot", "d2"));
        admin.proxy.sessions.add(FakeProxyControl.session("s3", Protocol.IMAP, "bob@example.com", "dovecot", "d2"));
        admin.proxy.sessions.add(FakeProxyControl.session("s4", Protocol.SMTP, null, null, null));
    }

    @AfterEach
    void stop() {
        admin.close();
    }

    private List<String> ids(AdminFixture.Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("sessions").findValuesAsText("id");
    }

    @Test
    void listsSessionsWithTheirDetails() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions");

        assertThat(ids(r)).containsExactly("s1", "s2", "s3", "s4");
        JsonNode s1 = r.json().at("/sessions/0");
        assertThat(s1.get("listener").asText()).isEqualTo("imaps");
        assertThat(s1.get("protocol").asText()).isEqualTo("imap");
        assertThat(s1.get("client").asText()).isEqualTo("203.0.113.7:51514");
        assertThat(s1.get("user").asText()).isEqualTo("alice@example.com");
        assertThat(s1.get("backend").asText()).isEqualTo("d1");
        assertThat(s1.get("tls").asText()).isEqualTo("TLSv1.3");
        assertThat(s1.get("started").asText()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(s1.get("bytes-in").asLong()).isEqualTo(100);
        assertThat(s1.get("bytes-out").asLong()).isEqualTo(2000);
        assertThat(r.json().at("/sessions/3/user").isNull()).isTrue();
        // a node on its own has no node id
        assertThat(s1.get("node").isNull()).isTrue();
        assertThat(r.json().get("node").isNull()).isTrue();
        assertThat(r.json().get("scope").asText()).isEqualTo("local");
    }

    @Test
    void aNodeOnItsOwnRefusesTheClusterScopeAndHasNoNodes() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions?scope=cluster");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("scope");
        assertThat(r.json().at("/errors/0/message").asText()).contains("not in a cluster");
        assertThat(admin.send("DELETE", "/api/v1/sessions?user=bob%40example.com&scope=cluster", null)
                        .status())
                .isEqualTo(400);
        assertThat(admin.proxy.sessions).hasSize(4);

        AdminFixture.Reply nodes = admin.get("/api/v1/cluster/nodes");
        assertThat(nodes.status()).isEqualTo(200);
        assertThat(nodes.json().get("cluster").asText()).isEqualTo("off");
        assertThat(nodes.json().get("nodes")).isEmpty();
    }

    @Test
    void filtersSessionsByUserBackendAndProtocol() {
        assertThat(ids(admin.get("/api/v1/sessions?user=ALICE%40example.com"))).containsExactly("s1", "s2");
        assertThat(ids(admin.get("/api/v1/sessions?backend=d2"))).containsExactly("s2", "s3");
        assertThat(ids(admin.get("/api/v1/sessions?protocol=imap&backend=d2"))).containsExactly("s3");
        assertThat(ids(admin.get("/api/v1/sessions?pool=dovecot&protocol=smtp")))
                .isEmpty();
    }

    @Test
    void limitsTheList() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions?limit=2");

        assertThat(ids(r)).containsExactly("s1", "s2");
        assertThat(r.json().get("count").asInt()).isEqualTo(4);
        assertThat(r.json().get("truncated").asBoolean()).isTrue();
        assertThat(admin.get("/api/v1/sessions?limit=0").status()).isEqualTo(400);
    }

    @Test
    void killsOneSession() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions/s3", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(admin.proxy.calls).contains("killSession s3");
        assertThat(ids(admin.get("/api/v1/sessions"))).containsExactly("s1", "s2", "s4");
        assertThat(admin.send("DELETE", "/api/v1/sessions/s3", null).status()).isEqualTo(404);
    }

    @Test
    void killsEverySessionOfAUser() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions?user=alice%40example.com", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("killed").asInt()).isEqualTo(2);
        assertThat(ids(admin.get("/api/v1/sessions"))).containsExactly("s3", "s4");
    }

    @Test
    void killingWithoutAUserIsRefused() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions", null);

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("user");
        assertThat(admin.proxy.sessions).hasSize(4);
    }

    @Test
    void flushesTheAuthCacheForOneUserOrAll() {
        assertThat(admin.send("DELETE", "/api/v1/auth-cache/bob@example.com", null)
                        .status())
                .isEqualTo(200);
        assertThat(admin.send("DELETE", "/api/v1/auth-cache", null).status()).isEqualTo(200);

        assertThat(admin.proxy.calls).containsSubsequence("invalidateAuth bob@example.com", "invalidateAllAuth");
    }

    @Test
    void listsCertificatesWithExpiry() {
        JsonNode c = admin.get("/api/v1/tls/certificates").json().at("/certificates/0");

        assertThat(c.get("name").asText()).isEqualTo("example-com");
        assertThat(c.get("subject").asText()).isEqualTo("CN=mail.example.com");
        assertThat(c.get("dns-names"))
                .extracting(JsonNode::asText)
                .containsExactly("mail.example.com", "imap.example.com");
        assertThat(c.get("not-after").asText()).isEqualTo("2030-01-01T00:00:00Z");
        assertThat(c.get("expires-in-days").asLong()).isEqualTo(1309);
        assertThat(c.get("default").asBoolean()).isTrue();
    }

    @Test
    void reloadsCertificates() {
        admin.proxy.certificates =
                List.of(FakeProxyControl.certificate("renewed", Instant.parse("2031-01-01T00:00:00Z")));

        AdminFixture.Reply r = admin.send("POST", "/api/v1/tls/reload", null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().at("/certificates/0/name").asText()).isEqualTo("renewed");
        assertThat(admin.proxy.calls).contains("reloadTls");
    }

    @Test
    void aFailedReloadIs422WithTheReason() {
        admin.proxy.reloadResult = new TlsReloadResult.Failed("/etc/postern/key.pem: wrong key-password");

        AdminFixture.Reply r = admin.send("POST", "/api/v1/tls/reload", null);

        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:tls-reload-failed");
        assertThat(r.json().get("detail").asText()).isEqualTo("/etc/postern/key.pem: wrong key-password");
    }

    @Test
    void showsTheEffectiveConfigAsTheProxyRedactedIt() {
        AdminFixture.Reply r = admin.get("/api/v1/config");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().at("/admin/tokens/0/token").asText()).isEqualTo("***");
    }

    @Test
    void showsTheRevisionAndTheWholeRoutingTable() {
        admin.send("POST", "/api/v1/pools/postfix/backends/p1/disable", null);

        AdminFixture.Reply revision = admin.get("/api/v1/revision");
        assertThat(revision.json().get("revision").asLong()).isEqualTo(2);
        assertThat(revision.header("ETag")).isEqualTo("\"2\"");

        AdminFixture.Reply routing = admin.get("/api/v1/routing");
        assertThat(routing.json().get("revision").asLong()).isEqualTo(2);
        assertThat(routing.json().at("/pools/1/backends/0/state").asText()).isEqualTo("disabled");
        assertThat(routing.body()).doesNotContain("master-pw");
    }
}
