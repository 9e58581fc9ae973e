package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigJsonTest {
    @Test
    void everySecretIsRedactedAndTheRestReadsLikeTheFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("c.pem"), "placeholder");
        Files.writeString(dir.resolve("c.key"), "placeholder");
        String yaml =
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:1993", tls: implicit, pool: dovecot}
                tls:
                  certificates:
                    - {name: main, cert: c.pem, key: c.key, key-password: "${env:KEY_PW}"}
                pools:
                  - name: dovecot
                    backends:
                      - {id: d1, address: "10.0.0.1:143", master-user: proxy-master, master-password: "${env:MASTER_PW}"}
                routes:
                  domains: {example.com: dovecot}
                timeouts: {idle: 45m}
                limits: {line-length: 16KiB}
                admin:
                  bind: 127.0.0.1:9025
                  tokens:
                    - {name: ops, token: "${env:OPS_TOKEN}", access: read-write}
                """;
        PosternConfig config = ConfigLoader.parse(
                yaml,
                dir,
                Map.of("KEY_PW", "key-secret-1", "MASTER_PW", "master-secret-2", "OPS_TOKEN", "ops-secret-3-0123456789")
                        ::get);

        ObjectNode json = ConfigJson.toTree(config);
        String text = json.toString();

        assertThat(text)
                .doesNotContain("key-secret-1")
                .doesNotContain("master-secret-2")
                .doesNotContain("ops-secret-3");
        assertThat(json.at("/tls/certificates/0/key-password").asText()).isEqualTo("***");
        assertThat(json.at("/pools/0/backends/0/master-password").asText()).isEqualTo("***");
        assertThat(json.at("/admin/tokens/0/token").asText()).isEqualTo("***");
        assertThat(json.at("/admin/tokens/0/access").asText()).isEqualTo("read-write");
        assertThat(json.at("/listeners/0/bind").asText()).isEqualTo("127.0.0.1:1993");
        assertThat(json.at("/listeners/0/timeouts/idle").asText()).isEqualTo("45m");
        assertThat(json.at("/listeners/0/limits/line-length").asText()).isEqualTo("16KiB");
        assertThat(json.at("/timeouts/connect").asText()).isEqualTo("5s");
        assertThat(json.at("/routes/domains/example.com").asText()).isEqualTo("dovecot");
    }

    @Test
    void durationsUseTheLargestExactUnit() {
        assertThat(ConfigJson.formatDuration(Duration.ofDays(2))).isEqualTo("2d");
        assertThat(ConfigJson.formatDuration(Duration.ofMinutes(90))).isEqualTo("90m");
        assertThat(ConfigJson.formatDuration(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(ConfigJson.formatDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(ConfigJson.formatDuration(Duration.ZERO)).isEqualTo("0s");
    }
}
