package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.DevCluster;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The cluster as an operator runs it, from {@code scripts/dev-cluster.sh}: a real redis-server, three Postern
 * processes with {@code routing.store: redis} and {@code proxy-protocol: required}, a real HAProxy in front ({@code
 * mode tcp}, {@code send-proxy-v2}, round robin, health checks on {@code /readyz}) and the real Dovecot behind. An
 * admin write through one node reaches the others (the delay is measured and written to {@code
 * target/cluster-haproxy.txt}); two writes with the same If-Match through two nodes: one wins; Redis down: logins go
 * on with the last table and writes are 503, and the nodes follow Redis again when it is back; a node killed: the
 * others' sessions go on and HAProxy routes around it; a client behind HAProxy is itself to Postern and to Dovecot.
 * (A PROXY header from an untrusted source is refused: {@link ProxyProtocolIT}.)
 *
 * <p>The tests share one cluster and run in order: the ones that stop parts of it come last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterHaProxyIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final Path RUN = Path.of("target/cluster-haproxy-it").toAbsolutePath();
    private static final Path REPORT = Path.of("target/cluster-haproxy.txt").toAbsolutePath();
    private static final int NODES = 3;
    private static final InetAddress OTHER_CLIENT = address("127.0.0.2");

    static DevCluster cluster;
    static SSLContext tls;
    static final List<String> report = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        deleteRecursively(RUN);
        Files.createDirectories(RUN);
        cluster = DevCluster.start(RUN);
        tls = cluster.clientTls();
    }

    @AfterAll
    static void stop() throws IOException {
        if (cluster == null) {
            return;
        }
        Files.write(REPORT, report, StandardCharsets.UTF_8);
        List<ProcessHandle> processes = cluster.processes();
        cluster.close();
        for (ProcessHandle p : processes) {
            Await.until("pid " + p.pid() + " is gone", SOON, () -> gone(p));
        }
    }

    private static AdminHttp admin(int node) {
        return cluster.admin(node);
    }

    private static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    private static String revisionTag(int node) {
        return admin(node).get("/api/v1/revision").headers().firstValue("ETag").orElseThrow();
    }

    private static void record(String line) {
        System.out.println("ClusterHaProxyIT: " + line);
        report.add(line);
    }

    /** An IMAPS client through HAProxy, greeted and logged in as alice. */
    private static ImapTestClient aliceThroughTheBalancer(InetAddress source) {
        ImapTestClient client = ImapTestClient.connectTls(source, cluster.imaps(), tls);
        assertThat(client.greeting()).startsWith("* OK");
        assertThat(client.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");
        return client;
    }

    /** The session node {@code node} lists for a client on local port {@code port}; null if none (or no node). */
    private static JsonNode sessionOf(int node, InetAddress source, int port) {
        String client = source.getHostAddress() + ":" + port;
        HttpResponse<String> sessions;
        try {
            sessions = admin(node).get("/api/v1/sessions");
        } catch (UncheckedIOException e) {
            return null; // a node that was killed lists nothing
        }
        for (JsonNode s : json(sessions).get("sessions")) {
            if (s.get("client").asText().equals(client)) {
                return s;
            }
        }
        return null;
    }

    /** The node (1..3) that holds the session of {@code client}, waiting briefly for it to be listed. */
    private static int nodeOf(ImapTestClient client, InetAddress source) {
        return Await.value("a node lists the session of port " + client.localPort(), SOON, () -> {
            for (int n = 1; n <= NODES; n++) {
                if (sessionOf(n, source, client.localPort()) != null) {
                    return n;
                }
            }
            return null;
        });
    }

    /** A failed login attempt and the node that answered it. */
    record FailedLogin(int node, String answer) {}

    /**
     * {@code count} logins of {@code user} with a wrong password, each on a connection of its own through HAProxy,
     * so that round robin spreads them over the nodes. The place for the cluster-wide throttle's test: a user's
     * failures through three nodes trip its limit at the same count as through one (issue 12).
     */
    static List<FailedLogin> failedLoginsRoundRobin(String user, int count) throws Exception {
        List<FailedLogin> attempts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // each from an address of its own, so that only the per-user count can add up
            InetAddress source = InetAddress.getByName("127.0.0." + (20 + i));
            try (ImapTestClient client = ImapTestClient.connectTls(source, cluster.imaps(), tls)) {
                assertThat(client.greeting()).startsWith("* OK");
                int node = nodeOf(client, source);
                // a different guess each time: the throttle counts a repeated wrong secret once (a stale device)
                attempts.add(new FailedLogin(node, client.login(user, "guess-" + i)));
            }
        }
        return attempts;
    }

    @Test
    @Order(1)
    void statusShowsEveryPartUpAndTheBalancerChecksEveryNode() {
        Processes.Result status = cluster.status();

        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.stdout()).containsPattern("redis +up").containsPattern("haproxy +up");
        for (int n = 1; n <= NODES; n++) {
            assertThat(status.stdout()).containsPattern("node" + n + " +up .*route store up");
        }
        assertThat(cluster.balancerView())
                .hasSize(2 * NODES)
                .allSatisfy((server, state) -> assertThat(state).as(server).isEqualTo("UP"));
    }

    /** When each of nodes 2 and 3 first served a route written through node 1. */
    private static final class Propagation {
        /** Short enough for the resolution, long enough not to load the nodes that are being measured. */
        static final Duration POLL = Duration.ofMillis(2);

        final long written = System.nanoTime();
        final Map<Integer, Long> seen = new LinkedHashMap<>();

        void await(String path) {
            Await.until("nodes 2 and 3 serve " + path, SOON, POLL, () -> {
                for (int n = 2; n <= NODES; n++) {
                    if (!seen.containsKey(n) && admin(n).get(path).statusCode() == 200) {
                        seen.put(n, System.nanoTime());
                    }
                }
                return seen.size() == NODES - 1;
            });
        }

        double millis(int node) {
            return (seen.get(node) - written) / 1e6;
        }
    }

    @Test
    @Order(2)
    void aRouteWrittenThroughNodeOneIsServedByNodesTwoAndThreeWithinASecond() {
        int writes = 10;
        List<Double> delays = new ArrayList<>();
        for (int i = 0; i < writes; i++) {
            String path = "/api/v1/routes/users/propagation-" + i + "@example.test";
            HttpResponse<String> put = admin(1).put(path, "{\"pool\": \"dovecot-imap\"}");
            assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
            // the clock starts when the writer has its answer: what an admin (or a script) then sees elsewhere
            Propagation p = new Propagation();
            p.await(path);
            delays.add(p.millis(2));
            delays.add(p.millis(3));
        }
        delays.sort(Comparator.naturalOrder());
        double median = delays.get(delays.size() / 2);
        double max = delays.get(delays.size() - 1);
        record(String.format(
                "propagation: %d writes through node1 (admin API PUT of a user route), seen by node2 and node3 via"
                        + " GET polled every 2 ms: median %.1f ms, min %.1f ms, max %.1f ms (all: %s)",
                writes,
                median,
                delays.get(0),
                max,
                delays.stream().map(d -> String.format("%.1f", d)).toList()));

        assertThat(max).as("slowest propagation, ms").isLessThan(1000);
        assertThat(revisionTag(2)).isEqualTo(revisionTag(1)).isEqualTo(revisionTag(3));
    }

    @Test
    @Order(3)
    void twoWritesWithTheSameIfMatchThroughTwoNodesAtOnceGetOneSuccessAndOne412() {
        String revision = revisionTag(1);
        Await.until(
                "nodes 2 and 3 at node 1's revision",
                SOON,
                () -> revisionTag(2).equals(revision) && revisionTag(3).equals(revision));

        CompletableFuture<HttpResponse<String>> two = CompletableFuture.supplyAsync(() -> admin(2).send(
                        "PUT",
                        "/api/v1/routes/users/race-two@example.test",
                        "{\"pool\": \"dovecot-imap\"}",
                        revision,
                        true));
        CompletableFuture<HttpResponse<String>> three = CompletableFuture.supplyAsync(() -> admin(3).send(
                        "PUT",
                        "/api/v1/routes/users/race-three@example.test",
                        "{\"pool\": \"dovecot-imap\"}",
                        revision,
                        true));
        List<HttpResponse<String>> answers = Stream.of(two.join(), three.join())
                .sorted(Comparator.comparingInt(HttpResponse::statusCode))
                .toList();

        assertThat(answers.get(0).statusCode()).as(answers.get(0).body()).isEqualTo(201);
        assertThat(answers.get(1).statusCode()).as(answers.get(1).body()).isEqualTo(412);
        assertThat(json(answers.get(1)).get("type").asText()).isEqualTo("urn:postern:problem:revision-conflict");
        String winner = answers.get(0) == two.join() ? "race-two" : "race-three";
        String loser = winner.equals("race-two") ? "race-three" : "race-two";
        for (int n = 1; n <= NODES; n++) {
            AdminHttp node = admin(n);
            Await.until(
                    "node " + n + " serves the winner's route",
                    SOON,
                    () -> node.get("/api/v1/routes/users/" + winner + "@example.test")
                                    .statusCode()
                            == 200);
            assertThat(node.get("/api/v1/routes/users/" + loser + "@example.test")
                            .statusCode())
                    .as("the losing write is nowhere")
                    .isEqualTo(404);
        }
    }

    @Test
    @Order(4)
    void aClientFrom127002ThroughHaProxyIsItselfToTheNodeThatTookItAndToDovecot() {
        String before = DevBackends.dovecotLog();
        int node;
        try (ImapTestClient client = aliceThroughTheBalancer(OTHER_CLIENT)) {
            node = nodeOf(client, OTHER_CLIENT);
            JsonNode session = sessionOf(node, OTHER_CLIENT, client.localPort());
            assertThat(session.get("user").asText()).isEqualTo(DevBackends.ALICE);
            assertThat(session.get("tls").asText())
                    .as("TLS is end to end: HAProxy only forwards")
                    .startsWith("TLSv1.");
            assertThat(client.command("LOGOUT")).startsWith("OK");
        }
        // Dovecot trusts Postern (login_trusted_networks) and takes the client from Postern's IMAP ID
        Await.until("ID and login from 127.0.0.2 in dovecot.log", SOON, () -> {
            String log = DevBackends.dovecotLog().substring(before.length());
            return log.contains("ID sent: x-originating-ip=127.0.0.2")
                    && log.lines()
                            .anyMatch(
                                    l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2"));
        });
        Await.until("node " + node + "'s session line names 127.0.0.2", SOON, () -> cluster.nodeLog(node)
                .lines()
                .anyMatch(l -> l.contains(" closed: listener=imaps client=127.0.0.2:")
                        && l.contains("user=alice@example.test")));
    }

    @Test
    @Order(5)
    void aUsersFailuresThroughThreeNodesTripItsLimitAtTheSameCountAsThroughOne() throws Exception {
        // node.yaml.in: max-failures-per-user 6, counted in Redis across the nodes
        String user = "throttled-" + UUID.randomUUID() + "@example.test";
        List<FailedLogin> attempts = failedLoginsRoundRobin(user, 8);

        assertThat(attempts.stream().map(FailedLogin::node).distinct())
                .as("round robin: %s", attempts)
                .hasSize(NODES);
        assertThat(attempts.subList(0, 6)).as("%s", attempts).allSatisfy(a -> assertThat(a.answer())
                .startsWith("NO [AUTHENTICATIONFAILED]"));
        assertThat(attempts.subList(6, 8)).as("%s", attempts).allSatisfy(a -> assertThat(a.answer())
                .startsWith("NO [UNAVAILABLE]"));
    }

    @Test
    @Order(6)
    void withRedisStoppedLoginsGoOnWithTheLastRoutesAndWritesAre503AndWhenItIsBackTheNodesFollowIt() {
        // a route that shows in every session: alice goes to a pool of her own
        String pool = "{\"name\": \"cluster-it\", \"backends\": [{\"id\": \"dovecot-it\", \"address\": \"127.0.0.1:"
                + cluster.backendImap() + "\", \"identity\": \"id\"}]}";
        HttpResponse<String> created = admin(1).put("/api/v1/pools/cluster-it", pool);
        assertThat(created.statusCode()).as(created.body()).isBetween(200, 201);
        HttpResponse<String> routed =
                admin(1).put("/api/v1/routes/users/" + DevBackends.ALICE, "{\"pool\": \"cluster-it\"}");
        assertThat(routed.statusCode()).as(routed.body()).isBetween(200, 201);
        String revision = revisionTag(1);
        for (int n = 2; n <= NODES; n++) {
            int node = n;
            Await.until("node " + n + " has alice's route", SOON, () -> revisionTag(node)
                    .equals(revision));
        }

        cluster.stop("redis");
        for (int n = 1; n <= NODES; n++) {
            AdminHttp node = admin(n);
            Await.until(
                    "node " + n + " sees the store down",
                    SOON,
                    () -> json(node.get("/readyz")).get("route-store").asText().equals("down"));
            HttpResponse<String> refused =
                    node.put("/api/v1/routes/users/during@example.test", "{\"pool\": \"dovecot-imap\"}");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(json(refused).get("type").asText()).isEqualTo("urn:postern:problem:store-unavailable");
        }
        List<ImapTestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                clients.add(aliceThroughTheBalancer(InetAddress.getLoopbackAddress()));
            }
            List<Integer> nodes = new ArrayList<>();
            for (ImapTestClient c : clients) {
                int n = nodeOf(c, InetAddress.getLoopbackAddress());
                nodes.add(n);
                JsonNode session = sessionOf(n, InetAddress.getLoopbackAddress(), c.localPort());
                assertThat(session.get("pool").asText())
                        .as("node %d routes by the last table", n)
                        .isEqualTo("cluster-it");
                assertThat(c.command("SELECT INBOX")).startsWith("OK");
            }
            assertThat(nodes).as("one login on each node").containsExactlyInAnyOrder(1, 2, 3);
        } finally {
            clients.forEach(ImapTestClient::close);
        }

        long down = System.nanoTime();
        assertThat(cluster.start().stdout()).contains("starting Redis").doesNotContain("starting node");
        Await.until(
                "node 2 takes a write again",
                SOON,
                () -> admin(2).put("/api/v1/routes/users/after@example.test", "{\"pool\": \"dovecot-imap\"}")
                                .statusCode()
                        == 201);
        record(String.format(
                "Redis restarted: node2 took a write %.0f ms after dev-cluster.sh start began",
                (System.nanoTime() - down) / 1e6));
        for (int n = 1; n <= NODES; n++) {
            AdminHttp node = admin(n);
            Await.until(
                    "node " + n + " serves the write made after Redis came back",
                    SOON,
                    () -> node.get("/api/v1/routes/users/after@example.test").statusCode() == 200);
            assertThat(json(node.get("/readyz")).get("route-store").asText()).isEqualTo("up");
        }
        assertThat(admin(1).delete("/api/v1/routes/users/" + DevBackends.ALICE).statusCode())
                .isBetween(200, 204);
    }

    @Test
    @Order(7)
    void aKilledNodeLeavesTheOtherNodesSessionsAloneAndTheBalancerRoutesAroundIt() {
        Map<Integer, ImapTestClient> byNode = new LinkedHashMap<>();
        List<ImapTestClient> all = new ArrayList<>();
        try {
            while (byNode.size() < NODES) {
                ImapTestClient c = aliceThroughTheBalancer(InetAddress.getLoopbackAddress());
                all.add(c);
                byNode.putIfAbsent(nodeOf(c, InetAddress.getLoopbackAddress()), c);
                assertThat(all).as("round robin reaches every node").hasSizeLessThanOrEqualTo(2 * NODES);
            }

            ProcessHandle node2 = cluster.node(2);
            long killed = System.nanoTime();
            node2.destroyForcibly(); // SIGKILL: no goodbye to anyone
            Await.until("node 2 is gone", SOON, () -> !node2.isAlive());

            assertThat(byNode.get(1).command("NOOP")).as("node 1's session").startsWith("OK");
            assertThat(byNode.get(3).command("NOOP")).as("node 3's session").startsWith("OK");
            assertThat(byNode.get(2).command("NOOP"))
                    .as("node 2's session ended with it")
                    .isNull();

            Await.until("HAProxy marks node 2 down", SOON, () -> cluster.balancerView()
                    .get("postern-imaps/node2")
                    .startsWith("DOWN"));
            record(String.format(
                    "node2 SIGKILLed: HAProxy's checks (inter 1s fall 2) marked it down %.0f ms later",
                    (System.nanoTime() - killed) / 1e6));
            for (int i = 0; i < 2 * NODES; i++) {
                try (ImapTestClient c = aliceThroughTheBalancer(InetAddress.getLoopbackAddress())) {
                    assertThat(nodeOf(c, InetAddress.getLoopbackAddress())).isIn(1, 3);
                }
            }
            assertThat(byNode.get(1).command("NOOP")).startsWith("OK");
            assertThat(byNode.get(3).command("NOOP")).startsWith("OK");
        } finally {
            all.forEach(ImapTestClient::close);
        }

        Processes.Result status = cluster.status();
        assertThat(status.exitCode()).as(status.toString()).isNotZero();
        assertThat(status.stdout()).containsPattern("node2 +down");

        assertThat(cluster.start().stdout()).contains("starting node2").doesNotContain("starting node1");
        assertThat(cluster.status().exitCode()).isZero();
        assertThat(cluster.balancerView())
                .allSatisfy((server, state) -> assertThat(state).as(server).isEqualTo("UP"));
    }

    /** Ended: exited, or a zombie that init has not reaped yet (a killed node's, whose parent script is gone). */
    private static boolean gone(ProcessHandle p) {
        try {
            return !p.isAlive()
                    || Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"))
                            .contains(") Z ");
        } catch (IOException e) {
            return true;
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
