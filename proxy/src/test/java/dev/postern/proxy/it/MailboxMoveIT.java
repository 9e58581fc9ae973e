package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
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
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mailbox moved between two real Dovecot instances of one pool while a client logs in in a loop: no login fails,
 * none that starts after the move returned lands on the old backend, and logins held by a hold wait and then go to the
 * new backend. The figures go to {@code target/mailbox-move.txt}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MailboxMoveIT {
    private static final String TOKEN = "move-it-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = DevBackends.ALICE;
    private static final List<String> FIGURES = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static AdminHttp admin;

    /** One login of the loop: when it started and ended (ns), the tagged reply, and the backend its session reached. */
    record Login(long start, long end, String reply, String backend) {
        double millis() {
            return (end - start) / 1e6;
        }
    }

    @BeforeAll
    static void start() {
        DevBackends.ensureStarted();
        DevBackends.Instance second = DevBackends.second().ensureStarted();
        int adminPort = FreePorts.next();
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: pair}
                pools:
                  - name: pair
                    balancer: consistent-hash
                    backends:
                      - {id: old, address: "127.0.0.1:%d"}
                      - {id: new, address: "127.0.0.1:%d"}
                routing:
                  hold-timeout: 3s
                admin:
                  bind: "127.0.0.1:%d"
                  tokens: [{name: test, token: "%s", access: read-write}]
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP, second.port(DevBackends.IMAP), adminPort, TOKEN),
                dir,
                PrometheusMetrics.create());
        admin = new AdminHttp(adminPort, TOKEN);
    }

    @AfterAll
    static void stop() throws IOException {
        if (postern != null) {
            postern.close();
        }
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target", "mailbox-move.txt"), FIGURES);
    }

    private static JsonNode json(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode move(String to) {
        return json(admin.post("/api/v1/routes/users/" + USER + "/move", "{\"to\": \"" + to + "\"}"), 200);
    }

    /** One login through Postern with a real IMAP dialogue; the backend comes from the session of this connection. */
    private static Login login() {
        long start = System.nanoTime();
        try (ImapTestClient c = ImapTestClient.connect(postern.port("imap"))) {
            String reply = c.login(USER, DevBackends.ALICE_PASSWORD);
            long end = System.nanoTime();
            String backend = null;
            if (reply.startsWith("OK")) {
                int port = c.localPort();
                backend = postern
                        .postern()
                        .services()
                        .sessions()
                        .find(s ->
                                s.clientAddress() != null && s.clientAddress().getPort() == port)
                        .stream()
                        .map(Session::backendId)
                        .findFirst()
                        .orElse("(closed)");
                assertThat(c.command("SELECT INBOX"))
                        .as("SELECT on %s", backend)
                        .startsWith("OK");
            }
            return new Login(start, end, reply, backend);
        }
    }

    private static boolean liveOn(String backend) {
        return !postern.postern()
                .services()
                .sessions()
                .find(s -> USER.equals(s.user()) && backend.equals(s.backendId()) && !s.isClosing())
                .isEmpty();
    }

    @Test
    @Order(1)
    void aUserMovedWhileLoggingInInALoopNeverLandsOnTheOldBackendAfterTheMove() throws Exception {
        move("pair/old");
        assertThat(login().backend()).isEqualTo("old");
        // a session that stays open on the old backend: the move must end it
        ImapTestClient idle = ImapTestClient.connect(postern.port("imap"));
        assertThat(idle.login(USER, DevBackends.ALICE_PASSWORD)).startsWith("OK");

        List<Login> logins = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService loop = Executors.newSingleThreadExecutor();
        Future<?> looping = loop.submit(() -> {
            while (running.get()) {
                logins.add(login());
            }
        });
        Await.until("20 logins before the move", Duration.ofSeconds(30), () -> logins.size() >= 20);
        long moveStart = System.nanoTime();
        JsonNode moved = move("pair/new");
        long moveReturned = System.nanoTime();
        int before = logins.size();
        Await.until("20 logins after the move", Duration.ofSeconds(30), () -> logins.size() >= before + 20);
        running.set(false);
        looping.get(30, TimeUnit.SECONDS);
        loop.shutdown();

        assertThat(logins).allSatisfy(l -> assertThat(l.reply()).startsWith("OK"));
        List<Login> after =
                logins.stream().filter(l -> l.start() > moveReturned).toList();
        assertThat(after).hasSizeGreaterThanOrEqualTo(19);
        assertThat(after).allSatisfy(l -> assertThat(l.backend()).isEqualTo("new"));
        assertThat(logins.stream().filter(l -> l.end() < moveStart))
                .allSatisfy(l -> assertThat(l.backend()).isEqualTo("old"));
        assertThat(moved.get("sessions-ended").asInt()).isGreaterThanOrEqualTo(1);
        Await.until("the idle session on the old backend is closed", Duration.ofSeconds(5), idle::closedByServer);
        assertThat(liveOn("old")).isFalse();
        idle.close();

        List<Login> during = logins.stream()
                .filter(l -> l.end() > moveStart && l.start() < moveReturned)
                .toList();
        FIGURES.add("move in a login loop: " + logins.size() + " logins, 0 failed; " + after.size()
                + " started after the move returned, all on the new backend");
        FIGURES.add("  move answer: took-ms=" + moved.get("took-ms") + " steps-ms=" + moved.get("steps-ms")
                + " sessions-ended=" + moved.get("sessions-ended") + " held-logins=" + moved.get("held-logins"));
        FIGURES.add("  login time: median " + fmt(median(logins)) + " ms, max " + fmt(max(logins))
                + " ms; logins overlapping the move: " + during.size() + " (max " + fmt(max(during)) + " ms)");
    }

    @Test
    @Order(2)
    void loginsHeldDuringAMigrationWaitAndThenGoToTheNewBackend() throws Exception {
        JsonNode hold = json(admin.post("/api/v1/holds", "{\"user\": \"" + USER + "\", \"timeout\": \"1m\"}"), 201);
        assertThat(hold.get("user").asText()).isEqualTo(USER);
        int n = 5;
        ExecutorService clients = Executors.newFixedThreadPool(n);
        List<Future<Login>> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            held.add(clients.submit(MailboxMoveIT::login));
        }
        Await.until("5 logins held", Duration.ofSeconds(10), () -> waiting() == n);
        long moveStart = System.nanoTime();
        JsonNode moved = move("pair/old");
        List<Login> done = new ArrayList<>();
        for (Future<Login> f : held) {
            done.add(f.get(30, TimeUnit.SECONDS));
        }
        clients.shutdown();

        assertThat(moved.get("held-logins").asInt()).isEqualTo(n);
        assertThat(done).allSatisfy(l -> {
            assertThat(l.reply()).startsWith("OK");
            assertThat(l.backend()).isEqualTo("old");
            assertThat(l.end()).isGreaterThan(moveStart);
        });
        assertThat(json(admin.get("/api/v1/holds"), 200).get("holds")).isEmpty();
        String metrics = admin.send("GET", "/metrics", null, null, false).body();
        double count = metric(metrics, "postern_hold_wait_duration_seconds_count{outcome=\"released\"}");
        double sum = metric(metrics, "postern_hold_wait_duration_seconds_sum{outcome=\"released\"}");
        assertThat(count).isGreaterThanOrEqualTo(n);
        FIGURES.add("held logins: " + n + " logins held until the move, all OK on the new backend; client-side login"
                + " time median " + fmt(median(done)) + " ms, max " + fmt(max(done)) + " ms; move took-ms="
                + moved.get("took-ms"));
        FIGURES.add("  postern_hold_wait_duration_seconds{outcome=released}: count " + (long) count + ", mean "
                + fmt(sum / count * 1000) + " ms");
    }

    @Test
    @Order(3)
    void aLoginHeldPastTheHoldTimeoutGetsATemporaryFailure() {
        json(admin.post("/api/v1/holds", "{\"user\": \"" + USER + "\"}"), 201);
        try {
            Login l = login();

            assertThat(l.reply()).startsWith("NO [UNAVAILABLE]");
            assertThat(l.millis()).isGreaterThanOrEqualTo(3000);
            FIGURES.add("hold-timeout 3s: the held login got '" + l.reply() + "' after " + fmt(l.millis()) + " ms");
        } finally {
            json(admin.delete("/api/v1/holds/" + USER), 200);
        }
        assertThat(login().reply()).startsWith("OK");
    }

    private static int waiting() {
        int w = 0;
        for (JsonNode h : json(admin.get("/api/v1/holds"), 200).get("holds")) {
            w += h.get("waiting").asInt();
        }
        return w;
    }

    private static double metric(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE)
                .matcher(text);
        assertThat(m.find()).as("%s in /metrics", series).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static double median(List<Login> logins) {
        List<Double> ms = logins.stream().map(Login::millis).sorted().toList();
        return ms.isEmpty() ? 0 : ms.get(ms.size() / 2);
    }

    private static double max(List<Login> logins) {
        return logins.stream().mapToDouble(Login::millis).max().orElse(0);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
