package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.HaProxy;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real HAProxy ({@code mode tcp}, {@code send-proxy-v2} and {@code send-proxy}) in front of Postern's IMAPS and
 * IMAP listeners ({@code proxy-protocol: required}, trusting 127.0.0.0/8) in front of the real Dovecot. A client
 * connecting to HAProxy from 127.0.0.2 is 127.0.0.2 in Postern's admin API and session line, and to Dovecot (IMAP ID
 * x-originating-ip, and PROXY v2 from Postern). A header from an address the listener does not trust is refused
 * without a greeting.
 */
class ProxyProtocolIT {
    private static final String TOKEN = "proxy-it-read-only-token-0123456";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static PosternHarness postern;
    static HaProxy haproxy;
    static Path caFile;
    static int adminPort;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        ca.issue(TestCertificates.KeyType.EC_P256, "mail.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        adminPort = FreePorts.next();
        postern = PosternHarness.start(
                """
                listeners:
                  - name: imaps
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: implicit
                    pool: id
                    proxy-protocol: {mode: required, trusted: [127.0.0.0/8], timeout: 5s}
                  - name: imap
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: starttls
                    pool: proxy
                    proxy-protocol: {mode: required, trusted: [127.0.0.0/8]}
                  - name: elsewhere
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    pool: id
                    proxy-protocol: {mode: required, trusted: [10.0.0.0/8]}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                pools:
                  - {name: id, backends: [{address: "127.0.0.1:%d", identity: id}]}
                  - {name: proxy, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                admin:
                  bind: "127.0.0.1:%d"
                  tokens:
                    - {name: viewer, token: "%s", access: read-only}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                DevBackends.IMAP,
                                DevBackends.IMAP_PROXY,
                                adminPort,
                                TOKEN),
                dir,
                PrometheusMetrics.create());
        haproxy = HaProxy.start(
                dir,
                List.of(
                        HaProxy.frontend("imaps", postern.port("imaps"), "send-proxy-v2"),
                        HaProxy.frontend("imap", postern.port("imap"), "send-proxy")));
        // HAProxy's readiness probes came through as sessions of their own
        postern.awaitNoSessions();
    }

    @AfterAll
    static void stop() {
        if (haproxy != null) {
            List<Long> pids = haproxy.pids();
            haproxy.close();
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                        .as("haproxy process %d is gone", pid)
                        .isFalse();
            }
        }
        if (postern != null) {
            postern.close();
        }
    }

    /** The part of Dovecot's log written after {@code before}. */
    private static String logSince(String before) {
        String now = DevBackends.dovecotLog();
        return now.length() >= before.length() ? now.substring(before.length()) : now;
    }

    /**
     * Python: connects to HAProxy's {@code port} from 127.0.0.2, logs alice in, reads her INBOX, and while still
     * logged in prints what the admin API lists as her sessions; {@code mode} is {@code imaps} or {@code starttls}.
     */
    private static final String CLIENT =
            """
            import imaplib, json, socket, ssl, sys, urllib.request
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            port, admin, token, mode = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
            def connect(timeout):
                return socket.create_connection(("127.0.0.1", port), timeout or 30, source_address=("127.0.0.2", 0))
            class Imaps(imaplib.IMAP4_SSL):
                def _create_socket(self, timeout):
                    return self.ssl_context.wrap_socket(connect(timeout), server_hostname="localhost")
            class Imap(imaplib.IMAP4):
                def _create_socket(self, timeout):
                    return connect(timeout)
            if mode == "imaps":
                m = Imaps("localhost", port, ssl_context=ctx)
            else:
                m = Imap("localhost", port)
                print("starttls", m.starttls(ssl_context=ctx)[0])
            print("login", m.login("alice@example.test", "alice-pw")[0])
            print("select", m.select("INBOX")[0])
            req = urllib.request.Request(
                "http://127.0.0.1:%s/api/v1/sessions?user=alice@example.test" % admin,
                headers={"Authorization": "Bearer " + token})
            print("sessions " + json.dumps(json.load(urllib.request.urlopen(req, timeout=10))))
            print("logout", m.logout()[0])
            """;

    private static JsonNode aliceThroughHaProxy(String frontend, String mode) throws IOException {
        Processes.Result r = Processes.python(
                Duration.ofSeconds(60),
                CLIENT,
                caFile.toString(),
                String.valueOf(haproxy.port(frontend)),
                String.valueOf(adminPort),
                TOKEN,
                mode);
        assertThat(r.exitCode()).as(r + "\n--- haproxy\n" + haproxy.log()).isZero();
        assertThat(r.stdout()).contains("login OK").contains("select OK").contains("logout BYE");
        String sessions = r.stdout()
                .lines()
                .filter(l -> l.startsWith("sessions "))
                .findFirst()
                .orElseThrow()
                .substring("sessions ".length());
        return JSON.readTree(sessions);
    }

    @Test
    void aClientBehindHaProxyIsItselfToPosternAndToDovecot() throws Exception {
        String before = DevBackends.dovecotLog();
        JsonNode sessions = aliceThroughHaProxy("imaps", "imaps");

        assertThat(sessions.at("/count").asInt()).as(sessions.toString()).isEqualTo(1);
        JsonNode alice = sessions.at("/sessions/0");
        assertThat(alice.at("/listener").asText()).isEqualTo("imaps");
        assertThat(alice.at("/client").asText()).startsWith("127.0.0.2:");
        assertThat(alice.at("/tls").asText())
                .as("TLS is end to end: HAProxy only forwards")
                .startsWith("TLSv1.");

        // Dovecot trusts Postern (login_trusted_networks) and takes the client from Postern's IMAP ID
        Await.until("ID and login from 127.0.0.2 in dovecot.log", Duration.ofSeconds(10), () -> {
            String log = logSince(before);
            return log.contains("ID sent: x-originating-ip=127.0.0.2")
                    && log.lines()
                            .anyMatch(
                                    l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2"));
        });
        postern.awaitNoSessions();
    }

    @Test
    void aV1HeaderBeforeStartTlsWorksAndPosternPassesTheClientOnAsProxyV2() throws Exception {
        String before = DevBackends.dovecotLog();
        JsonNode sessions = aliceThroughHaProxy("imap", "starttls");

        assertThat(sessions.at("/sessions/0/listener").asText())
                .as(sessions.toString())
                .isEqualTo("imap");
        assertThat(sessions.at("/sessions/0/client").asText()).startsWith("127.0.0.2:");
        Await.until("login from 127.0.0.2 in dovecot.log", Duration.ofSeconds(10), () -> logSince(before)
                .lines()
                .anyMatch(l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2")));
        postern.awaitNoSessions();
    }

    @Test
    void aHeaderFromAnAddressTheListenerDoesNotTrustIsRefusedWithoutAGreeting() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), postern.port("elsewhere"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] got;
            try {
                out.write("PROXY TCP4 203.0.113.7 127.0.0.1 51000 143\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                got = in.readAllBytes();
            } catch (SocketException e) {
                // refused at accept, before the header arrived: the kernel answers the late bytes with a reset
                assertThat(e.getMessage()).containsIgnoringCase("reset");
                got = new byte[0];
            }
            assertThat(new String(got, StandardCharsets.US_ASCII))
                    .as("no greeting")
                    .isEmpty();
        }
        postern.awaitNoSessions();
        HttpResponse<String> metrics = new AdminHttp(adminPort, TOKEN).get("/metrics");
        assertThat(metrics.body())
                .containsPattern("postern_connections_refused_total\\{listener=\"elsewhere\",protocol=\"imap\","
                        + "reason=\"proxy-untrusted\"} 1");
    }
}
