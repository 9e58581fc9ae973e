package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Posterns in cluster mode on one real redis-server, in front of two real Dovecots: a hold set on node 1 holds
 * logins on node 2, a move asked of node 1 sends node 2's held logins to the new backend, and with Redis down node 1
 * still holds and says the cluster was unreachable.
 */
class ClusterHoldsIT {
    private static final String TOKEN = "cluster-holds-it-token-0123456789";
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = DevBackends.ALICE;

    @TempDir
    Path dir;

    private TestRedis redis;
    private final List<Node> nodes = new ArrayList<>();

    private record Node(String id, PosternHarness postern, AdminHttp admin) {}

    /** A login that ended: its tagged reply, the backend its session reached, how long it took. */
    private record Login(String reply, String backend, long millis) {}

    @BeforeEach
    void start() throws Exception {
        DevBackends.ensureStarted();
        DevBackends.Instance second = DevBackends.second().ensureStarted();
        redis = TestRedis.start();
        Node n1 = node("n1", second);
        node("n2", second);
        Await.until(
                "n1 sees both nodes",
                SOON,
                () -> json(n1.admin().get("/api/v1/cluster/nodes"), 200)
                                .path("nodes")
                                .size()
                        == 2);
    }

    @AfterEach
    void stop() {
        nodes.forEach(n -> n.postern().close());
        redis.close();
    }

    private Node node(String id, DevBackends.Instance second) throws Exception {
        Path nodeDir = Files.createDirectories(dir.resolve(id));
        int adminPort = FreePorts.next();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: main}
                pools:
                  - name: main
                    backends:
                      - {id: old, address: "127.0.0.1:%d"}
                      - {id: new, address: "127.0.0.1:%d"}
                routing:
                  store: redis
                  file: routes.json
                  hold-timeout: 20s
                cluster:
                  addresses: ["127.0.0.1:%d"]
                  node-id: %s
                  connect-timeout: 500ms
                  command-timeout: 1s
                  check-interval: 200ms
                admin:
                  bind: "127.0.0.1:%d"
                  tokens:
                    - {name: ops, token: "%s", access: read-write}
                """
                        .formatted(
                                FreePorts.next(),
                                DevBackends.IMAP,
                                second.port(DevBackends.IMAP),
                                redis.port(),
                                id,
                                adminPort,
                                TOKEN);
        Node n = new Node(id, PosternHarness.start(yaml, nodeDir), new AdminHttp(adminPort, TOKEN));
        nodes.add(n);
        return n;
    }

    private static JsonNode json(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A login on {@code n} in the background, with a real IMAP dialogue. */
    private static CompletableFuture<Login> loginOn(Node n) {
        return CompletableFuture.supplyAsync(() -> {
            long start = System.nanoTime();
            try (ImapTestClient c = ImapTestClient.connect(n.postern().port("imap"))) {
                String reply = c.login(USER, DevBackends.ALICE_PASSWORD);
                long millis = (System.nanoTime() - start) / 1_000_000;
                int port = c.localPort();
                String backend = n
                        .postern()
                        .postern()
                        .services()
                        .sessions()
                        .find(s ->
                                s.clientAddress() != null && s.clientAddress().getPort() == port)
                        .stream()
                        .map(Session::backendId)
                        .findFirst()
                        .orElse(null);
                return new Login(reply, backend, millis);
            }
        });
    }

    private static int waiting(Node n) {
        int w = 0;
        for (JsonNode h : json(n.admin().get("/api/v1/holds"), 200).get("holds")) {
            w += h.get("waiting").asInt();
        }
        return w;
    }

    @Test
    void aHoldSetOnNode1HoldsLoginsOnNode2UntilItIsReleasedThere() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);

        JsonNode held = json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\"}"), 201);
        assertThat(held.get("cluster").asText()).isEqualTo("complete");
        assertThat(held.get("nodes"))
                .extracting(n -> n.get("node").asText() + "=" + n.get("held").asBoolean())
                .containsExactly("n1=true", "n2=true");
        assertThat(json(n2.admin().get("/api/v1/holds"), 200)
                        .at("/holds/0/origin")
                        .asText())
                .isEqualTo("n1");

        CompletableFuture<Login> login = loginOn(n2);
        Await.until("n2 holds the login", SOON, () -> waiting(n2) == 1);
        assertThat(login.isDone()).isFalse();

        JsonNode released = json(n1.admin().delete("/api/v1/holds/" + USER), 200);
        assertThat(released.get("cluster").asText()).isEqualTo("complete");

        assertThat(login.get(10, TimeUnit.SECONDS).reply()).startsWith("OK");
        assertThat(json(n2.admin().get("/api/v1/holds"), 200).get("holds")).isEmpty();
    }

    @Test
    void aNodeThatStartsWhileAHoldIsInForceHoldsThatUserToo() throws Exception {
        Node n1 = nodes.get(0);
        json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\", \"timeout\": \"2m\"}"), 201);

        // n3 was not there when the hold was sent to the nodes: it learns it from Redis
        Node n3 = node("n3", DevBackends.second());
        Await.until(
                "n3 holds alice",
                SOON,
                () -> json(n3.admin().get("/api/v1/holds"), 200).path("holds").size() == 1);
        JsonNode there = json(n3.admin().get("/api/v1/holds"), 200).get("holds");
        assertThat(there.get(0).get("user").asText()).isEqualTo(USER.toLowerCase(java.util.Locale.ROOT));
        assertThat(there.get(0).get("origin").asText()).isEqualTo("n1");
        CompletableFuture<Login> login = loginOn(n3);
        Await.until("n3 holds the login", SOON, () -> waiting(n3) == 1);
        assertThat(login.isDone()).isFalse();

        json(n1.admin().delete("/api/v1/holds/" + USER), 200);
        assertThat(login.get(10, TimeUnit.SECONDS).reply()).startsWith("OK");
        // released: a node that starts now holds nothing
        Node n4 = node("n4", DevBackends.second());
        Await.until(
                "n4 sees four nodes",
                SOON,
                () -> json(n4.admin().get("/api/v1/cluster/nodes"), 200)
                                .path("nodes")
                                .size()
                        == 4);
        assertThat(json(n4.admin().get("/api/v1/holds"), 200).get("holds")).isEmpty();
    }

    @Test
    void aMoveAskedOfNode1SendsNode2sHeldLoginsToTheNewBackend() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);
        json(n1.admin().post("/api/v1/routes/users/" + USER + "/move", "{\"to\": \"main/old\"}"), 200);
        Await.until("n2 routes alice to old", SOON, () -> "old"
                .equals(loginOn(n2).join().backend()));
        ImapTestClient live = ImapTestClient.connect(n2.postern().port("imap"));
        assertThat(live.login(USER, DevBackends.ALICE_PASSWORD)).startsWith("OK");

        json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\"}"), 201);
        CompletableFuture<Login> login = loginOn(n2);
        Await.until("n2 holds the login", SOON, () -> waiting(n2) == 1);
        JsonNode moved = json(n1.admin().post("/api/v1/routes/users/" + USER + "/move", "{\"to\": \"main/new\"}"), 200);

        assertThat(moved.get("cluster").toString())
                .isEqualTo("{\"hold\":\"complete\",\"end-sessions\":\"complete\",\"release\":\"complete\"}");
        assertThat(moved.get("sessions-ended").asInt()).isEqualTo(1);
        Login l = login.get(10, TimeUnit.SECONDS);
        assertThat(l.reply()).startsWith("OK");
        assertThat(l.backend()).isEqualTo("new");
        Await.until("the live session on n2 is closed", SOON, live::closedByServer);
        live.close();
        assertThat(loginOn(n2).join().backend()).isEqualTo("new");
    }

    @Test
    void whatNode1HeldAndReleasedWhileRedisWasDownReachesRedisWhenItIsBack() throws Exception {
        Node n1 = nodes.get(0);
        String key = "postern:hold:" + USER.toLowerCase(java.util.Locale.ROOT);
        redis.kill();
        JsonNode held =
                json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\", \"timeout\": \"2m\"}"), 201);
        assertThat(held.get("cluster").asText()).isEqualTo("unreachable");

        redis.restart();
        Await.until("n1 put its hold into redis", SOON, () -> redis.cli("EXISTS", key)
                .equals("1"));
        assertThat(redis.cli("GET", key)).isEqualTo("n1");

        redis.saveAndKill(); // the key survives the restart
        json(n1.admin().delete("/api/v1/holds/" + USER), 200);
        redis.restart();
        Await.until("n1 deleted the hold it released", SOON, () -> redis.cli("EXISTS", key)
                .equals("0"));
    }

    @Test
    void node1RestartedWhileItsHoldIsInForceTakesItBack() throws Exception {
        Node n1 = nodes.get(0);
        json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\", \"timeout\": \"2m\"}"), 201);
        n1.postern().close();

        Node again = node("n1", DevBackends.second());
        Await.until(
                "the restarted n1 holds alice",
                SOON,
                () -> json(again.admin().get("/api/v1/holds"), 200)
                                .path("holds")
                                .size()
                        == 1);
        assertThat(redis.cli("EXISTS", "postern:hold:" + USER.toLowerCase(java.util.Locale.ROOT)))
                .isEqualTo("1");
    }

    @Test
    void withRedisDownAHoldHoldsOnNode1AndSaysTheClusterWasUnreachable() throws Exception {
        Node n1 = nodes.get(0);
        redis.kill();

        JsonNode held = json(n1.admin().post("/api/v1/holds", "{\"user\": \"" + USER + "\"}"), 201);
        assertThat(held.get("cluster").asText()).isEqualTo("unreachable");
        CompletableFuture<Login> login = loginOn(n1);
        Await.until("n1 holds the login", SOON, () -> waiting(n1) == 1);

        JsonNode released = json(n1.admin().delete("/api/v1/holds/" + USER), 200);
        assertThat(released.get("cluster").asText()).isEqualTo("unreachable");
        assertThat(login.get(10, TimeUnit.SECONDS).reply()).startsWith("OK");
    }
}
