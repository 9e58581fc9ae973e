package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.postern.admin.ConfigReloadResult;
import dev.postern.config.ConfigLoader;
import dev.postern.proxy.Postern;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.testing.AdminHttp;
import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestCertificates;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full reload against the real Dovecot: {@code kill -HUP} to a Postern process adds and removes listeners while an
 * IMAP IDLE session (Python's imaplib) stays open and still works after; a broken file keeps everything as it was and
 * says why (log and API); a throttle limit changed applies to the next failure; a certificate file replaced is served
 * to the next connection.
 */
class ConfigReloadIT {
    private static final Duration SOON = Duration.ofSeconds(30);
    private static final String TOKEN = "reload-it-read-write-token-0123";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
    private static final String THROTTLED = "NO [UNAVAILABLE] Service temporarily unavailable, try again later";

    /** Logs in, selects INBOX, IDLEs until a line arrives on stdin, then ends the IDLE and uses the session. */
    private static final String IDLE_CLIENT =
            """
            import imaplib, sys
            m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
            m.login("alice@example.test", "alice-pw")
            m.select("INBOX")
            tag = m._new_tag().decode()
            m.send(("%s IDLE\\r\\n" % tag).encode())
            print("IDLING", m.readline().decode().strip(), flush=True)
            sys.stdin.readline()
            m.send(b"DONE\\r\\n")
            while True:
                line = m.readline().decode()
                if line.startswith(tag):
                    print("IDLE-END", line.strip(), flush=True)
                    break
            print("NOOP", m.noop()[0], flush=True)
            print("SELECT", m.select("INBOX")[0], flush=True)
            m.logout()
            print("BYE", flush=True)
            """;

    private static final String LOGIN_CLIENT =
            """
            import imaplib, sys
            m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
            m.login("alice@example.test", "alice-pw")
            print(m.select("INBOX")[0])
            m.logout()
            """;

    @TempDir
    Path dir;

    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private Postern postern;

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (postern != null) {
            postern.close();
        }
    }

    private static Path jar() {
        Path jar = DevBackends.repoRoot().resolve("proxy/target/postern.jar");
        assertThat(jar).as("the runnable jar is built by 'mvn package'").exists();
        return jar;
    }

    /** Starts {@code command}, collecting its output lines (stdout and stderr together). */
    private Process start(List<String> output, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(p);
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    private static void awaitLine(List<String> output, String what, String... parts) {
        Await.until(what, SOON, () -> output.stream()
                .anyMatch(l -> List.of(parts).stream().allMatch(l::contains)));
    }

    private static void sighup(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static boolean refuses(int port) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void logsIn(int port) {
        Processes.Result r = Processes.python(Duration.ofSeconds(30), LOGIN_CLIENT, Integer.toString(port));
        assertThat(r.exitCode()).as("login on %d: %s", port, r).isZero();
        assertThat(r.stdout()).contains("OK");
    }

    private static String imapListener(String name, int port) {
        return "  - {name: %s, protocol: imap, bind: \"127.0.0.1:%d\", allow-plaintext-auth: true, pool: dovecot}\n"
                .formatted(name, port);
    }

    private static String rest(int adminPort) {
        return """
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                admin:
                  bind: "127.0.0.1:%d"
                  tokens: [{name: ops, token: "%s", access: read-write}]
                """
                .formatted(DevBackends.IMAP, adminPort, TOKEN);
    }

    @Test
    void sighupAddsAndRemovesListenersWhileAnIdleSessionGoesOnAndABrokenFileChangesNothing() throws Exception {
        DevBackends.ensureStarted();
        int a = FreePorts.next();
        int b = FreePorts.next();
        int c = FreePorts.next();
        int adminPort = FreePorts.next();
        Path config = Files.writeString(
                dir.resolve("postern.yaml"),
                "listeners:\n" + imapListener("imap-a", a) + imapListener("imap-b", b) + rest(adminPort));
        List<String> log = new CopyOnWriteArrayList<>();
        Process p = start(log, "java", "-jar", jar().toString(), "--config", config.toString());
        awaitLine(log, "Postern listening on imap-b", "listening: imap-b imap on 127.0.0.1:" + b);

        List<String> idle = new CopyOnWriteArrayList<>();
        Process client = start(idle, "python3", "-c", IDLE_CLIENT, Integer.toString(a));
        awaitLine(idle, "the client idling", "IDLING +");

        // a listener added, one removed: SIGHUP, as systemctl reload sends it
        Files.writeString(
                config, "listeners:\n" + imapListener("imap-a", a) + imapListener("imap-c", c) + rest(adminPort));
        sighup(p);
        awaitLine(log, "the reload applied", "reload of " + config, "added [imap-c]", "removed [imap-b]");
        logsIn(c);
        Await.until("imap-b refuses", SOON, () -> refuses(b));
        logsIn(a);

        // a broken file: every problem logged, nothing changed
        Files.writeString(
                config,
                "listeners:\n" + imapListener("imap-a", 70000) + "  - {name: imap-d, protocl: imap}\n"
                        + rest(adminPort));
        sighup(p);
        awaitLine(log, "the reload refused", "reload of " + config + " refused");
        // each problem is a line of its own after the refusal's: wait for them as the process writes them
        awaitLine(log, "the bad port logged", "listeners[0].bind: 70000 is not a port (1-65535)");
        awaitLine(log, "the unknown key logged", "listeners[1].protocl: unknown key");
        HttpResponse<String> api = new AdminHttp(adminPort, TOKEN).post("/api/v1/config/reload", null);
        assertThat(api.statusCode()).as(api.body()).isEqualTo(422);
        JsonNode problem = JSON.readTree(api.body());
        assertThat(problem.path("type").asText()).isEqualTo("urn:postern:problem:config-invalid");
        assertThat(problem.path("problems").findValuesAsText("path"))
                .contains("listeners[0].bind", "listeners[1].protocl");
        logsIn(a);
        logsIn(c);
        assertThat(refuses(b)).isTrue();

        // the session that started before both reloads is still there and works
        assertThat(client.isAlive()).as("the IDLE client: %s", idle).isTrue();
        OutputStream stdin = client.getOutputStream();
        stdin.write('\n');
        stdin.flush();
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).as(String.join("\n", idle)).isZero();
        assertThat(idle).anyMatch(l -> l.startsWith("IDLE-END") && l.contains(" OK"));
        assertThat(idle).contains("NOOP OK", "SELECT OK", "BYE");
    }

    private Path writeConfig(String yaml) throws IOException {
        return Files.writeString(dir.resolve("postern.yaml"), yaml);
    }

    private static String login(int port, String user, String password) {
        try (ImapTestClient c = ImapTestClient.connect(port)) {
            c.greeting();
            return c.login(user, password);
        }
    }

    @Test
    void aThrottleLimitChangedTakesEffectForTheNextFailure() throws Exception {
        DevBackends.ensureStarted();
        TestUsers.write(dir);
        int adminPort = FreePorts.next();
        String yaml = TestUsers.AUTH_SECTION
                + """
                  throttle:
                    max-failures-per-user-address: 3
                    max-failures-per-user: 100
                    max-failures-per-address: 100
                    delays: [100ms]
                listeners:
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot,
                     auth: [local]}
                """
                        .formatted(FreePorts.next())
                + rest(adminPort);
        Path config = writeConfig(yaml);
        postern = Postern.start(ConfigLoader.load(config), PrometheusMetrics.create());
        int imap = postern.address("imap").getPort();

        // two failures are under the limit of three: the right password still logs in
        assertThat(login(imap, DevBackends.ALICE, "guess-1")).isEqualTo(FAILED);
        assertThat(login(imap, DevBackends.ALICE, "guess-2")).isEqualTo(FAILED);
        assertThat(login(imap, DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).startsWith("OK");

        writeConfig(yaml.replace("max-failures-per-user-address: 3", "max-failures-per-user-address: 1"));
        HttpResponse<String> r = new AdminHttp(adminPort, TOKEN).post("/api/v1/config/reload", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode summary = JSON.readTree(r.body());
        assertThat(summary.path("settings-changed").toString()).isEqualTo("[\"throttle\"]");
        assertThat(summary.path("listeners").path("added")).isEmpty();

        // the next failure reaches the new limit: the pair is blocked, whatever the password
        assertThat(login(imap, DevBackends.ALICE, "guess-3")).isEqualTo(FAILED);
        assertThat(login(imap, DevBackends.ALICE, DevBackends.ALICE_PASSWORD)).isEqualTo(THROTTLED);
    }

    @Test
    void aClusterWideReloadHasEveryNodeReadItsOwnFile() throws Exception {
        DevBackends.ensureStarted();
        try (TestRedis redis = TestRedis.start()) {
            int adminPort = FreePorts.next();
            List<Path> files = new ArrayList<>();
            List<Postern> nodes = new ArrayList<>();
            try {
                for (String id : List.of("n1", "n2")) {
                    Path nodeDir = Files.createDirectories(dir.resolve(id));
                    String yaml = "listeners:\n" + imapListener("imap", FreePorts.next())
                            + """
                            pools:
                              - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                            routing: {store: redis, file: routes.json}
                            cluster:
                              addresses: ["127.0.0.1:%d"]
                              node-id: %s
                              command-timeout: 5s
                              check-interval: 200ms
                            """
                                    .formatted(DevBackends.IMAP, redis.port(), id)
                            + (id.equals("n1")
                                    ? "admin:\n  bind: \"127.0.0.1:%d\"\n  tokens: [{name: ops, token: \"%s\", access: read-write}]\n"
                                            .formatted(adminPort, TOKEN)
                                    : "");
                    Path file = Files.writeString(nodeDir.resolve("postern.yaml"), yaml);
                    files.add(file);
                    nodes.add(Postern.start(ConfigLoader.load(file), PrometheusMetrics.create()));
                }
                AdminHttp admin = new AdminHttp(adminPort, TOKEN);
                Await.until("both nodes seen", SOON, () -> admin.get("/api/v1/cluster/nodes")
                        .body()
                        .contains("\"n2\""));
                List<Integer> added = new ArrayList<>();
                for (Path file : files) {
                    int port = FreePorts.next();
                    added.add(port);
                    String yaml = Files.readString(file);
                    Files.writeString(
                            file, yaml.replace("listeners:\n", "listeners:\n" + imapListener("imap-new", port)));
                }

                HttpResponse<String> r = admin.post("/api/v1/config/reload?scope=cluster", null);

                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode j = JSON.readTree(r.body());
                assertThat(j.path("cluster").asText()).isEqualTo("complete");
                assertThat(j.path("nodes").findValuesAsText("node")).containsExactly("n1", "n2");
                assertThat(j.at("/nodes/1/listeners/added/0").asText()).isEqualTo("imap-new");
                for (int i = 0; i < 2; i++) {
                    assertThat(nodes.get(i).address("imap-new").getPort()).isEqualTo(added.get(i));
                    logsIn(added.get(i));
                }
            } finally {
                nodes.forEach(Postern::close);
            }
        }
    }

    private static SSLSocket tls(SSLContext context, int port) throws Exception {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("localhost")));
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static String subject(SSLSocket s) throws Exception {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                .getSubjectX500Principal()
                .getName();
    }

    @Test
    void aReplacedCertificateIsServedToNewConnectionsWhileLiveOnesKeepTheirs() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        SSLContext trust = ca.clientSslContext();
        ca.issue(TestCertificates.KeyType.EC_P256, "first.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        Path config = writeConfig(
                """
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot}
                tls:
                  certificates: [{name: mail, cert: mail-chain.pem, key: mail-key.pem}]
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), DevBackends.IMAP));
        postern = Postern.start(ConfigLoader.load(config), PrometheusMetrics.create());
        int port = postern.address("imaps").getPort();

        try (SSLSocket before = tls(trust, port)) {
            assertThat(subject(before)).contains("CN=first.example.test");
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(before.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("* OK");

            ca.issue(TestCertificates.KeyType.RSA_2048, "second.example.test", "localhost")
                    .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
            ConfigReloadResult result = postern.reload();

            assertThat(result).isInstanceOf(ConfigReloadResult.Applied.class);
            assertThat(((ConfigReloadResult.Applied) result).changed()).containsExactly("certificates");
            try (SSLSocket after = tls(trust, port)) {
                assertThat(subject(after)).contains("CN=second.example.test");
            }
            before.getOutputStream().write("a NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("a OK NOOP completed");
        }
    }
}
