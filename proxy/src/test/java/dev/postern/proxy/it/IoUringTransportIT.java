package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.TransportKind;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.NginxAuthService;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import io.netty.channel.uring.IoUring;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Postern on {@code transport: io_uring} in front of the real Dovecot and Postfix, driven by Python's mail clients:
 * IMAP over implicit TLS and STARTTLS, POP3 with an auth_http provider, a submission that Postfix delivers, a
 * message of a few MiB each way through a slow reader, health checks and the admin API, all on io_uring loops.
 * Skipped where the host has no io_uring (the kernel's {@code io_uring_disabled}, a seccomp filter): Postern then
 * runs epoll, which every other IT covers.
 */
class IoUringTransportIT {
    private static final Duration RUN = Duration.ofSeconds(90);

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static NginxAuthService authService;
    static Path caFile;
    static final Counting metrics = new Counting();

    /** Counts what the tests check: session connects to backends per pool, and backends going down. */
    static final class Counting implements Metrics {
        final Map<String, AtomicInteger> connects = new ConcurrentHashMap<>();
        final Map<String, Boolean> health = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> checkFailures = new ConcurrentHashMap<>();

        @Override
        public void backendConnect(String pool, String backend, boolean ok, long nanos) {
            if (ok) {
                connects.computeIfAbsent(pool, p -> new AtomicInteger()).incrementAndGet();
            }
        }

        @Override
        public void backendHealth(String pool, String backend, boolean healthy) {
            health.put(pool + "/" + backend, healthy);
        }

        @Override
        public void backendCheckFailed(String pool, String backend, String reason) {
            checkFailures
                    .computeIfAbsent(pool + "/" + backend, b -> new AtomicInteger())
                    .incrementAndGet();
        }

        /** Session connects to backends, over every pool (an auth answer's server has a pool label of its own). */
        int connects() {
            return connects.values().stream().mapToInt(AtomicInteger::get).sum();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(
                IoUring.isAvailable(),
                () -> "io_uring is not available on this host (" + IoUring.unavailabilityCause()
                        + "): transport: io_uring falls back to epoll here, which the other ITs cover");
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        authService = NginxAuthService.start(Duration.ZERO)
                .user(DevBackends.ALICE, DevBackends.ALICE_PASSWORD)
                .route("127.0.0.1", DevBackends.POP3);
        postern = PosternHarness.start(
                """
                transport: io_uring
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: imap}
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", tls: starttls, pool: imap}
                  - {name: pop3s, protocol: pop3, bind: "127.0.0.1:%d", tls: implicit, pool: pop3, auth: [directory]}
                  - {name: submission, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: submission}
                  - {name: to-imaps, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: imaps}
                  - {name: to-proxy, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: proxied}
                  - name: behind-balancer
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    allow-plaintext-auth: true
                    pool: imap
                    proxy-protocol: {mode: required, trusted: [127.0.0.0/8]}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                auth:
                  providers:
                    - {name: directory, type: http, url: "%s", timeout: 5s}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: submission, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: imaps, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false}]}
                  - {name: proxied, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                  - name: checked
                    health-check: {interval: 200ms, timeout: 2s, fall: 1, rise: 1}
                    backends:
                      - {id: live, address: "127.0.0.1:%d"}
                      - {id: dead, address: "127.0.0.1:%d"}
                admin:
                  bind: "127.0.0.1:%d"
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                authService.url(),
                                DevBackends.IMAP,
                                DevBackends.POP3,
                                DevBackends.SUBMISSION,
                                DevBackends.IMAPS,
                                DevBackends.IMAP_PROXY,
                                DevBackends.IMAP,
                                FreePorts.closed(),
                                FreePorts.next()),
                dir,
                metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
        if (authService != null) {
            authService.close();
        }
    }

    /** Python prelude: {@code ctx} trusts only the test CA; {@code port} is the first argument. */
    private static final String PY =
            """
            import hashlib, imaplib, poplib, smtplib, socket, ssl, sys, time
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            port = int(sys.argv[2])
            def lines(resp):
                return " ".join(x.decode() if isinstance(x, bytes) else str(x) for x in resp)
            """;

    private static final String ALICE_READS_HER_INBOX =
            """
            print("login", m.login("alice@example.test", "alice-pw")[0])
            print("select", m.select("INBOX")[0])
            typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            print("fetch", typ, data[0][1].decode().strip())
            print("logout", m.logout()[0])
            """;

    private static Processes.Result python(String script, Object... args) {
        String[] a = new String[args.length + 1];
        a[0] = caFile.toString();
        for (int i = 0; i < args.length; i++) {
            a[i + 1] = String.valueOf(args[i]);
        }
        return Processes.python(RUN, PY + script, a);
    }

    /** Runs {@code session} and checks it opened exactly one backend connection. */
    private static Processes.Result oneBackendConnection(Supplier<Processes.Result> session) {
        int before = metrics.connects();
        Processes.Result r = session.get();
        assertThat(r.exitCode()).as("%s", r).isZero();
        postern.awaitNoSessions();
        assertThat(metrics.connects() - before)
                .as("backend connections (%s)", metrics.connects)
                .isEqualTo(1);
        return r;
    }

    @Test
    void posternRunsOnIoUring() {
        assertThat(postern.postern().services().transport().kind()).isEqualTo(TransportKind.IO_URING);
        assertThat(postern.postern().services().transport().description()).startsWith("io_uring, ");
    }

    @Test
    void imapOverImplicitTlsLogsInSelectsAndFetches() {
        Processes.Result r = oneBackendConnection(() -> python(
                """
                m = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx)
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("imaps")));
        assertThat(r.stdout()).contains("login OK", "select OK", "fetch OK Subject: Welcome alice 1", "logout BYE");
    }

    @Test
    void imapOverStartTlsLogsInSelectsAndFetches() {
        Processes.Result r = oneBackendConnection(() -> python(
                """
                m = imaplib.IMAP4("localhost", port)
                print("starttls", m.starttls(ssl_context=ctx)[0])
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("imap")));
        assertThat(r.stdout())
                .contains("starttls OK", "login OK", "select OK", "fetch OK Subject: Welcome alice 1", "logout BYE");
    }

    @Test
    void imapToABackendOverImplicitTlsAndToOneThatWantsAProxyHeader() {
        for (String listener : new String[] {"to-imaps", "to-proxy"}) {
            Processes.Result r = oneBackendConnection(() -> python(
                    """
                    m = imaplib.IMAP4("127.0.0.1", port)
                    """
                            + ALICE_READS_HER_INBOX,
                    postern.port(listener)));
            assertThat(r.stdout())
                    .as(listener)
                    .contains("login OK", "select OK", "fetch OK Subject: Welcome alice 1", "logout BYE");
        }
    }

    @Test
    void imapBehindABalancerThatSendsAProxyHeader() {
        Processes.Result r = oneBackendConnection(() -> python(
                """
                class Proxied(imaplib.IMAP4):
                    def _create_socket(self, timeout):
                        s = socket.create_connection(("127.0.0.1", self.port), 30)
                        s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 143\\r\\n")
                        return s
                m = Proxied("127.0.0.1", port)
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("behind-balancer")));
        assertThat(r.stdout()).contains("login OK", "select OK", "fetch OK Subject: Welcome alice 1", "logout BYE");
    }

    @Test
    void pop3RetrievesAMessageAfterTheAuthServiceSaidYes() {
        int calls = authService.calls();
        Processes.Result r = oneBackendConnection(() -> python(
                """
                p = poplib.POP3_SSL("localhost", port, context=ctx)
                p.user("alice@example.test")
                print("pass", p.pass_("alice-pw").decode())
                print("retr", b"\\n".join(p.retr(1)[1]).decode())
                print("quit", p.quit().decode())
                """,
                postern.port("pop3s")));
        assertThat(r.stdout()).contains("pass +OK", "Subject: Welcome alice 1", "quit +OK");
        assertThat(authService.calls() - calls).as("auth_http calls").isEqualTo(1);
    }

    @Test
    void aSubmissionOverStartTlsReachesTheBackendAndIsDelivered() {
        String subject = "postern-iouring-" + UUID.randomUUID();
        Processes.Result r = oneBackendConnection(() -> python(
                """
                s = smtplib.SMTP("localhost", port, timeout=30)
                s.ehlo("client.example")
                s.starttls(context=ctx)
                s.ehlo("client.example")
                print("auth", s.login("alice@example.test", "alice-pw")[0])
                body = "From: alice@example.test\\r\\nTo: bob@example.test\\r\\nSubject: " + sys.argv[3] + "\\r\\n\\r\\nhi\\r\\n"
                print("sent", s.sendmail("alice@example.test", ["bob@example.test"], body))
                print("quit", s.quit()[0])
                """,
                postern.port("submission"),
                subject));
        assertThat(r.stdout()).contains("auth 235", "sent {}", "quit 221");
        Await.until(
                "message '" + subject + "' in bob's INBOX",
                Duration.ofSeconds(60),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    @Test
    void aMessageOfFourMibGoesUpAndComesBackIntactThroughASlowReader() {
        // APPEND sends 4 MiB client to backend; the FETCH brings them back to a client with a small receive buffer
        // that pauses before reading: Postern must stop reading Dovecot while the client lags, and lose nothing
        Processes.Result r = oneBackendConnection(() -> python(
                """
                import base64, random
                class Slow(imaplib.IMAP4_SSL):
                    paused = False
                    def _create_socket(self, timeout):
                        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
                        raw.settimeout(30)
                        raw.connect(("127.0.0.1", self.port))
                        return self.ssl_context.wrap_socket(raw, server_hostname="localhost")
                    def read(self, size):
                        if size > 1000000 and not self.paused:
                            self.paused = True
                            time.sleep(1.5)  # the slow reader itself, not a wait for an event
                        return super().read(size)
                rnd = random.Random(14)
                raw = base64.b64encode(rnd.randbytes(3 * 1024 * 1024))  # 4 MiB of text
                body = b"\\r\\n".join(raw[i:i + 76] for i in range(0, len(raw), 76)) + b"\\r\\n"
                message = b"From: alice@example.test\\r\\nSubject: big\\r\\n\\r\\n" + body
                box = sys.argv[3]
                m = Slow("localhost", port, ssl_context=ctx)
                m.login("alice@example.test", "alice-pw")
                print("create", m.create(box)[0])
                print("append", m.append(box, None, None, message)[0])
                m.select(box)
                typ, data = m.fetch("1", "(BODY.PEEK[])")
                got = data[0][1]
                print("fetch", typ, len(got), "of", len(message))
                print("intact", hashlib.sha256(got).hexdigest() == hashlib.sha256(message).hexdigest())
                m.close()
                print("delete", m.delete(box)[0])
                m.logout()
                """,
                postern.port("imaps"),
                "iouring-" + UUID.randomUUID()));
        assertThat(r.stdout()).contains("create OK", "append OK", "intact True", "delete OK");
        assertThat(r.stdout()).containsPattern("fetch OK (\\d+) of \\1");
    }

    @Test
    void healthChecksOnIoUringTellADeadBackendFromALiveOne() {
        Await.until(
                "the dead backend is down",
                Duration.ofSeconds(20),
                () -> Boolean.FALSE.equals(metrics.health.get("checked/dead")));
        assertThat(metrics.checkFailures.get("checked/live"))
                .as("failed checks of the live backend")
                .isNull();
        assertThat(metrics.health.get("checked/live")).isNotEqualTo(Boolean.FALSE);
    }

    @Test
    void theAdminApiAnswersOnIoUring() {
        int port = postern.postern().adminAddress().orElseThrow().getPort();
        AdminHttp admin = new AdminHttp(port, null);

        assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);
        assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
    }
}
