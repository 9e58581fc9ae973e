package dev.postern.proxy.smtp.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.testkit.SmtpTestClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edge as a node of a cluster, with the cluster's memory of passed clients in the test's hands: a client another
 * node passed skips what is left of the tests, a pass here is shared, and a memory that does not answer never delays
 * a client that passes, and delays one the lists refuse only briefly.
 */
class EdgeSharedPassTest {
    @TempDir
    static Path dir;

    static FakeRelayBackend backend;
    static RelayTestServer server;
    static final EdgeZombieTest.Lists lists = new EdgeZombieTest.Lists();
    static final Memory memory = new Memory();

    /** The cluster's memory: what other nodes passed, what this one told it, or no answer at all. */
    static final class Memory implements SharedPassedClients {
        final Map<String, Duration> passed = new ConcurrentHashMap<>();
        final List<String> added = new CopyOnWriteArrayList<>();
        final List<String> asked = new CopyOnWriteArrayList<>();
        volatile boolean silent;

        @Override
        public CompletionStage<Duration> remaining(String listener, InetAddress client) {
            asked.add(listener + " " + client.getHostAddress());
            return silent
                    ? new CompletableFuture<>()
                    : CompletableFuture.completedFuture(
                            passed.getOrDefault(listener + " " + client.getHostAddress(), Duration.ZERO));
        }

        @Override
        public void add(String listener, InetAddress client, Duration ttl) {
            added.add(listener + " " + client.getHostAddress() + " " + ttl);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        backend = new FakeRelayBackend();
        String relay = "role: relay, hostname: mx.test, local-domains: [example.test]";
        String dnsbl = "dnsbl: {sites: [zen.dnsbl.test*2], threshold: 2, timeout: 300ms}";
        String yaml =
                """
                listeners:
                  - {name: pregreet, protocol: smtp, bind: "127.0.0.1:0", pool: fake,
                     smtp: {%1$s, pregreet: {banner: "mx.test ESMTP wait", wait: 2s}, %2$s, passed-cache: 1h}}
                  - {name: drop, protocol: smtp, bind: "127.0.0.1:0", pool: fake, smtp: {%1$s, %2$s}}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%3$d"}]}
                """
                        .formatted(relay, dnsbl, backend.port());
        server = RelayTestServer.start(yaml, dir, lists, SenderPolicy.NONE, memory);
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
        memory.passed.clear();
        memory.added.clear();
        memory.asked.clear();
        memory.silent = false;
        // every test starts with clients forgotten by this node
        server.ticker.advance(Duration.ofHours(2));
    }

    @AfterEach
    void everySessionEnds() {
        server.awaitNoSessions();
    }

    private static long millisSince(long start) {
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }

    @Test
    void aClientAnotherNodePassedSkipsTheRestOfTheWaitAndIsThenRememberedHere() {
        memory.passed.put("pregreet 127.0.0.1", Duration.ofMinutes(30));
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).containsExactly("220-mx.test ESMTP wait", "220 mx.test ESMTP Postern");
            assertThat(millisSince(start)).as("not the 2 s wait").isLessThan(1500);
            c.command("QUIT");
        }
        server.awaitNoSessions();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("pregreet"))) {
            assertThat(c.reply()).as("remembered here now").containsExactly("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
        assertThat(memory.asked)
                .as("asked once: the second time this node knew")
                .hasSize(1);
        assertThat(memory.added).as("not written back").isEmpty();
    }

    @Test
    void whatAnotherNodePassedIsRememberedHereOnlyForWhatIsLeftOfItsPeriod() {
        memory.passed.put("drop 127.0.0.1", Duration.ofMinutes(5));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
        server.awaitNoSessions();
        server.ticker.advance(Duration.ofMinutes(6));
        memory.passed.clear();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            c.replyLine();
            c.command("QUIT");
        }

        assertThat(memory.asked).as("forgotten here after the 5 minutes left").hasSize(2);
    }

    @Test
    void aPassHereIsToldToTheClusterWithTheListenersPeriod() {
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }

        assertThat(memory.added).containsExactly("drop 127.0.0.1 PT1H");
    }

    @Test
    void aMemoryThatDoesNotAnswerNeverDelaysAClientThatPasses() {
        memory.silent = true;
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            assertThat(millisSince(start))
                    .as("the lists answered at once; the memory is not waited for")
                    .isLessThan(EdgeGreeting.SHARED_LOOKUP_WAIT.toMillis());
            c.command("QUIT");
        }
        assertThat(memory.added).hasSize(1);
    }

    @Test
    void aClientTheListsRefuseIsGreetedWhenAnotherNodePassedIt() {
        lists.verdict = new ClientReputation.Verdict(2, List.of("zen.dnsbl.test"), List.of());
        memory.passed.put("drop 127.0.0.1", Duration.ofMinutes(30));
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.replyLine()).isEqualTo("220 mx.test ESMTP Postern");
            c.command("QUIT");
        }
    }

    @Test
    void aClientTheListsRefuseWaitsForASilentMemoryOnlyBriefly() {
        lists.verdict = new ClientReputation.Verdict(2, List.of("zen.dnsbl.test"), List.of());
        memory.silent = true;
        long start = System.nanoTime();
        try (SmtpTestClient c = SmtpTestClient.connect(server.port("drop"))) {
            assertThat(c.readLine())
                    .isEqualTo("521 5.7.1 Service unavailable; client [127.0.0.1] blocked using zen.dnsbl.test");
            assertThat(millisSince(start))
                    .isGreaterThanOrEqualTo(EdgeGreeting.SHARED_LOOKUP_WAIT.toMillis() - 20)
                    .isLessThan(EdgeGreeting.SHARED_LOOKUP_WAIT.toMillis() + 1000);
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(memory.added).isEmpty();
    }
}
