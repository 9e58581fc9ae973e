package dev.postern.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Login health checks against the real Dovecot: a probe user logs in through each kind of backend connection
 * (plain, STARTTLS, implicit TLS, PROXY v2, master user; IMAP, POP3 and submission) and they stay up; a backend with
 * a wrong master password, and a pool whose probe user does not exist, are taken out after {@code fall} checks with
 * the backend's refusal as the reason in the admin API; Python's imaplib logins then never reach the broken backend;
 * a PUT that fixes the master password brings it back and keeps the pool's health settings.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the PUT that repairs the broken backend comes last
class HealthCheckLoginIT {
    private static final String TOKEN = "health-it-token-0123456789";
    private static final int FALL = 2;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REFUSED = "login refused: NO [AUTHENTICATIONFAILED] Authentication failed.";

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static AdminHttp admin;
    static int adminPort;
    /** Failed checks per pool/backend, and at each change of state the failures counted until then. */
    static final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

    static final List<String> changes = new CopyOnWriteArrayList<>();

    static final class Recorder implements Metrics {
        @Override
        public void backendCheckFailed(String pool, String backend, String reason) {
            failures.computeIfAbsent(pool + "/" + backend, k -> new AtomicInteger())
                    .incrementAndGet();
        }

        @Override
        public void backendHealth(String pool, String backend, boolean healthy) {
            AtomicInteger n = failures.get(pool + "/" + backend);
            changes.add(pool + "/" + backend + (healthy ? " up" : " down after " + (n == null ? 0 : n.get())));
        }
    }

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestUsers.write(dir);
        Files.writeString(dir.resolve("probe.pass"), DevBackends.BOB_PASSWORD + "\n");
        adminPort = FreePorts.next();
        String check = "{mode: login, user: %s, password: '${file:probe.pass}', interval: 150ms, timeout: 3s, rise: 2,"
                        .formatted(DevBackends.BOB)
                + " fall: " + FALL;
        String yaml =
                ("""
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot, auth: [local]}
                pools:
                  - name: dovecot
                    balancer: round-robin
                    backends:
                      - {id: good, address: "127.0.0.1:%d", master-user: %s, master-password: %s}
                      - {id: bad-master, address: "127.0.0.1:%d", master-user: %s, master-password: not-the-master-password}
                    health-check: %s}
                  - name: kinds
                    backends:
                      - {id: starttls, address: "127.0.0.1:%d", tls: starttls, tls-verify: false}
                      - {id: implicit, address: "127.0.0.1:%d", tls: implicit, tls-verify: false}
                      - {id: proxy-v2, address: "127.0.0.1:%d", identity: proxy-v2}
                    health-check: %s, protocol: imap}
                  - name: pop3
                    backends: [{id: pop3, address: "127.0.0.1:%d"}]
                    health-check: %s, protocol: pop3}
                  - name: submission
                    backends: [{id: submission, address: "127.0.0.1:%d"}]
                    health-check: %s, protocol: smtp}
                  - name: ghost
                    backends: [{id: ghost, address: "127.0.0.1:%d"}]
                    health-check: {mode: login, protocol: imap, user: nobody@example.test, password: x, interval: 150ms, fall: %d}
                admin:
                  bind: "127.0.0.1:%d"
                  tokens:
                    - {name: ops, token: "%s", access: read-write}
                """
                                + TestUsers.AUTH_SECTION)
                        .formatted(
                                FreePorts.next(),
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD,
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                check,
                                DevBackends.IMAP,
                                DevBackends.IMAPS,
                                DevBackends.IMAP_PROXY,
                                check,
                                DevBackends.POP3,
                                check,
                                DevBackends.SUBMISSION,
                                check,
                                DevBackends.IMAP,
                                FALL,
                                adminPort,
                                TOKEN);
        postern = PosternHarness.start(yaml, dir, new Recorder());
        admin = new AdminHttp(adminPort, TOKEN);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static BackendRuntime backend(String pool, String id) {
        return postern.postern().services().pools().get(pool).backends().stream()
                .filter(b -> b.id().equals(id))
                .findFirst()
                .orElseThrow();
    }

    private static int failuresOf(String key) {
        AtomicInteger n = failures.get(key);
        return n == null ? 0 : n.get();
    }

    /** GET /api/v1/pools with curl. */
    private static JsonNode pools() throws Exception {
        Processes.Result r = Processes.run(
                Duration.ofSeconds(20),
                "curl",
                "-sS",
                "-H",
                "Authorization: Bearer " + TOKEN,
                "http://127.0.0.1:" + adminPort + "/api/v1/pools");
        assertThat(r.exitCode()).as("%s", r).isZero();
        return JSON.readTree(r.stdout());
    }

    private static JsonNode listed(JsonNode pools, String pool, String backend) {
        for (JsonNode p : pools.get("pools")) {
            if (p.get("name").asText().equals(pool)) {
                for (JsonNode b : p.get("backends")) {
                    if (b.get("id").asText().equals(backend)) {
                        return b;
                    }
                }
            }
        }
        throw new AssertionError("no backend " + pool + "/" + backend + " in " + pools);
    }

    private static final String LOGINS =
            """
            import imaplib, sys
            port, user, password, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
            ok = 0
            for i in range(n):
                m = imaplib.IMAP4("127.0.0.1", port)
                try:
                    m.login(user, password)
                    if m.select("INBOX")[0] == "OK":
                        ok += 1
                    m.logout()
                except imaplib.IMAP4.error as e:
                    print("ERR", e)
                    m.shutdown()
            print("OK", ok)
            """;

    @Test
    @Order(1)
    void brokenLoginsTakeABackendOutWithinTheFallCountAndClientsGoElsewhere() throws Exception {
        // the state flips before the metrics hear of it: wait for what they heard
        Await.until(
                "bad-master and ghost are down",
                Duration.ofSeconds(30),
                () -> changes.stream().filter(c -> c.contains(" down after ")).count() >= 2);
        assertThat(backend("dovecot", "bad-master").healthy()).isFalse();
        assertThat(backend("ghost", "ghost").healthy()).isFalse();

        assertThat(changes).contains("dovecot/bad-master down after " + FALL, "ghost/ghost down after " + FALL);
        JsonNode pools = pools();
        assertThat(listed(pools, "dovecot", "bad-master").at("/health/healthy").asBoolean())
                .isFalse();
        assertThat(listed(pools, "dovecot", "bad-master")
                        .at("/health/last-failure")
                        .asText())
                .isEqualTo(REFUSED);
        assertThat(listed(pools, "ghost", "ghost").at("/health/last-failure").asText())
                .isEqualTo(REFUSED);
        assertThat(pools.toString()).doesNotContain(DevBackends.BOB_PASSWORD);

        // round robin over both backends: a login sent to the broken one would fail (its master password is wrong)
        Processes.Result r = Processes.python(
                Duration.ofSeconds(60),
                LOGINS,
                "" + postern.port("imap"),
                DevBackends.ALICE,
                DevBackends.ALICE_PASSWORD,
                "10");
        assertThat(r.stdout()).as("%s", r).contains("OK 10").doesNotContain("ERR");
    }

    @Test
    @Order(2)
    void everyKindOfBackendConnectionPassesTheLoginCheck() {
        // the ghost pool's failures count the checks that ran: past a few, the others have passed as many times
        Await.until(
                "several rounds of checks ran",
                Duration.ofSeconds(30),
                () -> failuresOf("ghost/ghost") >= 2 * FALL + 2);

        for (String key : List.of(
                "dovecot/good",
                "kinds/starttls",
                "kinds/implicit",
                "kinds/proxy-v2",
                "pop3/pop3",
                "submission/submission")) {
            String[] parts = key.split("/");
            BackendRuntime b = backend(parts[0], parts[1]);
            assertThat(b.lastFailure()).as(key).isEmpty();
            assertThat(b.healthy()).as(key).isTrue();
            assertThat(failuresOf(key)).as(key).isZero();
        }
    }

    @Test
    @Order(3)
    void aPutThatFixesTheMasterPasswordBringsTheBackendBackAndKeepsTheChecks() throws Exception {
        Await.until("bad-master is down", Duration.ofSeconds(30), () -> !backend("dovecot", "bad-master")
                .healthy());
        ObjectNode pool =
                (ObjectNode) JSON.readTree(admin.get("/api/v1/pools/dovecot").body());
        assertThat(pool.at("/health-check/password").asText()).isEqualTo("***");
        ((ObjectNode) pool.at("/backends/1")).put("master-password", DevBackends.MASTER_PASSWORD);

        assertThat(admin.put("/api/v1/pools/dovecot", pool.toString()).statusCode())
                .isEqualTo(200);

        Await.until("bad-master is back", Duration.ofSeconds(30), () -> backend("dovecot", "bad-master")
                .healthy());
        var health = postern.postern()
                .routeStore()
                .current()
                .pool("dovecot")
                .orElseThrow()
                .healthCheck();
        assertThat(health.login().orElseThrow().password().reveal()).isEqualTo(DevBackends.BOB_PASSWORD);
        assertThat(health.fall()).isEqualTo(FALL);
    }
}
