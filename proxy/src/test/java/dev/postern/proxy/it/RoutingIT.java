package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real Dovecot instances as one pool with mailbox affinity: a user always lands on the same one, stopping one
 * moves new sessions to the other, draining one lets its sessions finish (until the deadline) while new ones go
 * elsewhere.
 */
class RoutingIT {
    private static final String TOKEN = "routing-it-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static AdminHttp admin;
    static DevBackends.Instance second;

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        second = DevBackends.second().ensureStarted();
        int adminPort = FreePorts.next();
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pair}
                pools:
                  - name: pair
                    balancer: consistent-hash
                    health-check: {protocol: imap, interval: 200ms, timeout: 1s, rise: 1, fall: 1}
                    backends:
                      - {id: main, address: "127.0.0.1:%d"}
                      - {id: second, address: "127.0.0.1:%d", weight: 1000}
                admin:
                  bind: "127.0.0.1:%d"
                  tokens: [{name: test, token: "%s", access: read-write}]
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP, second.port(DevBackends.IMAP), adminPort, TOKEN),
                dir);
        admin = new AdminHttp(adminPort, TOKEN);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    @AfterEach
    void restore() {
        second.ensureStarted();
        admin.post("/api/v1/pools/pair/backends/second/enable", null);
        Await.until("second healthy", Duration.ofSeconds(20), () -> eligible("alice@example.test", "second"));
    }

    private static JsonNode explain(String user) {
        try {
            var r = admin.get("/api/v1/routes/explain?user=" + user + "&protocol=imap");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String firstChoice(String user) {
        return explain(user).path("backends").get(0).path("id").asText();
    }

    private static boolean eligible(String user, String backend) {
        for (JsonNode b : explain(user).path("backends")) {
            if (b.path("id").asText().equals(backend)) {
                return b.path("eligible").asBoolean();
            }
        }
        return false;
    }

    /** The backend of the newest live session of {@code user}. */
    private static String backendOfNewest(String user) {
        List<Session> sessions = postern.postern().services().sessions().find(s -> user.equals(s.user()));
        return sessions.stream()
                .max(Comparator.comparingLong(Session::startMillis).thenComparing(Session::id))
                .map(Session::backendId)
                .orElse(null);
    }

    private static ImapTestClient loggedIn(String user, String password) {
        ImapTestClient c = ImapTestClient.connect(postern.port("imap"));
        assertThat(c.login(user, password)).startsWith("OK");
        return c;
    }

    @Test
    void aUserAlwaysLandsOnTheSameBackendAndSharesFollowWeights() {
        String aliceHome = firstChoice(DevBackends.ALICE);
        for (int i = 0; i < 5; i++) {
            try (ImapTestClient c = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)) {
                assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo(aliceHome);
                assertThat(c.command("SELECT INBOX")).startsWith("OK");
            }
        }
        String bobHome = firstChoice(DevBackends.BOB);
        for (int i = 0; i < 5; i++) {
            try (ImapTestClient c = loggedIn(DevBackends.BOB, DevBackends.BOB_PASSWORD)) {
                assertThat(backendOfNewest(DevBackends.BOB)).isEqualTo(bobHome);
            }
        }
        // weights 1:1000: nearly every user's home is 'second' (explain has no side effects, so ask for many)
        Map<String, Integer> homes = new HashMap<>();
        for (int u = 0; u < 300; u++) {
            homes.merge(firstChoice("user" + u + "@example.test"), 1, Integer::sum);
        }
        assertThat(homes.getOrDefault("second", 0)).isGreaterThan(290);
    }

    @Test
    void stoppingABackendMovesNewSessionsToTheOtherAndItsUsersReturnWhenItIsBack() {
        assertThat(firstChoice(DevBackends.ALICE))
                .as("the weights make 'second' alice's home")
                .isEqualTo("second");
        ImapTestClient live = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD);
        assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("second");

        second.stop();
        // (Dovecot's logged-in imap processes outlive its master, so the live session may even go on: either way the
        // client sees no more than a reconnect) new sessions go to 'main' at once, without a failed login
        for (int i = 0; i < 3; i++) {
            try (ImapTestClient c = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)) {
                assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("main");
                assertThat(c.command("SELECT INBOX")).startsWith("OK");
            }
        }
        Await.until("'second' marked down", Duration.ofSeconds(10), () -> !eligible(DevBackends.ALICE, "second"));

        live.close();
        second.ensureStarted();
        Await.until("'second' healthy again", Duration.ofSeconds(20), () -> eligible(DevBackends.ALICE, "second"));
        try (ImapTestClient c = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)) {
            assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("second");
        }
    }

    @Test
    void drainingABackendLetsItsSessionsRunUntilTheDeadlineWhileNewOnesGoElsewhere() {
        ImapTestClient live = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD);
        assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("second");

        var drained = admin.post("/api/v1/pools/pair/backends/second/drain", "{\"deadline\": \"3s\"}");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        try (ImapTestClient c = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)) {
            assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("main");
        }
        assertThat(live.command("SELECT INBOX"))
                .as("the drained backend's session goes on")
                .startsWith("OK");
        assertThat(explain(DevBackends.ALICE).path("backends").findValuesAsText("reason"))
                .contains("draining");

        // at the deadline Postern closes what is left on it
        Await.until(
                "the drained session closed at the deadline",
                Duration.ofSeconds(20),
                () -> live.command("NOOP") == null);
        live.close();

        var enabled = admin.post("/api/v1/pools/pair/backends/second/enable", null);
        assertThat(enabled.statusCode()).as(enabled.body()).isEqualTo(200);
        try (ImapTestClient c = loggedIn(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)) {
            assertThat(backendOfNewest(DevBackends.ALICE)).isEqualTo("second");
        }
    }
}
