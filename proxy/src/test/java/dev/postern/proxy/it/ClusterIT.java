package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.testkit.Await;
import java.io.IOException;
import java.net.http.HttpResponse;
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
 * Two whole Posterns in cluster mode on one real redis-server, changed through their admin APIs: what one node is
 * told, the other routes with; Redis going away and coming back.
 */
class ClusterIT {
    private static final String TOKEN = "cluster-it-read-write-token-0123";
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private TestRedis redis;
    private final List<PosternHarness> nodes = new ArrayList<>();

    @BeforeEach
    void startRedis() {
        redis = TestRedis.start();
    }

    @AfterEach
    void stop() {
        nodes.forEach(PosternHarness::close);
        redis.close();
    }

    /** A node with its own route file and admin port; returns its admin client. */
    private AdminHttp node(String id) throws Exception {
        int adminPort = FreePorts.next();
        Path nodeDir = Files.createDirectories(dir.resolve(id));
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: main}
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
                    - {name: ops, token: "%s", access: read-write}
                """
                        .formatted(FreePorts.next(), FreePorts.closed(), redis.port(), id, adminPort, TOKEN);
        nodes.add(PosternHarness.start(yaml, nodeDir, PrometheusMetrics.create()));
        return new AdminHttp(adminPort, TOKEN);
    }

    private static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r.body(), e);
        }
    }

    private static String etag(HttpResponse<String> r) {
        return r.headers().firstValue("ETag").orElseThrow();
    }

    @Test
    void aRouteWrittenThroughOneNodeIsServedByTheOther() throws Exception {
        AdminHttp a = node("a");
        AdminHttp b = node("b");

        var put = a.put("/api/v1/routes/users/alice@example.com", "{\"pool\": \"main\"}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

        Await.until(
                "b serves alice's route",
                SOON,
                () -> b.get("/api/v1/routes/users/alice@example.com").statusCode() == 200);
        assertThat(etag(b.get("/api/v1/revision"))).isEqualTo(etag(a.get("/api/v1/revision")));
        // drains and weights are part of the table, so they are the cluster's too
        assertThat(a.post("/api/v1/pools/main/backends/b1/drain", null).statusCode())
                .isEqualTo(200);
        Await.until("b sees b1 draining", SOON, () -> json(b.get("/api/v1/pools/main/backends/b1"))
                .get("state")
                .asText()
                .equals("draining"));
        assertThat(Files.readString(dir.resolve("b").resolve("routes.json"))).contains("alice@example.com");
    }

    @Test
    void twoAdminsWritingThroughTwoNodesWithTheSameIfMatchGetOneSuccessAndOne412() throws Exception {
        AdminHttp a = node("a");
        AdminHttp b = node("b");
        String revision = etag(a.get("/api/v1/revision"));
        Await.until("b at the same revision", SOON, () -> etag(b.get("/api/v1/revision"))
                .equals(revision));

        var first = a.send("PUT", "/api/v1/routes/users/one@example.com", "{\"pool\": \"main\"}", revision, true);
        var second = b.send("PUT", "/api/v1/routes/users/two@example.com", "{\"pool\": \"main\"}", revision, true);

        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(second.statusCode()).as(second.body()).isEqualTo(412);
        assertThat(json(second).get("type").asText()).isEqualTo("urn:postern:problem:revision-conflict");
    }

    @Test
    void whileRedisIsDownChangesAre503AndRoutingGoesOnAndWhenItIsBackTheNodesFollowAgain() throws Exception {
        AdminHttp a = node("a");
        AdminHttp b = node("b");
        assertThat(json(a.get("/readyz")).get("route-store").asText()).isEqualTo("up");
        assertThat(a.get("/metrics").body()).contains("postern_cluster_up 1.0");

        redis.saveAndKill();
        Await.until(
                "a sees the store down",
                SOON,
                () -> json(a.get("/readyz")).get("route-store").asText().equals("down"));
        var refused = a.put("/api/v1/routes/users/during@example.com", "{\"pool\": \"main\"}");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(json(refused).get("type").asText()).isEqualTo("urn:postern:problem:store-unavailable");
        assertThat(a.get("/readyz").statusCode())
                .as("a node on its last table still takes traffic")
                .isEqualTo(200);
        assertThat(a.get("/api/v1/routing").statusCode()).isEqualTo(200);
        assertThat(a.get("/metrics").body()).contains("postern_cluster_up 0.0");

        redis.restart();
        Await.until(
                "a takes changes again",
                SOON,
                () -> a.put("/api/v1/routes/users/after@example.com", "{\"pool\": \"main\"}")
                                .statusCode()
                        == 201);
        Await.until(
                "b serves the change",
                SOON,
                () -> b.get("/api/v1/routes/users/after@example.com").statusCode() == 200);
    }

    @Test
    void aStoppedNodeClosesItsRedisConnections() throws Exception {
        node("a");
        Await.until("a is connected", SOON, () -> redis.cli("CLIENT", "LIST").contains("name=postern-a"));

        nodes.remove(0).close();

        Await.until("a's connections are gone", SOON, () -> !redis.cli("CLIENT", "LIST")
                .contains("name=postern-a"));
    }
}
