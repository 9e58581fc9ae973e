package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zombie tests before the backend sees anything, over real sockets with DNS lists the test controls and a clock
 * it moves: pregreet (banner, wait, talking early), DNS-list drop and enforce, allowlisting, the memory of clients
 * that passed, and the limits per client (concurrent connections, rate, messages, recipients, errors).
 */
class EdgeZombieTest {
    @TempDir
    static Path dir;

    static FakeRelayBackend backend;
    static RelayTestServer server;
    static final Lists lists = new Lists();

    /** DNS lists as the test says: a verdict per call, or one that never comes. */
    static final class Lists implements ClientReputation {
        volatile Verdict verdict = Verdict.CLEAN;
        volatile boolean silent;
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public CompletionStage<Verdict> check(InetAddress client) {
            calls.incrementAndGet();
            return silent ? new CompletableFuture<>() : CompletableFuture.completedFuture(verdict);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        backend = new FakeRelayBackend();
        String relay = "role: relay, hostname: mx.test, local-domains: [example.test]";
        String dnsbl = "dnsbl: {sites: [zen.dnsbl.test*2, wl.dnsbl.test*-2], threshold: 2, allowlist-threshold: -1,"
                + " timeout: 300ms}";
        String yaml =
                """
                listeners:
                  - {name: pregreet, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, pregreet: {banner: "mx.test ESMTP wait", wait: 400ms}, %2$s, passed-cache: 1h}}
                  - {name: drop, protocol: smtp, bind: "127.0.0.1:0", pool: fake, smtp: {%1$s, %2$s}}
                  - {name: enforce, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, %2$s, dnsbl-action: enforce}}
                  - {name: allowed, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, pregreet: {banner: "x", wait: 5s}, %2$s, allowlist: [127.0.0.0/8]}}
                  - {name: limits, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, limits: {connections-per-client: 2, connections-per-minute: 5,
                            messages-per-connection: 2, recipients-per-message: 3, errors-per-session: 4}}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%3$d"}]}
                """
                        .formatted(relay, dnsbl, backend.port());
        server = RelayTestServer.start(yaml, dir, lists, SenderPolicy.NONE);
        server.awaitKeywords("fake");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        backend.close();
    }

    @BeforeEach
    void reset() {
        lists.verdict = ClientReputation.Verdict.CLEAN;
        lists.silent = false;
        lists.calls.set(0);
        backend.connections.clear();
        // every test starts with clients forgotten: no passes remembered, fresh rate windows
        server.ticker.advance(Duration.ofHours(2));
    }

    @AfterEach
    void everySessionEnds() {
        server.awaitNoSessions();
    }

    static ClientReputation.Verdict listed(int score, String... zones) {
        return new ClientReputation.Verdict(score, List.of(zones), List.of());
    }

    // ---- pregreet

    @Test
    void aPatientClientGetsTheWholeGreetingAfterTheWait() {
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).containsExactly("220-mx.test ESMTP wait", "220 mx.test ESMTP Postern");
            assertThat(System.nanoTime() - start)
                    .isGreaterThanOrEqualTo(Duration.ofMillis(400).toNanos());
            assertThat(c.command("EHLO patient.example").get(0)).isEqualTo("250-mx.test");
            c.command("QUIT");
        }
        assertThat(lists.calls).hasValue(1);
    }

    @Test
    void aClientThatTalksBeforeItsTurnIsDropped() {
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.readLine()).isEqualTo("220-mx.test ESMTP wait");
            c.write("EHLO zombie.example\r\n");
            assertThat(c.readLine()).isEqualTo("521 5.5.1 mx.test Error: protocol error (talked before the greeting)");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(backend.connections).isEmpty();
    }

    @Test
    void evenHalfALineBeforeTheTurnCounts() {
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.readLine()).isEqualTo("220-mx.test ESMTP wait");
            c.write("EHL");
            assertThat(c.readLine()).startsWith("521 5.5.1 ");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void aClientThatPassedSkipsTheTestsUntilItIsForgotten() {
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).hasSize(2);
            c.command("QUIT");
        }
        server.awaitNoSessions();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).as("remembered: no wait, no lists").containsExactly("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
        assertThat(lists.calls).hasValue(1);
        server.awaitNoSessions();
        server.ticker.advance(Duration.ofMinutes(61));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).as("forgotten after passed-cache").hasSize(2);
            c.command("QUIT");
        }
        assertThat(lists.calls).hasValue(2);
        server.ticker.advance(Duration.ofMinutes(61));
    }

    // ---- DNS lists

    @Test
    void aListedClientIsDroppedBeforeTheGreeting() {
        lists.verdict = listed(2, "zen.dnsbl.test");
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.readLine())
                    .isEqualTo("521 5.7.1 Service unavailable; client [127.0.0.1] blocked using zen.dnsbl.test");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(backend.connections).isEmpty();
    }

    @Test
    void aScoreBelowTheThresholdPasses() {
        lists.verdict = listed(1, "minor.dnsbl.test");
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
    }

    @Test
    void listsThatDoNotAnswerInTimeDelayTheGreetingOnlyUntilTheirTimeout() {
        lists.silent = true;
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            long waited = System.nanoTime() - start;
            assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
            assertThat(waited).isLessThan(Duration.ofSeconds(5).toNanos());
            c.command("QUIT");
        }
    }

    @Test
    void enforceGreetsButRefusesEveryRecipient() {
        lists.verdict = listed(4, "zen.dnsbl.test", "bl.dnsbl.test");
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("enforce"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            c.command("EHLO listed.example");
            assertThat(c.command("MAIL FROM:<a@listed.example>")).containsExactly("250 2.1.0 Ok");
            assertThat(c.command("RCPT TO:<bob@example.test>"))
                    .containsExactly("550 5.7.1 Service unavailable; client [127.0.0.1] blocked using"
                            + " zen.dnsbl.test, bl.dnsbl.test");
            c.command("QUIT");
        }
        assertThat(backend.connections).isEmpty();
    }

    @Test
    void anAllowlistedScoreEndsThePregreetWaitEarly() {
        lists.verdict = listed(-2, "wl.dnsbl.test");
        server.ticker.advance(Duration.ofHours(2)); // forget earlier passes
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).containsExactly("220-mx.test ESMTP wait", "220 mx.test ESMTP Postern");
            assertThat(System.nanoTime() - start)
                    .isLessThan(Duration.ofMillis(400).toNanos());
            c.command("QUIT");
        }
        server.ticker.advance(Duration.ofHours(2));
    }

    @Test
    void anAllowlistedNetworkSkipsEveryTest() {
        lists.verdict = listed(10, "zen.dnsbl.test");
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("allowed"))) {
            assertThat(c.reply()).containsExactly("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
        assertThat(lists.calls).hasValue(0);
    }

    // ---- limits per client

    @Test
    void concurrentConnectionsPerClientAreLimited() {
        server.ticker.advance(Duration.ofMinutes(2)); // a fresh rate window
        List<SmtpTestClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                SmtpTestClient c = SmtpTestClient.connect(server.port("limits"));
                assertThat(c.replyLine()).startsWith("220 ");
                open.add(c);
            }
            try (SmtpTestClient third = SmtpTestClient.connect(server.port("limits"))) {
                assertThat(third.readLine()).isEqualTo("421 4.7.0 mx.test Error: too many connections from 127.0.0.1");
                assertThat(third.closedByServer()).isTrue();
            }
            open.remove(0).close();
            Await.until("the first connection closed", Duration.ofSeconds(5), () -> server.sessions() == 1);
            try (SmtpTestClient again = SmtpTestClient.connect(server.port("limits"))) {
                assertThat(again.replyLine()).startsWith("220 ");
                again.command("QUIT");
            }
        } finally {
            open.forEach(SmtpTestClient::close);
        }
    }

    @Test
    void connectionsPerMinuteAreLimitedUntilTheWindowPasses() {
        server.ticker.advance(Duration.ofMinutes(2));
        for (int i = 0; i < 5; i++) {
            try (SmtpTestClient c = SmtpTestClient.connect(server.port("limits"))) {
                assertThat(c.replyLine()).as("connection %d", i + 1).startsWith("220 ");
                c.command("QUIT");
            }
            server.awaitNoSessions();
        }
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("limits"))) {
            assertThat(c.readLine())
                    .isEqualTo("421 4.7.0 mx.test Error: too many connections per minute from 127.0.0.1");
        }
        server.awaitNoSessions();
        server.ticker.advance(Duration.ofSeconds(61));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("limits"))) {
            assertThat(c.replyLine()).startsWith("220 ");
            c.command("QUIT");
        }
    }

    @Test
    void messagesRecipientsAndErrorsPerSessionAreLimited() {
        server.ticker.advance(Duration.ofMinutes(2));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("limits"))) {
            c.replyLine();
            c.command("EHLO busy.example");
            c.command("MAIL FROM:<a@busy.example>");
            for (int i = 0; i < 3; i++) {
                assertThat(c.command("RCPT TO:<r" + i + "@example.test>")).containsExactly("250 2.1.5 fake ok");
            }
            assertThat(c.command("RCPT TO:<r3@example.test>")).containsExactly("452 4.5.3 Error: too many recipients");
            c.command("RSET");
            assertThat(c.command("MAIL FROM:<a@busy.example>")).containsExactly("250 2.1.0 Ok");
            c.command("RSET");
            assertThat(c.command("MAIL FROM:<a@busy.example>"))
                    .containsExactly("421 4.7.0 mx.test Error: too many messages in one connection");
            assertThat(c.closedByServer()).isTrue();
        }
        server.awaitNoSessions();
        server.ticker.advance(Duration.ofMinutes(2));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("limits"))) {
            c.replyLine();
            // errors-per-session: 4 (the 452 above was one in its own session)
            for (int i = 0; i < 3; i++) {
                assertThat(c.command("BOGUS")).containsExactly("500 5.5.2 Error: command not recognized");
            }
            assertThat(c.command("BOGUS")).containsExactly("500 5.5.2 Error: command not recognized");
            assertThat(c.replyLine()).isEqualTo("421 4.7.0 mx.test Error: too many errors");
            assertThat(c.closedByServer()).isTrue();
        }
    }
}
