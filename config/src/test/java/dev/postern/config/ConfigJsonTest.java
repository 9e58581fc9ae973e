package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

    /** One distinct value per secret field of the configuration (the keys are the file's ${env:...} names). */
    private static final Map<String, String> SECRETS = Map.ofEntries(
            Map.entry("KEY_PW", "tls-key-pw-c41f"),
            Map.entry("MASTER_PW", "backend-master-pw-9be2"),
            Map.entry("PROBE_PW", "probe-login-pw-77d0"),
            Map.entry("OPS_TOKEN", "admin-token-0123456789-e5a1"),
            Map.entry("HTTP_KEY", "http-header-key-3c8b"),
            Map.entry("HTTP_AUTH", "Basic aHR0cC1hdXRoLTRkMmE="),
            Map.entry("LDAP_BIND_PW", "ldap-bind-pw-a913"),
            Map.entry("LDAP_MASTER_PW", "ldap-master-pw-06fe"),
            Map.entry("JWT_HMAC", "jwt-hmac-secret-of-at-least-32-bytes-5b7c"),
            Map.entry("CLIENT_SECRET", "introspection-client-secret-d24e"),
            Map.entry("REDIS_PW", "redis-pw-8a61"),
            Map.entry("SENTINEL_PW", "sentinel-pw-f390"));

    private static final String EVERY_SECTION =
            """
            listeners:
              - name: imaps
                protocol: imap
                bind: "127.0.0.1:1993"
                tls: implicit
                pool: dovecot
                auth: [users, auth-http, directory, people, tokens, introspect, backend]
              - {name: submission, protocol: smtp, bind: "127.0.0.1:1587", tls: starttls, pool: dovecot,
                 auth: [auth-http], smtp: {hostname: smtp.example.com, data: {bare-lf: normalize}}}
              - name: mx
                protocol: smtp
                bind: "127.0.0.1:1025"
                tls: starttls
                pool: dovecot
                smtp:
                  role: relay
                  max-message-size: 10MiB
                  local-domains: [example.com]
                  trusted-networks: [10.0.0.0/8]
                  pregreet: {banner: "mx.example.com ESMTP", wait: 2s}
                  dnsbl: {sites: ["zen.example.test=127.0.0.[2..11]*3"], threshold: 3}
                  dnsbl-failure: tempfail
                  spf: {policy: reject}
                  limits: {connections-per-client: 10}
            tls:
              certificates:
                - {name: main, cert: c.pem, key: c.key, key-password: "${env:KEY_PW}"}
            pools:
              - name: dovecot
                health-check: {mode: login, user: probe@example.com, password: "${env:PROBE_PW}"}
                backends:
                  - {id: d1, address: "10.0.0.1:143", master-user: proxy-master, master-password: "${env:MASTER_PW}"}
            routes:
              domains: {example.com: dovecot}
            routing: {store: redis}
            cluster:
              sentinel: {addresses: ["10.0.0.7:26379"], master: postern, password: "${env:SENTINEL_PW}"}
              username: postern
              password: "${env:REDIS_PW}"
            admin:
              bind: 127.0.0.1:9025
              tokens:
                - {name: ops, token: "${env:OPS_TOKEN}", access: read-write}
            auth:
              providers:
                - {name: users, type: static, file: users.txt}
                - name: auth-http
                  type: http
                  url: https://auth.internal/mail-auth
                  headers: {X-Auth-Key: "${env:HTTP_KEY}", Authorization: "${env:HTTP_AUTH}"}
                - name: directory
                  type: ldap
                  servers: ["ldap://ldap1.internal"]
                  search:
                    base: ou=people,dc=example,dc=test
                    filter: (mail=%u)
                    bind-dn: cn=postern,dc=example,dc=test
                    bind-password: "${env:LDAP_BIND_PW}"
                  attributes: {pool: posternPool, master: posternMaster}
                  master-password: "${env:LDAP_MASTER_PW}"
                - {name: people, type: ldap, servers: ["ldaps://ldap2.internal"],
                   bind-dn-template: "uid=%n,ou=people,dc=example,dc=test"}
                - name: tokens
                  type: jwt
                  jwks: https://id.example.test/jwks.json
                  issuer: https://id.example.test
                  audience: mail
                  algorithms: [ES256, HS256]
                  hmac-secret: "${env:JWT_HMAC}"
                - name: introspect
                  type: oauth2-introspection
                  url: https://id.example.test/introspect
                  client-id: postern
                  client-secret: "${env:CLIENT_SECRET}"
                  scope: mail
              cache: {ttl: 10m}
              throttle: {window: 5m, trusted-networks: [192.0.2.0/24]}
            dns:
              servers: ["127.0.0.1:5353"]
              timeout: 1s
            timeouts: {idle: 45m}
            limits: {line-length: 16KiB}
            """;

    private static ObjectNode everySection(Path dir) throws Exception {
        Files.writeString(dir.resolve("c.pem"), "placeholder");
        Files.writeString(dir.resolve("c.key"), "placeholder");
        Files.writeString(dir.resolve("users.txt"), "");
        return ConfigJson.toTree(ConfigLoader.parse(EVERY_SECTION, dir, SECRETS::get));
    }

    @Test
    void everySectionOfTheFileIsWritten(@TempDir Path dir) throws Exception {
        ObjectNode json = everySection(dir);

        assertThat(json.fieldNames()).toIterable().containsAll(ConfigLoader.KEYS);
        assertThat(json.at("/listeners/0/auth"))
                .extracting(JsonNode::asText)
                .containsExactly("users", "auth-http", "directory", "people", "tokens", "introspect", "backend");
        assertThat(json.at("/listeners/0/smtp").isMissingNode())
                .as("an imap listener has no smtp block")
                .isTrue();
        assertThat(json.at("/listeners/1/smtp/role").asText()).isEqualTo("submission");
        assertThat(json.at("/listeners/1/smtp/data/bare-lf").asText()).isEqualTo("normalize");
        assertThat(json.at("/listeners/1/smtp/local-domains").isMissingNode())
                .as("a submission listener takes no edge policy")
                .isTrue();
        JsonNode mx = json.at("/listeners/2/smtp");
        assertThat(mx.at("/role").asText()).isEqualTo("relay");
        assertThat(mx.at("/max-message-size").asText()).isEqualTo("10MiB");
        assertThat(mx.at("/local-domains/0").asText()).isEqualTo("example.com");
        assertThat(mx.at("/pregreet/wait").asText()).isEqualTo("2s");
        assertThat(mx.at("/dnsbl/sites/0").asText()).isEqualTo("zen.example.test=127.0.0.[2..11]*3");
        assertThat(mx.at("/dnsbl-failure").asText()).isEqualTo("tempfail");
        assertThat(mx.at("/spf/policy").asText()).isEqualTo("reject");
        assertThat(mx.at("/limits/connections-per-client").asInt()).isEqualTo(10);
        assertThat(json.at("/auth/providers"))
                .extracting(p -> p.get("name").asText() + ":" + p.get("type").asText())
                .containsExactly(
                        "users:static",
                        "auth-http:http",
                        "directory:ldap",
                        "people:ldap",
                        "tokens:jwt",
                        "introspect:oauth2-introspection");
        assertThat(json.at("/auth/providers/1/url").asText()).isEqualTo("https://auth.internal/mail-auth");
        assertThat(json.at("/auth/providers/2/search/scope").asText()).isEqualTo("sub");
        assertThat(json.at("/auth/providers/3/bind-dn-template").asText())
                .isEqualTo("uid=%n,ou=people,dc=example,dc=test");
        assertThat(json.at("/auth/providers/4/algorithms/1").asText()).isEqualTo("HS256");
        assertThat(json.at("/auth/providers/5/scope").asText()).isEqualTo("mail");
        assertThat(json.at("/auth/cache/ttl").asText()).isEqualTo("10m");
        assertThat(json.at("/auth/throttle/window").asText()).isEqualTo("5m");
        assertThat(json.at("/auth/throttle/delays/0").asText()).isEqualTo("1s");
        assertThat(json.at("/dns/servers/0").asText()).isEqualTo("127.0.0.1:5353");
        assertThat(json.at("/dns/timeout").asText()).isEqualTo("1s");
        assertThat(json.at("/routing/store").asText()).isEqualTo("redis");
        assertThat(json.at("/cluster/username").asText()).isEqualTo("postern");
    }

    @Test
    void noSecretValueAppearsAnywhere(@TempDir Path dir) throws Exception {
        String text = everySection(dir).toString();

        for (Map.Entry<String, String> secret : SECRETS.entrySet()) {
            assertThat(text).as(secret.getKey()).doesNotContain(secret.getValue());
        }
        ObjectNode json = everySection(dir);
        assertThat(List.of(
                        "/tls/certificates/0/key-password",
                        "/pools/0/health-check/password",
                        "/pools/0/backends/0/master-password",
                        "/admin/tokens/0/token",
                        "/auth/providers/1/headers/X-Auth-Key",
                        "/auth/providers/1/headers/Authorization",
                        "/auth/providers/2/search/bind-password",
                        "/auth/providers/2/master-password",
                        "/auth/providers/4/hmac-secret",
                        "/auth/providers/5/client-secret",
                        "/cluster/password",
                        "/cluster/sentinel/password"))
                .as("each secret is there, redacted")
                .allSatisfy(at -> assertThat(json.at(at).asText()).as(at).isEqualTo("***"));
    }

    @Test
    void throttleOffIsWrittenAsTheFileSaysIt() throws Exception {
        PosternConfig config = ConfigLoader.parse(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:1143", pool: p}
                pools:
                  - {name: p, backends: [{address: "10.0.0.1:143"}]}
                auth: {throttle: off}
                """);

        ObjectNode json = ConfigJson.toTree(config);

        assertThat(json.at("/auth/throttle").asText()).isEqualTo("off");
        assertThat(json.at("/auth/providers").isEmpty()).isTrue();
        assertThat(json.at("/dns/servers").isMissingNode())
                .as("the system's name servers")
                .isTrue();
        assertThat(json.at("/listeners/0/auth/0").asText()).isEqualTo("backend");
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
