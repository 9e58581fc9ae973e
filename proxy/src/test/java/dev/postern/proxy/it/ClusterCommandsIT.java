package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.auth.StaticFileProvider;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two whole Posterns in cluster mode on one real redis-server, in front of the real Dovecot: a kick, an auth-cache
 * flush and a certificate reload asked of node 1 reach node 2; node 1 lists node 2's sessions; with Redis down the
 * kick still works on node 1 and says the cluster was unreachable.
 */
class ClusterCommandsIT {
    private static final String TOKEN = "cluster-commands-it-token-012345";
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private TestRedis redis;
    private TestCertificates ca;
    private final List<Node> nodes = new ArrayList<>();

    /** A running node: its directory, Postern and admin client. */
    private record Node(String id, Path dir, PosternHarness postern, AdminHttp admin) {
        int port(String listener) {
            return postern.port(listener);
        }

        StaticFileProvider users() {
            return (StaticFileProvider) postern.postern().authSetup().provider("local");
        }

        long cachedLogins() {
            return postern.postern().auth().stats().cache().size();
        }
    }

    @BeforeEach
    void start() throws Exception {
        DevBackends.ensureStarted();
        redis = TestRedis.start();
        ca = TestCertificates.newAuthority();
        Node n1 = node("n1");
        node("n2");
        Await.until(
                "n1 sees both nodes",
                SOON,
                () -> json(n1.admin().get("/api/v1/cluster/nodes"))
                                .path("nodes")
                                .size()
                        == 2);
    }

    @AfterEach
    void stop() {
        nodes.forEach(n -> n.postern().close());
        redis.close();
    }

    private Node node(String id) throws Exception {
        Path nodeDir = Files.createDirectories(dir.resolve(id));
        TestUsers.write(nodeDir);
        ca.issue(TestCertificates.KeyType.EC_P256, "first.example.test", "localhost")
                .write(nodeDir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        int adminPort = FreePorts.next();
        String yaml =
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: main,
                     auth: [local]}
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: main, auth: [local]}
                tls:
                  certificates: [{name: mail, cert: mail-chain.pem, key: mail-key.pem}]
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt, reload-check: 1h}
                pools:
                  - {name: main, backends: [{id: dovecot, address: "127.0.0.1:%d"}]}
                routing:
                  store: redis
                  file: routes.json
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
                                FreePorts.next(),
                                DevBackends.IMAP,
                                redis.port(),
                                id,
                                adminPort,
                                TOKEN);
        Node n = new Node(
                id,
                nodeDir,
                PosternHarness.start(yaml, nodeDir, PrometheusMetrics.create()),
                new AdminHttp(adminPort, TOKEN));
        nodes.add(n);
        return n;
    }

    private static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r.body(), e);
        }
    }

    private static JsonNode ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r);
    }

    private static ImapTestClient loggedIn(Node n) {
        ImapTestClient c = ImapTestClient.connect(n.port("imap"));
        assertThat(c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");
        return c;
    }

    @Test
    void aKickAskedOfNode1ClosesTheUsersSessionOnNode2AndNode1ListsItBefore() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);
        try (ImapTestClient c = loggedIn(n2)) {
            JsonNode listed = ok(n1.admin().get("/api/v1/sessions?scope=cluster&user=" + DevBackends.ALICE));
            assertThat(listed.get("cluster").asText()).isEqualTo("complete");
            assertThat(listed.get("count").asInt()).isEqualTo(1);
            JsonNode session = listed.at("/sessions/0");
            assertThat(session.get("node").asText()).isEqualTo("n2");
            assertThat(session.get("id").asText()).startsWith("n2-");
            assertThat(session.get("backend").asText()).isEqualTo("dovecot");
            assertThat(ok(n1.admin().get("/api/v1/sessions")).get("count").asInt())
                    .as("node 1's own list")
                    .isZero();

            long start = System.nanoTime();
            JsonNode kick = ok(n1.admin().delete("/api/v1/sessions?user=" + DevBackends.ALICE));
            double answered = (System.nanoTime() - start) / 1e6;
            String rest = c.rest();
            double closed = (System.nanoTime() - start) / 1e6;

            assertThat(kick.get("killed").asInt()).isEqualTo(1);
            assertThat(kick.get("cluster").asText()).isEqualTo("complete");
            assertThat(kick.get("nodes").findValuesAsText("node")).containsExactly("n1", "n2");
            assertThat(kick.at("/nodes/1/killed").asInt()).isEqualTo(1);
            assertThat(rest).doesNotContain("OK");
            System.out.printf(
                    "kick through n1: answered in %.1f ms (%d ms waiting for n2), the client on n2 saw the close"
                            + " after %.1f ms%n",
                    answered, kick.get("waited-ms").asLong(), closed);
        }
        n2.postern().awaitNoSessions();
    }

    @Test
    void oneSessionOfNode2IsClosedByItsIdThroughNode1() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);
        try (ImapTestClient keep = loggedIn(n2);
                ImapTestClient c = loggedIn(n2)) {
            JsonNode listed = ok(n1.admin().get("/api/v1/sessions?scope=cluster"));
            assertThat(listed.get("count").asInt()).isEqualTo(2);
            String id = listed.at("/sessions/1/id").asText();

            JsonNode killed = ok(n1.admin().delete("/api/v1/sessions/" + id));

            assertThat(killed.get("on").asText()).isEqualTo("n2");
            assertThat(c.rest()).doesNotContain("OK");
            assertThat(keep.command("NOOP")).startsWith("OK");
            assertThat(n1.admin().delete("/api/v1/sessions/" + id).statusCode())
                    .as("no node has it now")
                    .isEqualTo(404);
        }
    }

    @Test
    void anAuthCacheFlushThroughNode1MakesNode2AskItsUsersFileAgain() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);
        loggedIn(n2).close();
        assertThat(n2.cachedLogins()).isEqualTo(1);
        // alice's password changes in node 2's file; its cache still holds the old one's success
        TestUsers.write(n2.dir(), new String[][] {{DevBackends.ALICE, "a-new-password"}});
        assertThat(n2.users().checkNow()).isTrue();
        loggedIn(n2).close();

        JsonNode flushed = ok(n1.admin().delete("/api/v1/auth-cache/" + DevBackends.ALICE));

        assertThat(flushed.get("cluster").asText()).isEqualTo("complete");
        assertThat(flushed.at("/nodes/1/node").asText()).isEqualTo("n2");
        assertThat(flushed.at("/nodes/1/entries").asInt()).isEqualTo(1);
        assertThat(n2.cachedLogins()).isZero();
        try (ImapTestClient c = ImapTestClient.connect(n2.port("imap"))) {
            assertThat(c.login(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("NO");
        }
    }

    private SSLSocket handshake(Node n) throws Exception {
        SSLContext context = ca.clientSslContext();
        SSLSocket s =
                (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), n.port("imaps"));
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("localhost")));
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private String subject(Node n) throws Exception {
        try (SSLSocket s = handshake(n)) {
            return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal()
                    .getName();
        }
    }

    @Test
    void aCertificateReloadAskedOfNode1IsServedByNode2ToItsNextHandshake() throws Exception {
        Node n1 = nodes.get(0);
        Node n2 = nodes.get(1);
        assertThat(subject(n2)).contains("CN=first.example.test");
        ca.issue(TestCertificates.KeyType.RSA_2048, "second.example.test", "localhost")
                .write(n2.dir(), "mail", TestCertificates.KeyFormat.PKCS8, null);

        JsonNode reload = ok(n1.admin().post("/api/v1/tls/reload", null));

        assertThat(reload.get("cluster").asText()).isEqualTo("complete");
        assertThat(reload.at("/certificates/0/subject").asText()).contains("first.example.test");
        assertThat(reload.at("/nodes/1/node").asText()).isEqualTo("n2");
        assertThat(reload.at("/nodes/1/certificates/0/subject").asText()).contains("second.example.test");
        assertThat(subject(n2)).contains("CN=second.example.test");
        assertThat(subject(n1)).as("node 1's files did not change").contains("CN=first.example.test");
    }

    @Test
    void withRedisDownAKickWorksOnNode1AndSaysTheClusterWasUnreachableWithinTheDeadline() throws Exception {
        Node n1 = nodes.get(0);
        try (ImapTestClient c = loggedIn(n1)) {
            redis.kill();
            Await.until("n1 sees redis down", SOON, () -> json(n1.admin().get("/readyz"))
                    .path("route-store")
                    .asText()
                    .equals("down"));

            long start = System.nanoTime();
            HttpResponse<String> r = n1.admin().delete("/api/v1/sessions?user=" + DevBackends.ALICE);
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            JsonNode kick = ok(r);
            assertThat(took).isLessThan(Duration.ofSeconds(1));
            assertThat(kick.get("killed").asInt()).isEqualTo(1);
            assertThat(kick.get("cluster").asText()).isEqualTo("unreachable");
            assertThat(kick.get("cluster-detail").asText()).contains("cannot be reached");
            assertThat(c.rest()).doesNotContain("OK");
            JsonNode listed = ok(n1.admin().get("/api/v1/sessions?scope=cluster"));
            assertThat(listed.get("cluster").asText()).isEqualTo("unreachable");
            assertThat(n1.admin().get("/api/v1/cluster/nodes").statusCode()).isEqualTo(503);
            System.out.printf("kick with redis down: answered in %d ms%n", took.toMillis());
        }
    }
}
