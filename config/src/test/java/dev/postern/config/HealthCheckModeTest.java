package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthCheckModeTest {

    private static String pool(String healthCheck) {
        return MINIMAL + "pools:\n  - name: p\n    backends: [{address: 10.0.0.1:143}]\n    health-check: "
                + healthCheck + "\n";
    }

    @Test
    void greetingIsTheDefaultMode() throws ConfigException {
        HealthCheckConfig h = parse(pool("{rise: 1}")).pool("p").orElseThrow().healthCheck();

        assertThat(h.mode()).isEqualTo(HealthCheckConfig.Mode.GREETING);
        assertThat(h.login()).isEmpty();
    }

    @Test
    void connectModeIsRead() throws ConfigException {
        assertThat(parse(pool("{mode: connect}"))
                        .pool("p")
                        .orElseThrow()
                        .healthCheck()
                        .mode())
                .isEqualTo(HealthCheckConfig.Mode.CONNECT);
    }

    @Test
    void loginModeReadsTheProbePasswordFromAFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("probe.pass"), "s3cret-probe\n");
        String yaml =
                pool("{mode: login, protocol: imap, user: probe@example.com, password: '${file:probe.pass}', fall: 2}");

        HealthCheckConfig h = ConfigLoader.parse(yaml, dir, Map.<String, String>of()::get)
                .pool("p")
                .orElseThrow()
                .healthCheck();

        assertThat(h.mode()).isEqualTo(HealthCheckConfig.Mode.LOGIN);
        assertThat(h.login().orElseThrow().user()).isEqualTo("probe@example.com");
        assertThat(h.login().orElseThrow().password().reveal()).isEqualTo("s3cret-probe");
        assertThat(h.login().orElseThrow().toString()).doesNotContain("s3cret");
        assertThat(h.fall()).isEqualTo(2);
        assertThat(h.timeout()).as("a login's default timeout").isEqualTo(HealthCheckConfig.LOGIN_TIMEOUT);
    }

    @Test
    void loginModeReadsThePasswordFromTheEnvironment() throws ConfigException {
        HealthCheckConfig h = parse(
                        pool("{mode: login, protocol: pop3, user: probe, password: '${env:PROBE_PASS}'}"),
                        Path.of("/nonexistent"),
                        Map.of("PROBE_PASS", "from-env"))
                .pool("p")
                .orElseThrow()
                .healthCheck();

        assertThat(h.login().orElseThrow().password().reveal()).isEqualTo("from-env");
    }

    @Test
    void loginModeNeedsUserAndPassword() {
        assertThat(problems(pool("{mode: login}")))
                .containsExactly("pools[0].health-check: mode login needs user (the probe user) and password");
        assertThat(problems(pool("{mode: login, user: probe}")))
                .containsExactly(
                        "pools[0].health-check: mode login needs password (e.g. password: ${file:/etc/postern/probe.pass})");
    }

    @Test
    void probeUserIsOnlyForLoginMode() {
        assertThat(problems(pool("{user: probe, password: x}")))
                .containsExactly(
                        "pools[0].health-check.user: is only for mode login (this check's mode is greeting)",
                        "pools[0].health-check.password: is only for mode login (this check's mode is greeting)");
    }

    @Test
    void unknownModeIsRefused() {
        assertThat(problems(pool("{mode: ping}")))
                .containsExactly("pools[0].health-check.mode: 'ping' is not one of connect, greeting, login");
    }

    @Test
    void loginModeIsRefusedForATcpCheck() {
        assertThat(problems(pool("{protocol: tcp, mode: login, user: probe, password: x}")))
                .containsExactly("pools[0].health-check.mode: login is only for imap, pop3 and smtp pools (this pool"
                        + " is checked as tcp)");
    }

    @Test
    void loginModeIsRefusedForAPoolOnlyATcpListenerUses() {
        String yaml =
                """
                listeners:
                  - {name: raw, protocol: tcp, bind: 127.0.0.1:1993, pool: p}
                pools:
                  - name: p
                    backends: [{address: 10.0.0.1:143}]
                    health-check: {mode: login, user: probe, password: x}
                """;

        assertThat(problems(yaml))
                .containsExactly("pools[0].health-check.mode: login is only for imap, pop3 and smtp pools (pool 'p'"
                        + " is checked as tcp; set health-check.protocol)");
    }

    @Test
    void loginModeTakesTheProtocolOfTheListenerThatUsesThePool() throws ConfigException {
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: 127.0.0.1:1143, pool: p}
                pools:
                  - name: p
                    backends: [{address: 10.0.0.1:143}]
                    health-check: {mode: login, user: probe, password: x}
                """;

        assertThat(parse(yaml).pool("p").orElseThrow().healthCheck().mode()).isEqualTo(HealthCheckConfig.Mode.LOGIN);
    }

    @Test
    void theStoreDocumentKeepsTheModeAndRedactsThePassword() throws ConfigException {
        Pool pool = parse(pool("{mode: login, user: probe, password: hunter2, protocol: imap}"))
                .pool("p")
                .orElseThrow();

        ObjectNode shown = RoutingJson.toTree(pool, true);
        assertThat(shown.at("/health-check/mode").asText()).isEqualTo("login");
        assertThat(shown.at("/health-check/user").asText()).isEqualTo("probe");
        assertThat(shown.toString()).doesNotContain("hunter2");

        Pool back = RoutingJson.readPool(RoutingJson.toTree(pool, false));
        assertThat(back.healthCheck()).isEqualTo(pool.healthCheck());
    }
}
