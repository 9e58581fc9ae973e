package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.ConfigProblem;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConfigReloadApiTest {
    private static final String RELOAD = "/api/v1/config/reload";

    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void answersWhatChangedForNewSessions() {
        admin.proxy.configReload = new ConfigReloadResult.Applied(
                "/etc/postern/postern.yaml",
                List.of("imap-new"),
                List.of("pop3"),
                List.of(new ConfigReloadResult.ListenerChange("imaps", List.of("bind", "limits"))),
                List.of("throttle", "tls"),
                List.of("admin"),
                true);

        AdminFixture.Reply r = admin.send("POST", RELOAD, null);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.get("reloaded").asBoolean()).isTrue();
        assertThat(j.get("changed").asBoolean()).isTrue();
        assertThat(j.get("file").asText()).isEqualTo("/etc/postern/postern.yaml");
        assertThat(j.at("/listeners/added/0").asText()).isEqualTo("imap-new");
        assertThat(j.at("/listeners/removed/0").asText()).isEqualTo("pop3");
        assertThat(j.at("/listeners/changed/0/name").asText()).isEqualTo("imaps");
        assertThat(j.at("/listeners/changed/0/what").toString()).isEqualTo("[\"bind\",\"limits\"]");
        assertThat(j.get("settings-changed").toString()).isEqualTo("[\"throttle\",\"tls\"]");
        assertThat(j.get("needs-restart").toString()).isEqualTo("[\"admin\"]");
        assertThat(j.get("routing-seeds-ignored").asBoolean()).isTrue();
        // this node's own file: the answer says which node and that the scope is local
        assertThat(j.get("scope").asText()).isEqualTo("local");
        assertThat(j.has("node")).isTrue();
    }

    @Test
    void anUnchangedFileSaysSo() {
        AdminFixture.Reply r = admin.send("POST", RELOAD, null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("changed").asBoolean()).isFalse();
    }

    @Test
    void aBrokenFileIs422WithEveryProblem() {
        admin.proxy.configReload = new ConfigReloadResult.Rejected(
                "/etc/postern/postern.yaml",
                List.of(
                        new ConfigProblem("listeners[0].bind", "70000 is not a port (1-65535)"),
                        new ConfigProblem("auth.throttle.window", "'soon' is not a duration")));

        AdminFixture.Reply r = admin.send("POST", RELOAD, null);

        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("type").asText()).isEqualTo("urn:postern:problem:config-invalid");
        assertThat(r.json().get("detail").asText()).isEqualTo("2 problem(s) in /etc/postern/postern.yaml");
        assertThat(r.json().at("/problems/0/path").asText()).isEqualTo("listeners[0].bind");
        assertThat(r.json().at("/problems/0/message").asText()).isEqualTo("70000 is not a port (1-65535)");
        assertThat(r.json().at("/problems/1/path").asText()).isEqualTo("auth.throttle.window");
    }

    @Test
    void needsAReadWriteToken() {
        assertThat(admin.send("POST", RELOAD, null, null).status()).isEqualTo(401);
        assertThat(admin.send("POST", RELOAD, AdminFixture.VIEWER_TOKEN, null).status())
                .isEqualTo(403);
        assertThat(admin.proxy.calls).doesNotContain("reloadConfig");
    }

    @Test
    void refusesTheClusterScope() {
        AdminFixture.Reply r = admin.send("POST", RELOAD + "?scope=cluster", null);

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().at("/errors/0/parameter").asText()).isEqualTo("scope");
        assertThat(admin.proxy.calls).doesNotContain("reloadConfig");
    }
}
