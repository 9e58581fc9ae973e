package dev.postern.config;

import static dev.postern.config.ConfigTexts.POOLS;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthValidationTest {
    private static final String LISTENER =
            """
            listeners:
              - name: imap
                protocol: imap
                bind: 127.0.0.1:1143
                pool: dovecot
            """;

    @TempDir
    Path dir;

    private PosternConfig load(String yaml) throws Exception {
        Files.writeString(dir.resolve("users.txt"), "alice:{PLAIN}x\n");
        return parse(yaml, dir, Map.of("AUTH_KEY", "s3cret-key"));
    }

    private List<String> problemsIn(String yaml) throws Exception {
        Files.writeString(dir.resolve("users.txt"), "alice:x\n");
        return problems(yaml, dir, Map.of("AUTH_KEY", "s3cret-key")::get);
    }

    @Test
    void withoutAnAuthSectionListenersLetTheBackendDecide() throws Exception {
        PosternConfig config = load(LISTENER + POOLS);

        assertThat(config.auth()).isEqualTo(AuthConfig.DEFAULTS);
        assertThat(config.listener("imap").orElseThrow().auth()).containsExactly("backend");
        assertThat(config.auth().throttle())
                .as("throttled with the documented defaults unless configured otherwise")
                .contains(ThrottleConfig.DEFAULTS);
        assertThat(config.listener("imap").orElseThrow().throttled()).isTrue();
    }

    @Test
    void withoutAThrottleSectionTheDefaultsApply() throws Exception {
        PosternConfig config = load("auth:\n  cache: {size: 10}\n" + LISTENER + POOLS);

        assertThat(config.auth().throttle()).contains(ThrottleConfig.DEFAULTS);
    }

    @Test
    void throttleOffTurnsThrottlingOffForAllListeners() throws Exception {
        assertThat(load("auth:\n  throttle: off\n" + LISTENER + POOLS).auth().throttle())
                .isEmpty();
        assertThat(load("auth:\n  throttle: 'off'\n" + LISTENER + POOLS).auth().throttle())
                .as("quoted, off is still off")
                .isEmpty();
        assertThat(load("auth: {throttle: off}\n" + LISTENER + POOLS).auth().throttle())
                .isEmpty();
    }

    @Test
    void aListenerWithThrottleOffIsLeftOutOfTheThrottle() throws Exception {
        PosternConfig config = load(
                """
                listeners:
                  - name: imap
                    protocol: imap
                    bind: 127.0.0.1:1143
                    pool: dovecot
                  - name: webmail
                    protocol: imap
                    bind: 127.0.0.1:1144
                    pool: dovecot
                    throttle: off
                """
                        + POOLS);

        assertThat(config.auth().throttle()).contains(ThrottleConfig.DEFAULTS);
        assertThat(config.listener("imap").orElseThrow().throttled()).isTrue();
        assertThat(config.listener("webmail").orElseThrow().throttled()).isFalse();
    }

    @Test
    void aThrottleThatIsNeitherOffNorSettingsIsRefusedWithItsPathAndValue() throws Exception {
        List<String> problems = problemsIn(
                """
                auth:
                  throttle: sometimes
                listeners:
                  - name: imap
                    protocol: imap
                    bind: 127.0.0.1:1143
                    pool: dovecot
                    throttle: on
                  - name: imap2
                    protocol: imap
                    bind: 127.0.0.1:1144
                    pool: dovecot
                    throttle: [off]
                  - name: raw
                    protocol: tcp
                    bind: 127.0.0.1:1145
                    pool: dovecot
                    throttle: off
                """
                        + POOLS);

        assertThat(problems)
                .contains(
                        "auth.throttle: 'sometimes' is not a mapping",
                        "listeners[0].throttle: 'true' is not off (listeners are throttled by default with the"
                                + " settings of auth.throttle; off exempts this one)",
                        "listeners[1].throttle: a list is not off (listeners are throttled by default with the"
                                + " settings of auth.throttle; off exempts this one)",
                        "listeners[2].throttle: a tcp listener does not authenticate, so nothing is throttled; remove"
                                + " throttle");
    }

    @Test
    void readsProvidersCacheThrottleAndAChain() throws Exception {
        PosternConfig config = load(
                """
                auth:
                  providers:
                    - name: local
                      type: static
                      file: users.txt
                      reload-check: 1s
                    - name: directory
                      type: http
                      url: https://auth.internal:8443/mail-auth?x=1
                      timeout: 2s
                      headers: {X-Auth-Key: "${env:AUTH_KEY}"}
                      tls-verify: false
                      max-connections: 4
                  cache: {size: 10, ttl: 1m, negative-ttl: 10s, refresh-after: 50s, stale-if-error: 0}
                  throttle:
                    window: 10m
                    ipv6-prefix: 56
                    max-failures-per-address: 7
                    max-failures-per-user: 8
                    max-failures-per-user-address: 3
                    block: 1h
                    delay-base: 500ms
                    delay-cap: 3s
                    trusted-networks: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7]
                    max-tracked: 1000
                    shared: false
                listeners:
                  - name: imap
                    protocol: imap
                    bind: 127.0.0.1:1143
                    pool: dovecot
                    auth: [local, directory, backend]
                """
                        + POOLS);

        AuthConfig auth = config.auth();
        assertThat(auth.providers())
                .containsExactly(
                        new AuthProviderConfig.StaticFile("local", dir.resolve("users.txt"), Duration.ofSeconds(1)),
                        new AuthProviderConfig.Http(
                                "directory",
                                URI.create("https://auth.internal:8443/mail-auth?x=1"),
                                Duration.ofSeconds(2),
                                Map.of("X-Auth-Key", Secret.of("s3cret-key")),
                                false,
                                4));
        AuthProviderConfig.Http http =
                (AuthProviderConfig.Http) auth.provider("directory").orElseThrow();
        assertThat(http.port()).isEqualTo(8443);
        assertThat(http.toString()).doesNotContain("s3cret-key");
        assertThat(auth.cache())
                .isEqualTo(new CacheConfig(
                        10, Duration.ofMinutes(1), Duration.ofSeconds(10), Duration.ofSeconds(50), Duration.ZERO));
        ThrottleConfig t = auth.throttle().orElseThrow();
        assertThat(t.window()).isEqualTo(Duration.ofMinutes(10));
        assertThat(t.ipv6Prefix()).isEqualTo(56);
        assertThat(List.of(t.maxFailuresPerAddress(), t.maxFailuresPerUser(), t.maxFailuresPerUserAddress()))
                .containsExactly(7, 8, 3);
        assertThat(t.block()).isEqualTo(Duration.ofHours(1));
        assertThat(t.delays())
                .containsExactly(
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3));
        assertThat(t.delay(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(t.delay(9)).isEqualTo(Duration.ofSeconds(3));
        assertThat(t.trustedNetworks())
                .extracting(Cidr::toString)
                .containsExactly("10.0.0.0/8", "2001:db8:0:0:0:0:0:0/32", "192.0.2.7/32");
        assertThat(t.maxTracked()).isEqualTo(1000);
        assertThat(t.shared())
                .as("counted by each node alone, even in a cluster")
                .isFalse();
        assertThat(config.listener("imap").orElseThrow().auth()).containsExactly("local", "directory", "backend");
    }

    @Test
    void anEmptyThrottleSectionTurnsOnTheDefaults() throws Exception {
        PosternConfig config = load("auth:\n  throttle: {}\n" + LISTENER + POOLS);

        assertThat(config.auth().throttle()).contains(ThrottleConfig.DEFAULTS);
        assertThat(ThrottleConfig.DEFAULTS.shared())
                .as("shared in cluster mode")
                .isTrue();
        assertThat(ThrottleConfig.DEFAULTS.delays())
                .containsExactly(
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(4),
                        Duration.ofSeconds(8),
                        Duration.ofSeconds(15));
    }

    @Test
    void everyProblemIsNamedWithItsPath() throws Exception {
        List<String> problems = problemsIn(
                """
                auth:
                  providers:
                    - name: backend
                      type: static
                      file: users.txt
                    - name: local
                      type: static
                      file: missing.txt
                      url: http://x/
                    - name: local
                      type: kerberos
                    - name: web
                      type: http
                      url: ftp://auth/
                    - name: web2
                      type: http
                      url: http://user:pw@auth/
                      headers: {Auth-User: x, "bad name": y}
                      max-connections: 0
                  cache: {ttl: 1m, negative-ttl: 2m, refresh-after: 1m}
                  throttle:
                    ipv6-prefix: 129
                    delays: [1s, 2m]
                    delay-cap: 3s
                    trusted-networks: [10.0.0.0/33, mail.example.com]
                    windw: 1m
                listeners:
                  - name: imap
                    protocol: imap
                    bind: 127.0.0.1:1143
                    pool: dovecot
                    auth: [backend, locl]
                  - name: relay
                    protocol: tcp
                    bind: 127.0.0.1:1144
                    pool: dovecot
                    auth: [web]
                  - name: pop3
                    protocol: pop3
                    bind: 127.0.0.1:1110
                    auth: []
                """
                        + POOLS);

        assertThat(problems)
                .containsExactlyInAnyOrder(
                        "auth.providers[0].name: 'backend' is the built-in provider that lets the backend decide;"
                                + " choose another name",
                        "auth.providers[1].url: is not a setting of static providers (its keys: name, type, file,"
                                + " reload-check)",
                        "auth.providers[1].file: " + dir.resolve("missing.txt") + " does not exist",
                        "auth.providers[2].name: 'local' is already used by auth.providers[1]",
                        "auth.providers[2].type: 'kerberos' is not one of static, http, ldap, jwt, oauth2-introspection",
                        "auth.providers[3].url: 'ftp://auth/' is not an http or https URL",
                        "auth.providers[4].url: has user info (user:password@); put credentials in headers instead",
                        "auth.providers[4].headers.Auth-User: 'Auth-User' is set by Postern for each login; choose"
                                + " another name",
                        "auth.providers[4].headers.bad name: 'bad name' is not an HTTP header name",
                        "auth.providers[4].max-connections: 0 must be between 1 and 10000",
                        "auth.cache.negative-ttl: negative-ttl (2m) must not be longer than ttl (1m): a wrong password"
                                + " is remembered for less time than a right one",
                        "auth.cache.refresh-after: refresh-after (1m) must be shorter than ttl (1m), or 0 to turn"
                                + " refreshing off",
                        "auth.throttle.ipv6-prefix: 129 must be between 1 and 128",
                        "auth.throttle.delay-cap: give either delays or delay-base and delay-cap, not both",
                        "auth.throttle.trusted-networks[0]: '10.0.0.0/33' has a bad prefix length (0-32 for this"
                                + " address)",
                        "auth.throttle.trusted-networks[1]: 'mail.example.com' is not an IP network (address/prefix,"
                                + " e.g. 10.0.0.0/8)",
                        "auth.throttle.windw: unknown key (did you mean 'window'?)",
                        "listeners[0].auth[0]: 'backend' lets the backend decide, so it can only end the chain",
                        "listeners[0].auth[1]: no provider named 'locl' (did you mean 'local'?)",
                        "listeners[1].auth: a tcp listener does not authenticate (it relays bytes); remove auth",
                        "listeners[2].auth: is empty (provider names; the default is [backend])");
    }

    @Test
    void aHeaderValueFromTheEnvironmentIsNeverShown() throws Exception {
        List<String> problems = problems(
                """
                auth:
                  providers:
                    - name: web
                      type: http
                      url: http://auth/
                      headers: {X-Key: "${env:KEY}"}
                """
                        + LISTENER
                        + POOLS,
                dir,
                Map.of("KEY", "top\nsecret")::get);

        assertThat(problems)
                .containsExactly("auth.providers[0].headers.X-Key: holds a line break or NUL, which"
                        + " cannot be sent in a header");
        assertThat(String.join("\n", problems)).doesNotContain("top");
    }

    @Test
    void networksMatchTheirAddressesOnly() throws Exception {
        Cidr v4 = Cidr.parse("10.1.0.0/16");
        Cidr v6 = Cidr.parse("2001:db8:1::/48");

        assertThat(v4.contains(java.net.InetAddress.getByName("10.1.200.3"))).isTrue();
        assertThat(v4.contains(java.net.InetAddress.getByName("10.2.0.1"))).isFalse();
        assertThat(v4.contains(java.net.InetAddress.getByName("::ffff:10.1.0.9")))
                .isTrue();
        assertThat(v6.contains(java.net.InetAddress.getByName("2001:db8:1:ffff::1")))
                .isTrue();
        assertThat(v6.contains(java.net.InetAddress.getByName("2001:db8:2::1"))).isFalse();
        assertThat(v6.contains(java.net.InetAddress.getByName("10.1.0.1"))).isFalse();
        assertThat(Cidr.parse("10.1.2.3/8").toString()).isEqualTo("10.0.0.0/8");
    }

    @Test
    void theShippedExampleDocumentsTheDefaults() throws Exception {
        // config/postern.yaml has the auth section commented out (its users file does not exist here); uncommented,
        // it must load and say what the code does.
        String example = Files.readString(Path.of("postern.yaml"));
        String auth = example.lines()
                .dropWhile(l -> !l.startsWith("# auth:"))
                .takeWhile(l -> l.startsWith("#"))
                .map(l -> l.substring(Math.min(2, l.length())))
                .reduce("", (a, b) -> a + b + "\n");
        assertThat(auth).startsWith("auth:");
        Files.writeString(dir.resolve("users.txt"), "");
        PosternConfig config = parse(
                auth.replace("/etc/postern/users.txt", dir.resolve("users.txt").toString()) + LISTENER + POOLS,
                dir,
                Map.of("AUTH_KEY", "k"));

        assertThat(config.auth().cache()).isEqualTo(CacheConfig.DEFAULTS);
        assertThat(config.auth().throttle().orElseThrow())
                .isEqualTo(new ThrottleConfig(
                        ThrottleConfig.DEFAULTS.window(),
                        ThrottleConfig.DEFAULTS.ipv6Prefix(),
                        ThrottleConfig.DEFAULTS.maxFailuresPerAddress(),
                        ThrottleConfig.DEFAULTS.maxFailuresPerUser(),
                        ThrottleConfig.DEFAULTS.maxFailuresPerUserAddress(),
                        ThrottleConfig.DEFAULTS.block(),
                        ThrottleConfig.DEFAULTS.delays(),
                        List.of(Cidr.parse("10.0.0.0/8")),
                        ThrottleConfig.DEFAULTS.maxTracked()));
        assertThat(config.auth().providers())
                .extracting(AuthProviderConfig::name)
                .containsExactly("local", "directory");
        AuthProviderConfig.Http http =
                (AuthProviderConfig.Http) config.auth().provider("directory").orElseThrow();
        assertThat(http.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(http.maxConnections()).isEqualTo(16);
        assertThat(http.tlsVerify()).isTrue();
        AuthProviderConfig.StaticFile local =
                (AuthProviderConfig.StaticFile) config.auth().provider("local").orElseThrow();
        assertThat(local.reloadCheck()).isEqualTo(Duration.ofSeconds(5));
    }
}
