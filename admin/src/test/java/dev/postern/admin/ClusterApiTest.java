package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.ConfigProblem;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The live resources of a node in a cluster: the scope, each node's answer, and Redis down. */
class ClusterApiTest {
    private final AdminFixture admin = AdminFixture.start();
    private FakeClusterControl cluster;

    private static SessionView session(String id, String user, String started) {
        SessionView s = FakeProxyControl.session(id, Protocol.IMAP, user, "dovecot", "d1");
        return new SessionView(
                s.id(),
                s.listener(),
                s.protocol(),
                s.client(),
                s.user(),
                s.pool(),
                s.backend(),
                s.tls(),
                Instant.parse(started),
                s.bytesIn(),
                s.bytesOut());
    }

    @BeforeEach
    void cluster() {
        cluster = new FakeClusterControl("n1", admin.proxy);
        admin.proxy.sessions.add(
                session("n1-a1", "alice@example.com", "2026-01-01T00:00:02Z").withNode("n1"));
        admin.proxy.sessions.add(
                session("n1-a2", "bob@example.com", "2026-01-01T00:00:04Z").withNode("n1"));
        cluster.node(
                "n2",
                session("n2-b1", "alice@example.com", "2026-01-01T00:00:01Z"),
                session("n2-b2", "alice@example.com", "2026-01-01T00:00:03Z"));
        cluster.node("n3", session("n3-c1", "carol@example.com", "2026-01-01T00:00:05Z"));
    }

    @AfterEach
    void stop() {
        admin.close();
    }

    private static List<String> ids(AdminFixture.Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("sessions").findValuesAsText("id");
    }

    private static List<String> nodes(JsonNode answer) {
        return answer.get("nodes").findValuesAsText("node");
    }

    @Test
    void theSessionListIsThisNodesUnlessTheClusterIsAskedFor() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions");

        assertThat(ids(r)).containsExactly("n1-a1", "n1-a2");
        assertThat(r.json().get("node").asText()).isEqualTo("n1");
        assertThat(r.json().get("scope").asText()).isEqualTo("local");
        assertThat(r.json().at("/sessions/0/node").asText()).isEqualTo("n1");
        assertThat(r.json().has("cluster")).isFalse();
        assertThat(cluster.calls).isEmpty();
    }

    @Test
    void theClusterListHasEveryNodesSessionsOldestFirstEachWithItsNode() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions?scope=cluster");

        assertThat(ids(r)).containsExactly("n2-b1", "n1-a1", "n2-b2", "n1-a2", "n3-c1");
        assertThat(r.json().get("sessions").findValuesAsText("node")).containsExactly("n2", "n1", "n2", "n1", "n3");
        assertThat(r.json().get("count").asInt()).isEqualTo(5);
        assertThat(r.json().get("scope").asText()).isEqualTo("cluster");
        assertThat(r.json().get("cluster").asText()).isEqualTo("complete");
        assertThat(nodes(r.json())).containsExactly("n1", "n2", "n3");
        assertThat(r.json().get("nodes").findValuesAsText("count")).containsExactly("2", "2", "1");
        assertThat(r.json().get("missing")).isEmpty();
    }

    @Test
    void theClusterListIsFilteredAndLimitedAcrossTheNodes() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions?scope=cluster&user=alice%40example.com&limit=2");

        assertThat(ids(r)).containsExactly("n2-b1", "n1-a1");
        assertThat(r.json().get("count").asInt()).isEqualTo(3);
        assertThat(r.json().get("truncated").asBoolean()).isTrue();
    }

    @Test
    void theClusterListSaysWhichNodesDidNotAnswer() {
        cluster.silent.add("n3");

        AdminFixture.Reply r = admin.get("/api/v1/sessions?scope=cluster");

        assertThat(ids(r)).containsExactly("n2-b1", "n1-a1", "n2-b2", "n1-a2");
        assertThat(r.json().get("cluster").asText()).isEqualTo("partial");
        assertThat(r.json().get("missing")).extracting(JsonNode::asText).containsExactly("n3");
        assertThat(r.json().get("waited-ms").asLong()).isEqualTo(1000);
    }

    @Test
    void aKickReachesEveryNodeAndSaysWhatEachClosed() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions?user=alice%40example.com", null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("killed").asInt()).isEqualTo(3);
        assertThat(r.json().get("scope").asText()).isEqualTo("cluster");
        assertThat(r.json().get("cluster").asText()).isEqualTo("complete");
        assertThat(r.json().get("reached").asInt()).isEqualTo(2);
        assertThat(nodes(r.json())).containsExactly("n1", "n2", "n3");
        assertThat(r.json().get("nodes").findValuesAsText("killed")).containsExactly("1", "2", "0");
        assertThat(cluster.others.get("n2").sessions).isEmpty();
    }

    @Test
    void aKickWithScopeLocalStaysOnThisNode() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions?user=alice%40example.com&scope=local", null);

        assertThat(r.json().get("killed").asInt()).isEqualTo(1);
        assertThat(r.json().get("scope").asText()).isEqualTo("local");
        assertThat(cluster.calls).isEmpty();
        assertThat(cluster.others.get("n2").sessions).hasSize(2);
    }

    @Test
    void whileRedisIsDownAKickIsDoneHereAndTheAnswerSaysTheClusterWasUnreachable() {
        cluster.down = true;

        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions?user=alice%40example.com", null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("killed").asInt()).isEqualTo(1);
        assertThat(r.json().get("cluster").asText()).isEqualTo("unreachable");
        assertThat(r.json().get("cluster-detail").asText()).contains("cannot be reached");
        assertThat(r.json().get("reached").asInt()).isZero();
        assertThat(nodes(r.json())).containsExactly("n1");
        assertThat(admin.proxy.sessions).extracting(SessionView::id).containsExactly("n1-a2");
    }

    @Test
    void aSessionOfAnotherNodeIsClosedThroughThisOne() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions/n2-b2", null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("killed").asInt()).isEqualTo(1);
        assertThat(r.json().get("on").asText()).isEqualTo("n2");
        assertThat(cluster.others.get("n2").sessions)
                .extracting(SessionView::id)
                .containsExactly("n2-b1");
    }

    @Test
    void aSessionOfThisNodeIsClosedWithoutAskingTheOthers() {
        AdminFixture.Reply r = admin.send("DELETE", "/api/v1/sessions/n1-a1", null);

        assertThat(r.json().get("on").asText()).isEqualTo("n1");
        assertThat(cluster.calls).isEmpty();
    }

    @Test
    void aSessionNoNodeHasIs404AndOneTheClusterCannotBeAskedAboutIs503() {
        assertThat(admin.send("DELETE", "/api/v1/sessions/n2-zz", null).status())
                .isEqualTo(404);

        cluster.silent.add("n2");
        AdminFixture.Reply partial = admin.send("DELETE", "/api/v1/sessions/n2-b1", null);
        assertThat(partial.status()).as(partial.body()).isEqualTo(503);
        assertThat(partial.json().get("type").asText()).isEqualTo("urn:postern:problem:cluster-unavailable");
        assertThat(partial.json().get("detail").asText()).contains("n2 did not answer within 1000 ms");
        assertThat(partial.json().get("missing")).extracting(JsonNode::asText).containsExactly("n2");

        cluster.down = true;
        AdminFixture.Reply down = admin.send("DELETE", "/api/v1/sessions/n2-b1", null);
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.json().get("cluster").asText()).isEqualTo("unreachable");
    }

    @Test
    void anAuthCacheFlushReachesEveryNode() {
        AdminFixture.Reply one = admin.send("DELETE", "/api/v1/auth-cache/bob@example.com", null);
        AdminFixture.Reply all = admin.send("DELETE", "/api/v1/auth-cache", null);

        assertThat(one.status()).as(one.body()).isEqualTo(200);
        assertThat(one.json().get("invalidated").asText()).isEqualTo("bob@example.com");
        assertThat(nodes(one.json())).containsExactly("n1", "n2", "n3");
        assertThat(one.json().get("nodes").findValuesAsText("entries")).containsExactly("2", "2", "2");
        assertThat(all.json().get("invalidated").asText()).isEqualTo("all");
        assertThat(cluster.others.get("n3").calls)
                .containsExactly("invalidateAuth bob@example.com", "invalidateAllAuth");
        assertThat(cluster.calls).containsExactly("invalidateAuth bob@example.com", "invalidateAuth *");
    }

    @Test
    void aCertificateReloadReachesEveryNodeAndShowsWhatEachServes() {
        cluster.others.get("n2").certificates =
                List.of(FakeProxyControl.certificate("renewed", Instant.parse("2031-01-01T00:00:00Z")));

        AdminFixture.Reply r = admin.send("POST", "/api/v1/tls/reload", null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().at("/certificates/0/name").asText()).isEqualTo("example-com");
        assertThat(nodes(r.json())).containsExactly("n1", "n2", "n3");
        assertThat(r.json().at("/nodes/1/reloaded").asBoolean()).isTrue();
        assertThat(r.json().at("/nodes/1/certificates/0/name").asText()).isEqualTo("renewed");
    }

    @Test
    void aCertificateReloadThatFailsOnOneNodeIs422NamingIt() {
        cluster.others.get("n3").reloadResult = new TlsReloadResult.Failed("/etc/postern/key.pem: wrong key-password");

        AdminFixture.Reply r = admin.send("POST", "/api/v1/tls/reload", null);

        assertThat(r.status()).as(r.body()).isEqualTo(422);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:tls-reload-failed");
        assertThat(r.json().get("detail").asText()).isEqualTo("node n3: /etc/postern/key.pem: wrong key-password");
        assertThat(r.json().at("/nodes/0/reloaded").asBoolean()).isTrue();
        assertThat(r.json().at("/nodes/2/reloaded").asBoolean()).isFalse();
        assertThat(r.json().get("cluster").asText()).isEqualTo("complete");
    }

    @Test
    void aConfigurationReloadIsThisNodesUnlessTheClusterIsAsked() {
        AdminFixture.Reply local = admin.send("POST", "/api/v1/config/reload", null);

        assertThat(local.status()).as(local.body()).isEqualTo(200);
        assertThat(local.json().get("node").asText()).isEqualTo("n1");
        assertThat(local.json().get("scope").asText()).isEqualTo("local");
        assertThat(cluster.calls).doesNotContain("reloadConfig");

        cluster.others.get("n2").configReload = new ConfigReloadResult.Applied(
                "/etc/postern/n2.yaml", List.of("imap-new"), List.of(), List.of(), List.of(), List.of(), false);
        AdminFixture.Reply all = admin.send("POST", "/api/v1/config/reload?scope=cluster", null);

        assertThat(all.status()).as(all.body()).isEqualTo(200);
        assertThat(all.json().get("scope").asText()).isEqualTo("cluster");
        assertThat(nodes(all.json())).containsExactly("n1", "n2", "n3");
        assertThat(all.json().at("/nodes/1/listeners/added/0").asText()).isEqualTo("imap-new");
        assertThat(all.json().at("/nodes/1/file").asText()).isEqualTo("/etc/postern/n2.yaml");
    }

    @Test
    void aConfigurationReloadRefusedOnOneNodeIs422NamingItWithItsProblems() {
        cluster.others.get("n3").configReload = new ConfigReloadResult.Rejected(
                "/etc/postern/n3.yaml",
                List.of(new ConfigProblem("listeners[0].bind", "70000 is not a port (1-65535)")));

        AdminFixture.Reply r = admin.send("POST", "/api/v1/config/reload?scope=cluster", null);

        assertThat(r.status()).as(r.body()).isEqualTo(422);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:config-invalid");
        assertThat(r.json().get("detail").asText()).isEqualTo("node n3: 1 problem(s) in /etc/postern/n3.yaml");
        assertThat(r.json().at("/nodes/0/reloaded").asBoolean()).isTrue();
        assertThat(r.json().at("/nodes/2/reloaded").asBoolean()).isFalse();
        assertThat(r.json().at("/nodes/2/problems/0/path").asText()).isEqualTo("listeners[0].bind");
    }

    @Test
    void theNodesAreListedWithTheirHeartbeat() {
        AdminFixture.Reply r = admin.get("/api/v1/cluster/nodes");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("node").asText()).isEqualTo("n1");
        assertThat(nodes(r.json())).containsExactly("n1", "n2", "n3");
        assertThat(r.json().get("nodes").findValuesAsText("self")).containsExactly("true", "false", "false");
        assertThat(r.json().at("/nodes/1/heartbeat-age-ms").asLong()).isEqualTo(1500);
        assertThat(r.json().at("/nodes/1/sessions").asInt()).isEqualTo(2);

        cluster.down = true;
        AdminFixture.Reply down = admin.get("/api/v1/cluster/nodes");
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.json().get("type").asText()).isEqualTo("urn:postern:problem:cluster-unavailable");
    }

    @Test
    void aScopeThatIsNeitherLocalNorClusterIs400() {
        AdminFixture.Reply r = admin.get("/api/v1/sessions?scope=everywhere");

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("scope");
    }
}
