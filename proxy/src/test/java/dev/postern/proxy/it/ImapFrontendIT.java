package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The IMAP front end in front of the real Dovecot, driven by real clients (Python's imaplib and raw sockets, curl,
 * openssl s_client) in every listener mode, and towards Dovecot in every backend mode: plain, STARTTLS, implicit TLS
 * (with and without certificate checks), IMAP ID, PROXY v2 and a master user.
 */
class ImapFrontendIT {
    @TempDir
    static Path dir;

    static PosternHarness postern;
    static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        ca.issue(TestCertificates.KeyType.EC_P256, "mail.example.test", "mail.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        TestUsers.write(dir);
        postern = PosternHarness.start(
                ("""
                listeners:
                  - {name: imaps, protocol: imap, bind: "127.0.0.1:%d", tls: implicit, pool: dovecot}
                  - {name: imap, protocol: imap, bind: "127.0.0.1:%d", tls: starttls, pool: dovecot}
                  - {name: plain, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: dovecot}
                  - {name: via-starttls, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: starttls}
                  - {name: via-implicit, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: implicit}
                  - {name: via-verify, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: verify}
                  - {name: via-id, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: id}
                  - {name: via-proxy, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: proxy}
                  - {name: via-master, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: master, auth: [local]}
                  - {name: via-bad-master, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: bad-master, auth: [local]}
                  - {name: master-unverified, protocol: imap, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: bad-master}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: starttls, backends: [{address: "127.0.0.1:%d", tls: starttls, tls-verify: false, identity: id}]}
                  - {name: implicit, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false, identity: id}]}
                  - {name: verify, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: true}]}
                  - {name: id, backends: [{address: "127.0.0.1:%d", identity: id}]}
                  - {name: proxy, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                  - name: master
                    backends:
                      - {address: "127.0.0.1:%d", master-user: %s, master-password: %s}
                  - name: bad-master
                    backends:
                      - {address: "127.0.0.1:%d", master-user: %s, master-password: not-the-master-password}
                """
                                + TestUsers.AUTH_SECTION)
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
                                FreePorts.next(),
                                DevBackends.IMAP,
                                DevBackends.IMAP,
                                DevBackends.IMAPS,
                                DevBackends.IMAPS,
                                DevBackends.IMAP,
                                DevBackends.IMAP_PROXY,
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER,
                                DevBackends.MASTER_PASSWORD,
                                DevBackends.IMAP,
                                DevBackends.MASTER_USER),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    /**
     * Python prelude: {@code ctx} trusts only the test CA; {@code port} is the first argument; {@code Imaps} and
     * {@code Imap} connect to 127.0.0.1 (from {@code SOURCE}, the second argument when given) and check the
     * certificate for localhost.
     */
    private static final String PY =
            """
            import imaplib, socket, ssl, sys
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            port = int(sys.argv[2])
            SOURCE = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
            def connect(timeout):
                return socket.create_connection(("127.0.0.1", port), timeout or 30, source_address=(SOURCE, 0))
            class Imaps(imaplib.IMAP4_SSL):
                def _create_socket(self, timeout):
                    return self.ssl_context.wrap_socket(connect(timeout), server_hostname="localhost")
            class Imap(imaplib.IMAP4):
                def _create_socket(self, timeout):
                    return connect(timeout)
            def lines(resp):
                return " ".join(x.decode() if isinstance(x, bytes) else str(x) for x in resp)
            """;

    private static Processes.Result python(String script, Object... args) {
        String[] a = new String[args.length + 1];
        a[0] = caFile.toString();
        for (int i = 0; i < args.length; i++) {
            a[i + 1] = String.valueOf(args[i]);
        }
        return Processes.python(Duration.ofSeconds(60), PY + script, a);
    }

    /** Logs alice in, selects INBOX, fetches the first subject: what every mode must get right. */
    private static final String ALICE_READS_HER_INBOX =
            """
            typ, data = m.login("alice@example.test", "alice-pw")
            print("login", typ, lines(data))
            typ, data = m.select("INBOX")
            print("select", typ)
            typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            print("fetch", typ, data[0][1].decode().strip())
            print("logout", m.logout()[0])
            """;

    private static void assertAliceReadHerInbox(Processes.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        // the tagged OK carries Dovecot's post-login capabilities
        assertThat(r.stdout()).containsPattern("login OK \\[CAPABILITY IMAP4rev1 .*IDLE.*\\] Logged in");
        assertThat(r.stdout()).contains("select OK").contains("fetch OK Subject: Welcome alice 1");
        assertThat(r.stdout()).contains("logout BYE");
    }

    // ---- listener modes

    @Test
    void implicitTlsWithImaplib() {
        Processes.Result r = python(
                """
                m = Imaps("localhost", port, ssl_context=ctx)
                print("caps", " ".join(m.capabilities))
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("imaps"));
        assertAliceReadHerInbox(r);
        assertThat(r.stdout()).contains("AUTH=PLAIN").doesNotContain("STARTTLS").doesNotContain("LOGINDISABLED");
    }

    @Test
    void implicitTlsWithCurl() {
        Processes.Result r = Processes.run(
                Duration.ofSeconds(30),
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "--connect-to",
                "localhost:" + postern.port("imaps") + ":127.0.0.1:" + postern.port("imaps"),
                "-u",
                "alice@example.test:alice-pw",
                "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("Subject: Welcome alice 1");
    }

    @Test
    void startTlsWithImaplib() {
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                print("before", " ".join(m.capabilities))
                print("starttls", m.starttls(ssl_context=ctx)[0])
                print("after", " ".join(m.capabilities))
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("imap"));
        assertAliceReadHerInbox(r);
        assertThat(r.stdout()).containsPattern("before .*STARTTLS.*LOGINDISABLED");
        assertThat(r.stdout()).contains("starttls OK");
        assertThat(r.stdout()).containsPattern("after IMAP4REV1 .*AUTH=PLAIN");
        assertThat(lineStarting(r.stdout(), "after")).doesNotContain("STARTTLS").doesNotContain("LOGINDISABLED");
    }

    private static String lineStarting(String output, String prefix) {
        return output.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
    }

    @Test
    void startTlsWithCurl() {
        Processes.Result r = Processes.run(
                Duration.ofSeconds(30),
                "curl",
                "-sS",
                "--ssl-reqd",
                "--cacert",
                caFile.toString(),
                "--connect-to",
                "localhost:" + postern.port("imap") + ":127.0.0.1:" + postern.port("imap"),
                "-u",
                "bob@example.test:bob-pw",
                "imap://localhost:" + postern.port("imap") + "/INBOX;UID=1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("Subject: Welcome bob 1");
    }

    @Test
    void startTlsWithOpensslAndCommandsPipelinedAfterLogin() {
        // s_client sends every line at once after the handshake: SELECT and FETCH wait in Postern's buffer while
        // the login runs, then reach Dovecot through the relay
        Processes.Result r = Processes.run(
                Duration.ofSeconds(30),
                java.util.Map.of(),
                null,
                "a LOGIN alice@example.test alice-pw\nb SELECT INBOX\nc FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\n"
                        + "d LOGOUT\n",
                "openssl",
                "s_client",
                "-quiet",
                "-crlf",
                "-ign_eof",
                "-starttls",
                "imap",
                "-connect",
                "127.0.0.1:" + postern.port("imap"),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                caFile.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).containsPattern("a OK \\[CAPABILITY IMAP4rev1 .*\\] Logged in");
        assertThat(r.stdout())
                .contains("b OK")
                .contains("Subject: Welcome alice 1")
                .contains("c OK");
        assertThat(r.stdout()).contains("* BYE").contains("d OK");
    }

    @Test
    void plainListenerWrongPasswordThenRightOneOnTheSameConnection() {
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                try:
                    m.login("alice@example.test", "wrong-pw")
                    print("login succeeded?!")
                except imaplib.IMAP4.error as e:
                    print("failed", e.args[0].decode() if isinstance(e.args[0], bytes) else e)
                """
                        + ALICE_READS_HER_INBOX,
                postern.port("plain"));
        assertAliceReadHerInbox(r);
        assertThat(r.stdout()).contains("failed [AUTHENTICATIONFAILED] Authentication failed.");
    }

    @Test
    void plainListenerWithoutPlaintextAuthRefusesLogin() {
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                print("caps", " ".join(m.capabilities))
                try:
                    m.login("alice@example.test", "alice-pw")
                except imaplib.IMAP4.error as e:
                    print("refused", e.args[0].decode() if isinstance(e.args[0], bytes) else e)
                """,
                postern.port("imap"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("LOGINDISABLED").contains("refused [PRIVACYREQUIRED]");
    }

    /** A raw IMAP conversation over a plain socket: sends each line, prints everything the server says. */
    private static final String RAW =
            """
            s = connect(30)
            f = s.makefile("rb")
            def read_until(prefix):
                while True:
                    line = f.readline().decode("utf-8", "replace").rstrip("\\r\\n")
                    print("S:", line)
                    if line.startswith(prefix) or not line:
                        return line
            def send(data):
                s.sendall(data.encode("utf-8") if isinstance(data, str) else data)
            read_until("* OK")
            """;

    @Test
    void authenticatePlainWithInitialResponseAndWithContinuation() {
        Processes.Result r = python(
                RAW
                        + """
                import base64
                ir = base64.b64encode(b"\\0alice@example.test\\0wrong").decode()
                send("a AUTHENTICATE PLAIN " + ir + "\\r\\n")
                read_until("a ")
                send("b AUTHENTICATE PLAIN\\r\\n")
                read_until("+")
                send(base64.b64encode(b"\\0alice@example.test\\0alice-pw").decode() + "\\r\\n")
                read_until("b ")
                send("c SELECT INBOX\\r\\n")
                read_until("c ")
                send("d LOGOUT\\r\\n")
                read_until("d ")
                """,
                postern.port("plain"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("S: a NO [AUTHENTICATIONFAILED] Authentication failed.");
        assertThat(r.stdout()).contains("S: + ").containsPattern("S: b OK \\[CAPABILITY .*\\] Logged in");
        assertThat(r.stdout()).contains("S: c OK").contains("S: d OK");
    }

    @Test
    void loginWithLiteralsReachesTheBackend() {
        Processes.Result r = python(
                RAW
                        + """
                send("a LOGIN {18}\\r\\n")
                read_until("+")
                send("alice@example.test {8}\\r\\n")
                read_until("+")
                send("alice-pw\\r\\n")
                read_until("a ")
                send("b LOGIN {18+}\\r\\nalice@example.test \\"alice-pw\\"\\r\\n")
                read_until("b ")
                send("c LOGOUT\\r\\n")
                read_until("c ")
                """,
                postern.port("plain"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("S: + Ready for literal data");
        assertThat(r.stdout()).containsPattern("S: a OK \\[CAPABILITY .*\\] Logged in");
        // after login the session is Dovecot's: a second LOGIN is its business, and it says so
        assertThat(r.stdout()).containsPattern("S: b (BAD|NO)");
        assertThat(r.stdout()).contains("S: c OK");
    }

    @Test
    void idleAfterLoginSeesAMessageAppendedElsewhere() {
        String subject = "imap-idle " + UUID.randomUUID();
        Processes.Result r = python(
                RAW
                        + """
                send("a LOGIN alice@example.test alice-pw\\r\\n")
                read_until("a ")
                send("b SELECT Trash\\r\\n")
                read_until("b ")
                send("c IDLE\\r\\n")
                read_until("+")
                other = Imap("localhost", port)
                other.login("alice@example.test", "alice-pw")
                msg = ("Subject: %s\\r\\n\\r\\nidle test\\r\\n" % sys.argv[3]).encode()
                print("append", other.append("Trash", None, None, msg)[0])
                print("exists", read_until("* ").endswith("EXISTS"))
                send("DONE\\r\\n")
                read_until("c ")
                other.select("Trash")
                typ, found = other.search(None, "SUBJECT", '"%s"' % sys.argv[3])
                for n in found[0].split():
                    other.store(n, "+FLAGS", "\\\\Deleted")
                other.expunge()
                other.logout()
                send("d LOGOUT\\r\\n")
                read_until("d ")
                """,
                postern.port("plain"),
                "127.0.0.1",
                subject);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("S: + idling").contains("append OK").contains("exists True");
        assertThat(r.stdout()).containsPattern("S: c OK Idle completed").contains("S: d OK");
    }

    // ---- backend modes

    /** The part of Dovecot's log written after {@code before}. */
    private static String logSince(String before) {
        String now = DevBackends.dovecotLog();
        return now.length() >= before.length() ? now.substring(before.length()) : now;
    }

    @Test
    void backendStartTls() {
        String before = DevBackends.dovecotLog();
        Processes.Result r = python(
                "m = Imap(\"localhost\", port)\n" + ALICE_READS_HER_INBOX, postern.port("via-starttls"), "127.0.0.3");
        assertAliceReadHerInbox(r);
        // Dovecot says TLS (not "secured", which is what it says of plain connections from trusted networks)
        Await.until("a TLS login from 127.0.0.3 in dovecot.log", Duration.ofSeconds(10), () -> logSince(before)
                .lines()
                .anyMatch(l -> l.contains("Login: user=<alice@example.test>")
                        && l.contains("rip=127.0.0.3")
                        && l.contains(", TLS")));
    }

    @Test
    void backendImplicitTlsWithoutVerification() {
        String before = DevBackends.dovecotLog();
        Processes.Result r = python(
                "m = Imap(\"localhost\", port)\n" + ALICE_READS_HER_INBOX, postern.port("via-implicit"), "127.0.0.4");
        assertAliceReadHerInbox(r);
        Await.until("a TLS login from 127.0.0.4 in dovecot.log", Duration.ofSeconds(10), () -> logSince(before)
                .lines()
                .anyMatch(l -> l.contains("Login: user=<alice@example.test>")
                        && l.contains("rip=127.0.0.4")
                        && l.contains(", TLS")));
    }

    @Test
    void backendImplicitTlsWithVerificationFailsAgainstTheSelfSignedBackend() {
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                try:
                    m.login("alice@example.test", "alice-pw")
                    print("login succeeded?!")
                except imaplib.IMAP4.error as e:
                    print("failed", e.args[0].decode() if isinstance(e.args[0], bytes) else e)
                """,
                postern.port("via-verify"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("failed [UNAVAILABLE]");
    }

    @Test
    void identityIdGivesDovecotTheClientsAddress() {
        String before = DevBackends.dovecotLog();
        Processes.Result r =
                python("m = Imap(\"localhost\", port)\n" + ALICE_READS_HER_INBOX, postern.port("via-id"), "127.0.0.2");
        assertAliceReadHerInbox(r);
        Await.until("ID and login from 127.0.0.2 in dovecot.log", Duration.ofSeconds(10), () -> {
            String log = logSince(before);
            return log.contains("ID sent: x-originating-ip=127.0.0.2")
                    && log.lines()
                            .anyMatch(
                                    l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2"));
        });
        String idLine = logSince(before)
                .lines()
                .filter(l -> l.contains("ID sent: x-originating-ip=127.0.0.2"))
                .findFirst()
                .orElseThrow();
        assertThat(idLine)
                .contains("x-connected-ip=127.0.0.1")
                .contains("name=Postern")
                .contains("x-session-id=");
    }

    @Test
    void identityProxyV2GivesDovecotTheClientsAddress() {
        String before = DevBackends.dovecotLog();
        Processes.Result r = python(
                "m = Imap(\"localhost\", port)\n" + ALICE_READS_HER_INBOX, postern.port("via-proxy"), "127.0.0.5");
        assertAliceReadHerInbox(r);
        Await.until("login from 127.0.0.5 in dovecot.log", Duration.ofSeconds(10), () -> logSince(before)
                .lines()
                .anyMatch(l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.5")));
    }

    @Test
    void masterUserLoginLandsInTheUsersMailbox() {
        Processes.Result r =
                python("m = Imap(\"localhost\", port)\n" + ALICE_READS_HER_INBOX, postern.port("via-master"));
        assertAliceReadHerInbox(r);
    }

    @Test
    void withoutPosternVerifyingTheUserAMasterUserIsNeverUsed() {
        // the listener lets the backend decide: Postern must log in with the user's own credentials, or anyone
        // could log in as anyone through the master user; so a wrong password fails and the right one works even
        // though this pool's master password is wrong
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                try:
                    m.login("alice@example.test", "not-alices-password")
                    print("wrong password accepted?!")
                except imaplib.IMAP4.error as e:
                    print("failed", e.args[0].decode())
                m.login("alice@example.test", "alice-pw")
                print("select", m.select("INBOX")[0])
                m.logout()
                """,
                postern.port("master-unverified"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("failed [AUTHENTICATIONFAILED]").contains("select OK");
    }

    @Test
    void masterUserLoginSendsTheMasterCredentials() {
        // alice's own password is right, but what reaches Dovecot is the master user's (wrong) one
        String before = DevBackends.dovecotLog();
        Processes.Result r = python(
                """
                m = Imap("localhost", port)
                try:
                    m.login("alice@example.test", "alice-pw")
                    print("login succeeded?!")
                except imaplib.IMAP4.error as e:
                    print("failed", e.args[0].decode())
                """,
                postern.port("via-bad-master"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("failed [AUTHENTICATIONFAILED] Authentication failed.");
        Await.until("the master user's password mismatch in dovecot.log", Duration.ofSeconds(10), () -> logSince(before)
                .lines()
                .anyMatch(l -> l.contains("proxy-master") && l.contains("mismatch")));
    }
}
