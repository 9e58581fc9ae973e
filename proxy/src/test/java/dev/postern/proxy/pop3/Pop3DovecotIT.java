package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.Pop3TestClient;
import dev.postern.testkit.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Postern's POP3 front end between real clients (Python's poplib, curl, openssl s_client) and the real Dovecot of
 * {@code scripts/dev-backends.sh}: every listener mode, every way to reach the backend, identity forwarding and
 * master-user logins.
 */
class Pop3DovecotIT {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);

    private static Path dir;
    private static Path caFile;
    private static PosternHarness postern;

    /** Python helpers shared by the scripts: a poplib client that can bind its source address, and a CA context. */
    private static final String PY_PRELUDE =
            """
            import base64, poplib, socket, ssl, sys
            CA = sys.argv[1]
            PORT = int(sys.argv[2])
            def ctx():
                return ssl.create_default_context(cafile=CA)
            class Bound(poplib.POP3):
                source = None
                def _create_socket(self, timeout):
                    return socket.create_connection((self.host, self.port), timeout, (self.source, 0))
            def b64(s):
                return base64.b64encode(s.encode()).decode()
            def err(f):
                try:
                    return f().decode()
                except poplib.error_proto as e:
                    return e.args[0].decode()
            """;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        dir = Files.createTempDirectory("pop3-it");
        TestTls tls = TestTls.localhost();
        caFile = tls.writeCa(dir.resolve("ca.pem"));
        TestUsers.write(dir);
        String yaml =
                """
                listeners:
                  - {name: pop3s, protocol: pop3, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot}
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", tls: starttls, pool: dovecot}
                  - {name: plain, protocol: pop3, bind: "127.0.0.1:%d", pool: dovecot, allow-plaintext-auth: true}
                  - {name: be-starttls, protocol: pop3, bind: "127.0.0.1:%d", pool: be-starttls, allow-plaintext-auth: true}
                  - {name: be-implicit, protocol: pop3, bind: "127.0.0.1:%d", pool: be-implicit, allow-plaintext-auth: true}
                  - {name: be-verify, protocol: pop3, bind: "127.0.0.1:%d", pool: be-verify, allow-plaintext-auth: true}
                  - {name: xclient, protocol: pop3, bind: "127.0.0.1:%d", pool: xclient, allow-plaintext-auth: true}
                  - {name: proxy, protocol: pop3, bind: "127.0.0.1:%d", pool: proxy, allow-plaintext-auth: true}
                  - {name: master, protocol: pop3, bind: "127.0.0.1:%d", pool: master, allow-plaintext-auth: true, auth: [local]}
                  - {name: master-bad, protocol: pop3, bind: "127.0.0.1:%d", pool: master-bad, allow-plaintext-auth: true, auth: [local]}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: be-starttls, backends: [{address: "127.0.0.1:%d", tls: starttls, tls-verify: false}]}
                  - {name: be-implicit, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false}]}
                  - {name: be-verify, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: true}]}
                  - {name: xclient, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: proxy, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                  - {name: master, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                  - {name: master-bad, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: wrong}]}
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                """
                                .formatted(
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        DevBackends.POP3,
                                        DevBackends.POP3,
                                        DevBackends.POP3S,
                                        DevBackends.POP3S,
                                        DevBackends.POP3,
                                        DevBackends.POP3_PROXY,
                                        DevBackends.POP3,
                                        DevBackends.MASTER_USER,
                                        DevBackends.MASTER_PASSWORD,
                                        DevBackends.POP3,
                                        DevBackends.MASTER_USER)
                        + PosternHarness.tlsYaml(tls.write(dir));
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static Processes.Result python(String listener, String body, String... more) {
        String[] args = new String[2 + more.length];
        args[0] = caFile.toString();
        args[1] = String.valueOf(postern.port(listener));
        System.arraycopy(more, 0, args, 2, more.length);
        Processes.Result r = Processes.python(CLIENT_TIMEOUT, PY_PRELUDE + body, args);
        assertThat(r.exitCode()).as("python client\n%s", r).isZero();
        return r;
    }

    /** A loopback source address nobody else's test uses, so Dovecot's log line for it is ours. */
    private static String uniqueLoopbackAddress() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "127." + r.nextInt(20, 250) + "." + r.nextInt(1, 250) + "." + r.nextInt(2, 250);
    }

    @Test
    void implicitTlsWithPoplibRefusesAWrongPasswordThenLandsInTheRightMailbox() {
        Processes.Result r = python(
                "pop3s",
                """
                p = poplib.POP3_SSL("localhost", PORT, context=ctx())
                print("greeting:", p.getwelcome().decode())
                p.user("alice@example.test")
                print("wrong:", err(lambda: p.pass_("nope")))
                p.user("alice@example.test")
                print("right:", p.pass_("alice-pw").decode())
                print("stat:", p.stat()[0])
                print("list:", p.list()[0].decode())
                print("retr:", b"\\n".join(p.retr(1)[1]).decode())
                print("quit:", p.quit().decode())
                """);
        assertThat(r.stdout())
                .contains("greeting: +OK Postern ready")
                .contains("wrong: -ERR [AUTH] Authentication failed")
                .contains("right: +OK Logged in.")
                .contains("list: +OK")
                .contains("Subject: Welcome alice 1")
                .contains("quit: +OK");
        assertThat(statCount(r)).isGreaterThanOrEqualTo(3);
        postern.awaitNoSessions();
    }

    private static int statCount(Processes.Result r) {
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("stat: ")) {
                return Integer.parseInt(line.substring(6).trim());
            }
        }
        throw new AssertionError("no stat line in\n" + r);
    }

    @Test
    void implicitTlsWithCurlRetrievesAMessage() {
        int port = postern.port("pop3s");
        Processes.Result r = Processes.run(
                CLIENT_TIMEOUT,
                "curl",
                "-sS",
                "--max-time",
                "30",
                "--cacert",
                caFile.toString(),
                "--connect-to",
                "localhost:" + port + ":127.0.0.1:" + port,
                "-u",
                DevBackends.ALICE + ":" + DevBackends.ALICE_PASSWORD,
                "pop3s://localhost:" + port + "/1");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("Subject: Welcome alice 1");
    }

    @Test
    void startTlsWithPoplib() {
        Processes.Result r = python(
                "pop3",
                """
                p = poplib.POP3("localhost", PORT)
                print("before:", sorted(p.capa().keys()))
                print("user-before:", err(lambda: p.user("alice@example.test")))
                p.stls(ctx())
                print("after:", sorted(p.capa().keys()))
                p.user("bob@example.test")
                print("login:", p.pass_("bob-pw").decode())
                print("retr:", b"\\n".join(p.retr(1)[1]).decode())
                p.quit()
                """);
        assertThat(r.stdout())
                .contains("user-before: -ERR [SYS/PERM] Plaintext authentication disallowed")
                .contains("login: +OK Logged in.")
                .contains("Subject: Welcome bob 1");
        assertThat(line(r, "before:")).contains("'STLS'").doesNotContain("'USER'");
        assertThat(line(r, "after:")).contains("'USER'", "'SASL'").doesNotContain("'STLS'");
    }

    private static String line(Processes.Result r, String prefix) {
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("no line " + prefix + " in\n" + r);
    }

    @Test
    void startTlsWithCurl() {
        int port = postern.port("pop3");
        Processes.Result r = Processes.run(
                CLIENT_TIMEOUT,
                "curl",
                "-sS",
                "--max-time",
                "30",
                "--ssl-reqd",
                "--cacert",
                caFile.toString(),
                "--connect-to",
                "localhost:" + port + ":127.0.0.1:" + port,
                "-u",
                DevBackends.ALICE + ":" + DevBackends.ALICE_PASSWORD,
                "pop3://localhost:" + port + "/1");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdout()).contains("Subject: Welcome alice 1");
    }

    @Test
    void startTlsWithOpensslSClient() {
        Processes.Result r = Processes.runWithInput(
                CLIENT_TIMEOUT,
                "USER " + DevBackends.ALICE + "\nPASS " + DevBackends.ALICE_PASSWORD + "\nSTAT\nQUIT\n",
                "openssl",
                "s_client",
                "-quiet",
                "-crlf",
                "-starttls",
                "pop3",
                "-connect",
                "127.0.0.1:" + postern.port("pop3"),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                caFile.toString());
        assertThat(r.stdout()).as("%s", r).contains("+OK Logged in.").containsPattern("\\+OK \\d+ \\d+");
    }

    @Test
    void plainWhereTheListenerAllowsIt() {
        Processes.Result r = python(
                "plain",
                """
                p = poplib.POP3("127.0.0.1", PORT)
                p.user("alice@example.test")
                print("login:", p.pass_("alice-pw").decode())
                print("stat:", p.stat()[0])
                p.quit()
                """);
        assertThat(r.stdout()).contains("login: +OK Logged in.");
        assertThat(statCount(r)).isGreaterThanOrEqualTo(3);
    }

    @Test
    void authPlainWithAnInitialResponseAndWithAContinuation() {
        Processes.Result r = python(
                "plain",
                """
                p = poplib.POP3("127.0.0.1", PORT)
                print("ir:", p._shortcmd("AUTH PLAIN " + b64("\\0alice@example.test\\0alice-pw")).decode())
                print("list:", p.list()[0].decode())
                p.quit()
                q = poplib.POP3("127.0.0.1", PORT)
                print("challenge:", repr(q._shortcmd("AUTH PLAIN").decode()))
                print("continued:", q._shortcmd(b64("\\0bob@example.test\\0bob-pw")).decode())
                print("retr:", b"\\n".join(q.retr(1)[1]).decode())
                q.quit()
                """);
        assertThat(r.stdout())
                .contains("ir: +OK Logged in.")
                .contains("list: +OK")
                .contains("challenge: '+ '")
                .contains("continued: +OK Logged in.")
                .contains("Subject: Welcome bob 1");
    }

    @Test
    void theBackendCanBeReachedWithStartTlsOrImplicitTls() {
        for (String listener : new String[] {"be-starttls", "be-implicit"}) {
            Processes.Result r = python(
                    listener,
                    """
                    p = poplib.POP3("127.0.0.1", PORT)
                    p.user("alice@example.test")
                    print("login:", p.pass_("alice-pw").decode())
                    print("retr:", b"\\n".join(p.retr(1)[1]).decode())
                    p.quit()
                    """);
            assertThat(r.stdout()).as(listener).contains("login: +OK Logged in.", "Subject: Welcome alice 1");
        }
    }

    @Test
    void aBackendCertificateThatFailsVerificationIsATemporaryError() {
        Processes.Result r = python(
                "be-verify",
                """
                p = poplib.POP3("127.0.0.1", PORT)
                p.user("alice@example.test")
                print("login:", err(lambda: p.pass_("alice-pw")))
                p.quit()
                """);
        assertThat(r.stdout()).contains("login: -ERR [SYS/TEMP]");
    }

    @Test
    void xclientPassesTheClientsAddressToDovecot() {
        assertClientAddressReachesDovecot("xclient");
    }

    @Test
    void aProxyHeaderPassesTheClientsAddressToDovecot() {
        assertClientAddressReachesDovecot("proxy");
    }

    private static void assertClientAddressReachesDovecot(String listener) {
        String source = uniqueLoopbackAddress();
        Processes.Result r = python(
                listener,
                """
                p = Bound.__new__(Bound)
                Bound.source = sys.argv[3]
                Bound.__init__(p, "127.0.0.1", PORT)
                p.user("alice@example.test")
                print("login:", p.pass_("alice-pw").decode())
                print("stat:", p.stat()[0])
                p.quit()
                """,
                source);
        assertThat(r.stdout()).contains("login: +OK Logged in.");
        String expected = "rip=" + source + ",";
        Await.until("Dovecot logs the login from " + source, Duration.ofSeconds(10), () -> DevBackends.dovecotLog()
                .lines()
                .anyMatch(
                        l -> l.contains("pop3-login: Info: Login: user=<alice@example.test>") && l.contains(expected)));
    }

    @Test
    void aMasterUserLoginLandsInTheUsersMailbox() {
        Processes.Result r = python(
                "master",
                """
                p = poplib.POP3("127.0.0.1", PORT)
                p.user("alice@example.test")
                print("login:", p.pass_("alice-pw").decode())
                print("retr:", b"\\n".join(p.retr(1)[1]).decode())
                p.quit()
                """);
        assertThat(r.stdout()).contains("login: +OK Logged in.", "Subject: Welcome alice 1");
        // the master's password is what the backend checks: a wrong one fails, whatever the user typed
        Processes.Result bad = python(
                "master-bad",
                """
                p = poplib.POP3("127.0.0.1", PORT)
                p.user("alice@example.test")
                print("login:", err(lambda: p.pass_("alice-pw")))
                p.quit()
                """);
        assertThat(bad.stdout()).contains("login: -ERR [AUTH] Authentication failed");
    }

    @Test
    void commandsPipelinedBehindTheLoginReachTheBackend() {
        try (Pop3TestClient client = Pop3TestClient.connect(postern.port("plain"))) {
            assertThat(client.readLine()).isEqualTo("+OK Postern ready");
            client.write("USER alice@example.test\r\nPASS alice-pw\r\nSTAT\r\nLIST 1\r\nQUIT\r\n");
            assertThat(client.readLine()).isEqualTo("+OK");
            assertThat(client.readLine()).isEqualTo("+OK Logged in.");
            assertThat(client.readLine()).matches("\\+OK \\d+ \\d+");
            assertThat(client.readLine()).matches("\\+OK 1 \\d+");
            assertThat(client.readLine()).startsWith("+OK");
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void capaListsWhatDovecotOffersAfterLogin() {
        Processes.Result[] last = new Processes.Result[1];
        Await.until("CAPA lists Dovecot's TOP and UIDL", Duration.ofSeconds(20), () -> {
            last[0] = python(
                    "pop3s",
                    """
                    p = poplib.POP3_SSL("localhost", PORT, context=ctx())
                    print("capa:", sorted(p.capa().items()))
                    p.quit()
                    """);
            return last[0].stdout().contains("'TOP'") && last[0].stdout().contains("'UIDL'");
        });
        assertThat(line(last[0], "capa:"))
                .contains("('IMPLEMENTATION', ['Postern'])", "'PIPELINING'", "'RESP-CODES'", "'USER'")
                .doesNotContain("STLS", "Dovecot");
    }
}
