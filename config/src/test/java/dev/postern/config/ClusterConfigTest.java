package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code routing} section's store and file, and the {@code cluster} section that {@code store: redis} needs. */
class ClusterConfigTest {
    private static final String REDIS = MINIMAL + "routing:\n  store: redis\n";

    @TempDir
    Path dir;

    @Test
    void withoutARoutingSectionTheTableIsKeptInMemoryWithoutACluster() throws ConfigException {
        PosternConfig config = parse(MINIMAL);

        assertThat(config.routeStore()).isEmpty();
        assertThat(config.cluster()).isEmpty();
    }

    @Test
    void theFileStoreNamesItsFileInRoutingFile() throws ConfigException {
        PosternConfig config = parse(MINIMAL + "routing:\n  store: file\n  file: state/routes.json\n");

        assertThat(config.routeStore()).contains(Path.of("/nonexistent/state/routes.json"));
        assertThat(config.cluster()).isEmpty();
    }

    @Test
    void aPathAsTheStoreIsTheFormBeforeClusterModeAndStillMeansAFileStore() throws ConfigException {
        PosternConfig config = parse(MINIMAL + "routing:\n  store: /var/lib/postern/routes.json\n");

        assertThat(config.routeStore()).contains(Path.of("/var/lib/postern/routes.json"));
        assertThat(config.cluster()).isEmpty();
    }

    @Test
    void aRedisStoreWithOnlyAddressesTakesTheDefaults() throws ConfigException {
        PosternConfig config = parse(REDIS + "cluster:\n  addresses: [10.0.0.5:6380, redis.internal]\n");

        ClusterConfig c = config.cluster().orElseThrow();
        assertThat(c.addresses()).containsExactly(new HostPort("10.0.0.5", 6380), new HostPort("redis.internal", 6379));
        assertThat(c.sentinel()).isEmpty();
        assertThat(c.username()).isEmpty();
        assertThat(c.password()).isEmpty();
        assertThat(c.database()).isZero();
        assertThat(c.tls()).isEqualTo(ClusterConfig.Tls.OFF);
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.commandTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.keyPrefix()).isEqualTo("postern:");
        assertThat(c.nodeId()).isEmpty();
        assertThat(c.checkInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.routeStore()).isEmpty();
    }

    @Test
    void readsEverySettingOfAClusterBehindSentinelsWithAclAndTls() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        Files.writeString(dir.resolve("redis-password"), "s3cret-from-a-file\n");
        PosternConfig config = ConfigTexts.parse(
                MINIMAL
                        + """
                routing:
                  store: redis
                  file: routes.json
                cluster:
                  sentinel:
                    addresses: ["10.0.0.5", "10.0.0.6:26380", "[2001:db8::7]:26379"]
                    master: postern
                    password: ${env:SENTINEL_PASSWORD}
                  username: postern
                  password: ${file:redis-password}
                  database: 3
                  tls: {enabled: true, verify: true, ca: ca.pem}
                  connect-timeout: 500ms
                  command-timeout: 250ms
                  key-prefix: "mail-prod:"
                  node-id: proxy-1.example.net
                  check-interval: 2s
                """,
                dir,
                Map.of("SENTINEL_PASSWORD", "sentinel-pw"));

        ClusterConfig c = config.cluster().orElseThrow();
        assertThat(c.addresses()).isEmpty();
        ClusterConfig.Sentinel s = c.sentinel().orElseThrow();
        assertThat(s.addresses())
                .containsExactly(
                        new HostPort("10.0.0.5", 26379),
                        new HostPort("10.0.0.6", 26380),
                        new HostPort("2001:db8::7", 26379));
        assertThat(s.master()).isEqualTo("postern");
        assertThat(s.password().orElseThrow().reveal()).isEqualTo("sentinel-pw");
        assertThat(c.username()).contains("postern");
        assertThat(c.password().orElseThrow().reveal()).isEqualTo("s3cret-from-a-file");
        assertThat(c.database()).isEqualTo(3);
        assertThat(c.tls()).isEqualTo(new ClusterConfig.Tls(true, true, Optional.of(ca)));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.commandTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.keyPrefix()).isEqualTo("mail-prod:");
        assertThat(c.nodeId()).contains("proxy-1.example.net");
        assertThat(c.checkInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.routeStore()).contains(dir.resolve("routes.json"));
    }

    @Test
    void theEffectiveConfigurationShowsTheClusterWithItsSecretsRedacted() throws ConfigException {
        PosternConfig config = parse(
                REDIS
                        + """
                cluster:
                  sentinel: {addresses: [10.0.0.5], master: postern, password: sentinel-password}
                  username: postern
                  password: redis-password
                """);

        String json = ConfigJson.toTree(config).toString();

        assertThat(json)
                .contains("\"routing\":{\"store\":\"redis\",\"hold-timeout\":\"30s\",\"max-held-logins\":10000}")
                .contains("\"sentinel\":{\"addresses\":[\"10.0.0.5:26379\"],\"master\":\"postern\","
                        + "\"password\":\"***\"}")
                .contains("\"username\":\"postern\",\"password\":\"***\"")
                .contains("\"key-prefix\":\"postern:\"")
                .doesNotContain("sentinel-password")
                .doesNotContain("redis-password");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    "store: rdis"                               | routing.store: 'rdis' is not one of file, redis (did you mean 'redis'?)
                    "store: memcached"                          | routing.store: 'memcached' is not one of file, redis (the route file's path goes in routing.file)
                    "store: routes.json\\n  file: other.json"   | routing.store: 'routes.json' is a path; with routing.file set, store is file or redis
                    "store: redis"                              | routing.store: redis needs a cluster section (the addresses or the sentinel of the Redis the nodes share)
                    "file: [a]"                                 | routing.file: a list is not a file path
                    "stor: redis"                               | routing.stor: unknown key (did you mean 'store'?)
                    """)
    void badRoutingSettingsAreNamed(String lines, String problem) {
        assertThat(problems(MINIMAL + "routing:\n  " + lines.replace("\\n", "\n") + "\n"))
                .containsExactly(problem);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    "addresses: []"                                      | cluster.addresses: is empty (Redis servers such as 10.0.0.5:6379)
                    "addresses: 10.0.0.5:6379"                           | cluster.addresses: '10.0.0.5:6379' is not a list
                    "addresses: [10.0.0.5:0]"                            | cluster.addresses[0]: 0 is not a port (1-65535)
                    "addresses: [10.0.0.5:redis]"                        | cluster.addresses[0]: 'redis' is not a port (1-65535)
                    "addresses: ['*:6379']"                              | cluster.addresses[0]: '*:6379' is a wildcard, not a server to connect to
                    "addresses: [a:6379, b, a:6379]"                     | cluster.addresses[2]: 'a:6379' is already listed at cluster.addresses[0]
                    "addresses: [a]\\n  sentinel: {addresses: [b], master: m}" | cluster.sentinel: cannot be used with addresses (give one of the two)
                    "sentinel: {addresses: [b]}"                         | cluster.sentinel.master: is required
                    "sentinel: {master: m}"                              | cluster.sentinel.addresses: is required
                    "sentinel: {addresses: [b], master: 'my master'}"    | cluster.sentinel.master: 'my master' has spaces (the name the Sentinels monitor)
                    "sentinel: {addresses: [b], master: m, port: 1}"     | cluster.sentinel.port: unknown key (known keys: addresses, master, password)
                    "username: postern"                                  | cluster.username: needs a password (an ACL user logs in with both)
                    "database: -1"                                       | cluster.database: -1 must be >= 0
                    "tls: {enabled: maybe}"                              | cluster.tls.enabled: 'maybe' is not true or false
                    "tls: {enabled: false, ca: /nonexistent/ca.pem}"     | cluster.tls.ca: /nonexistent/ca.pem does not exist
                    "tls: on"                                            | cluster.tls: true is not a mapping
                    "connect-timeout: 0s"                                | cluster.connect-timeout: 0s must be > 0
                    "command-timeout: 1 minute"                          | cluster.command-timeout: '1 minute' is not a duration (unit 'minute' is not one of ms, s, m, h, d)
                    "check-interval: 10ms"                               | cluster.check-interval: 10ms must be >= 100ms
                    "key-prefix: 'my prefix:'"                           | cluster.key-prefix: 'my prefix:' is not a key prefix (1 to 64 printable characters without spaces, e.g. postern-prod:)
                    "node-id: -node"                                     | cluster.node-id: '-node' is not a node id (up to 64 letters, digits, '.', '_', ':' and '-', starting with a letter or digit)
                    "adresses: [a]"                                      | cluster.adresses: unknown key (did you mean 'addresses'?)
                    """)
    void badClusterSettingsAreNamed(String lines, String problem) {
        String yaml = REDIS + "cluster:\n  " + lines.replace("\\n", "\n") + "\n";
        if (!lines.contains("addresses") && !lines.contains("sentinel")) {
            yaml += "  addresses: [10.0.0.5]\n";
        }
        assertThat(problems(yaml)).containsExactly(problem);
    }

    @Test
    void aClusterWithoutAddressesOrSentinelIsNamed() {
        assertThat(problems(REDIS + "cluster:\n  key-prefix: x\n"))
                .containsExactly("cluster: needs addresses (the Redis servers, host:port) or a sentinel");
    }

    @Test
    void aClusterForAFileStoreIsNamed() {
        assertThat(problems(MINIMAL + "cluster:\n  addresses: [10.0.0.5]\n"))
                .containsExactly("cluster: is set, but routing.store is file (the default); set routing.store: redis"
                        + " to share the routing table through it");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThat(
                        problems(
                                MINIMAL
                                        + """
                routing:
                  store: rediss
                cluster:
                  addresses: [a:0]
                  command-timeout: 0s
                  password: ""
                """))
                .containsExactly(
                        "routing.store: 'rediss' is not one of file, redis (did you mean 'redis'?)",
                        "cluster.addresses[0]: 0 is not a port (1-65535)",
                        "cluster.password: is empty",
                        "cluster.command-timeout: 0s must be > 0");
    }

    @Test
    void holdsTakeTheirDefaultsOrTheRoutingSectionsKeys() throws ConfigException {
        assertThat(parse(MINIMAL).holds()).isEqualTo(HoldsConfig.DEFAULTS);
        assertThat(HoldsConfig.DEFAULTS.holdTimeout()).isEqualTo(Duration.ofSeconds(30));

        PosternConfig config = parse(MINIMAL + "routing:\n  hold-timeout: 5s\n  max-held-logins: 50\n");

        assertThat(config.holds()).isEqualTo(new HoldsConfig(Duration.ofSeconds(5), 50));
    }

    @Test
    void badHoldSettingsAreNamed() {
        assertThat(problems(MINIMAL + "routing:\n  hold-timeout: 0s\n  max-held-logins: 0\n"))
                .hasSize(2)
                .anySatisfy(p -> assertThat(p).startsWith("routing.hold-timeout:"))
                .anySatisfy(p -> assertThat(p).startsWith("routing.max-held-logins:"));
    }
}
