package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two whole Posterns in cluster mode on one real redis-server, with a throttle: IMAP LOGIN failures alternating
 * between the nodes block the user at the configured count on both; with Redis gone each node counts alone and
 * says so in its metrics.
 */
class ClusterThrottleIT {
    private static final String TOKEN = "cluster-throttle-it-token-0123456";
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final int MAX_PER_USER = 5;
    private static final String FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
    private static final String THROTTLED = "NO [UNAVAILABLE] Service temporarily unavailable, try again later";

    @TempDir
    Path dir;

    private TestRedis redis;
    private final List<PosternHarness> nodes = new ArrayList<>();

    /** One node, its IMAP port and admin client. */
    private record Node(int imap, AdminHttp admin) {}

    @BeforeEach
    void startRedis() {
        redis = TestRedis.start();
    }

    @AfterEach
    void stop() {
        nodes.forEach(PosternHarness::close);
        redis.close();
    }

    private Node node(String id) throws Exception {
        int adminPort = FreePorts.next();
        Path nodeDir = Files.createDirectories(dir.resolve(id));
        TestUsers.write(nodeDir, new String[][] {{"alice@example.com", "right"}, {"bob@example.com", "right"}});
        String yaml = TestUsers.AUTH_SECTION
                + """
                  throttle:
                    max-failures-per-user: %d
                    max-failures-per-user-address: 100
                    max-failures-per-address: 100
                    delays: [100ms]
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: main,
                     auth: [local]}
                pools:
                  - {name: main, backends: [{id: b1, address: "127.0.0.1:%d"}]}
                routing:
                  store: redis
                  file: routes.json
                cluster:
                  addresses: ["127.0.0.1:%d"]
                  node-id: %s
                  connect-timeout: 500ms
                  command-timeout: 500ms
                  check-interval: 200ms
                admin:
                  bind: "127.0.0.1:%d"
                  tokens:
                    - {name: ops, token: "%s", access: read-only}
                """
                        .formatted(
                                MAX_PER_USER, FreePorts.next(), FreePorts.closed(), redis.port(), id, adminPort, TOKEN);
        PosternHarness h = PosternHarness.start(yaml, nodeDir, PrometheusMetrics.create());
        nodes.add(h);
        Node n = new Node(h.port("imap"), new AdminHttp(adminPort, TOKEN));
        Await.until(id + " counts in redis", SOON, () -> metrics(n)
                .contains("postern_cluster_shared{feature=\"throttle\"} 1.0"));
        return n;
    }

    private static String metrics(Node n) {
        return n.admin().get("/metrics").body();
    }

    /** One LOGIN on a connection of its own; the tagged answer. */
    private static String login(Node n, String user, String password) {
        try (ImapTestClient c = ImapTestClient.connect(n.imap())) {
            c.greeting();
            return c.login(user, password);
        }
    }

    @Test
    void failuresAlternatingBetweenTwoNodesBlockTheUserAtTheConfiguredCountOnBoth() throws Exception {
        List<Node> two = List.of(node("a"), node("b"));

        for (int i = 1; i <= MAX_PER_USER; i++) {
            assertThat(login(two.get(i % 2), "alice@example.com", "guess" + i))
                    .as("failure %d", i)
                    .isEqualTo(FAILED);
        }

        // the last failure's answer waited its delay: the block has reached the other node by now. A refused login
        // is UNAVAILABLE whatever the password (a right one would be too: the pool's backend is a closed port)
        for (Node n : two) {
            assertThat(login(n, "alice@example.com", "guess" + MAX_PER_USER)).isEqualTo(THROTTLED);
            assertThat(login(n, "bob@example.com", "wrong"))
                    .as("bob is not blocked")
                    .isEqualTo(FAILED);
        }
        assertThat(metrics(two.get(0))).contains("postern_cluster_fallbacks_total{feature=\"throttle\"} 0.0");
    }

    @Test
    void withRedisGoneEachNodeCountsAloneAndItsMetricsSaySo() throws Exception {
        Node a = node("a");
        Node b = node("b");

        redis.kill();
        Await.until(
                "a counts alone", SOON, () -> metrics(a).contains("postern_cluster_shared{feature=\"throttle\"} 0.0"));
        for (int i = 1; i <= MAX_PER_USER - 1; i++) {
            assertThat(login(a, "alice@example.com", "guess" + i)).isEqualTo(FAILED);
        }
        assertThat(login(b, "alice@example.com", "guess")).isEqualTo(FAILED);
        assertThat(login(a, "alice@example.com", "guess" + MAX_PER_USER)).isEqualTo(FAILED);

        assertThat(login(a, "alice@example.com", "guess-more"))
                .as("a's own count")
                .isEqualTo(THROTTLED);
        assertThat(login(b, "alice@example.com", "guess-more"))
                .as("b saw two failures of alice's")
                .isEqualTo(FAILED);
        assertThat(metrics(a)).contains("postern_cluster_fallbacks_total{feature=\"throttle\"} " + MAX_PER_USER + ".0");

        redis.restart();
        Await.until("a counts in redis again", SOON, () -> metrics(a)
                .contains("postern_cluster_shared{feature=\"throttle\"} 1.0"));
    }
}
