package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
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
 * TLS offload in front of the real Dovecot and Postfix: {@code tcp} listeners with implicit TLS, driven by real
 * clients (Python's imaplib/poplib/smtplib, curl, openssl s_client).
 */
class TlsRelayIT {
    @TempDir
    static Path dir;

    static PosternHarness postern;
    static Path caFile;
    static int deadPort;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        TestCertificates ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        ca.issue(TestCertificates.KeyType.EC_P256, "mail.example.test", "mail.example.test", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        ca.issue(TestCertificates.KeyType.RSA_2048, "*.other.test", "*.other.test")
                .write(dir, "other", TestCertificates.KeyFormat.TRADITIONAL, null);
        deadPort = FreePorts.closed();
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: imaps, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: imap}
                  - {name: pop3s, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: pop3}
                  - {name: smtps, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: submission}
                  - {name: mx, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: postfix}
                  - {name: failover, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: imap-failover}
                  - {name: proxied, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: imap-proxy}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                    - {name: other, cert: other-chain.pem, key: other-key.pem}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: pop3, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: submission, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: postfix, backends: [{address: "127.0.0.1:%d"}]}
                  - name: imap-failover
                    backends:
                      - {id: dead, address: "127.0.0.1:%d"}
                      - {id: live, address: "127.0.0.1:%d"}
                  - {name: imap-proxy, backends: [{address: "127.0.0.1:%d", identity: proxy-v2}]}
                """
                        .formatted(
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                FreePorts.next(),
                                DevBackends.IMAP,
                                DevBackends.POP3,
                                DevBackends.SUBMISSION,
                                DevBackends.SMTP,
                                deadPort,
                                DevBackends.IMAP,
                                DevBackends.IMAP_PROXY),
                dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    /** Python prelude: an SSL context that trusts only the test CA. */
    private static final String PY_TLS =
            """
            import ssl, sys
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            port = int(sys.argv[2])
            """;

    private static Processes.Result python(String script, Object... args) {
        String[] a = new String[args.length + 1];
        a[0] = caFile.toString();
        for (int i = 0; i < args.length; i++) {
            a[i + 1] = String.valueOf(args[i]);
        }
        return Processes.python(Duration.ofSeconds(60), PY_TLS + script, a);
    }

    @Test
    void imapsLoginSelectAndFetchReachAlicesMailbox() {
        // connect to 127.0.0.1 but verify the certificate for mail.example.test
        Processes.Result r = python(
                """
                import imaplib, socket
                class Client(imaplib.IMAP4_SSL):
                    def _create_socket(self, timeout):
                        raw = socket.create_connection(("127.0.0.1", self.port), timeout)
                        return self.ssl_context.wrap_socket(raw, server_hostname="mail.example.test")
                m = Client("mail.example.test", port, ssl_context=ctx)
                m.login("alice@example.test", "alice-pw")
                typ, data = m.select("INBOX")
                print("select", typ, int(data[0]))
                typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                print("fetch", typ, data[0][1].decode().strip())
                print("tls", m.sock.version())
                m.logout()
                """,
                postern.port("imaps"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("select OK").contains("fetch OK Subject: Welcome alice 1");
        assertThat(r.stdout()).containsPattern("tls TLSv1\\.[23]");
    }

    @Test
    void curlFetchesAMessageOverImaps() {
        Processes.Result r = Processes.run(
                Duration.ofSeconds(30),
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "--connect-to",
                "mail.example.test:" + postern.port("imaps") + ":127.0.0.1:" + postern.port("imaps"),
                "-u",
                "bob@example.test:bob-pw",
                "imaps://mail.example.test:" + postern.port("imaps") + "/INBOX;UID=1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("Subject: Welcome bob 1");
    }

    @Test
    void pop3sLoginAndRetrieve() {
        Processes.Result r = python(
                """
                import poplib, socket
                class Client(poplib.POP3_SSL):
                    def _create_socket(self, timeout):
                        raw = socket.create_connection(("127.0.0.1", self.port), timeout)
                        return self.context.wrap_socket(raw, server_hostname="mail.example.test")
                p = Client("mail.example.test", port, context=ctx)
                p.user("bob@example.test")
                p.pass_("bob-pw")
                count, size = p.stat()
                print("stat", count)
                resp, lines, octets = p.retr(1)
                print("retr", resp.decode(), [l.decode() for l in lines if l.startswith(b"Subject:")][0])
                p.quit()
                """,
                postern.port("pop3s"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("retr +OK").contains("Subject: Welcome bob 1");
        assertThat(r.stdout()).containsPattern("stat [3-9]|stat \\d\\d");
    }

    @Test
    void smtpsSubmissionDeliversToBob() {
        String subject = "tls-relay submission " + UUID.randomUUID();
        Processes.Result r = python(
                """
                import smtplib, socket
                class Client(smtplib.SMTP_SSL):
                    def _get_socket(self, host, port, timeout):
                        raw = socket.create_connection(("127.0.0.1", port), timeout)
                        return self.context.wrap_socket(raw, server_hostname="mail.example.test")
                s = Client("mail.example.test", port, context=ctx)
                print("ehlo", s.ehlo()[0])
                s.login("alice@example.test", "alice-pw")
                msg = "From: alice@example.test\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n\\r\\nhello\\r\\n" % sys.argv[3]
                print("send", s.sendmail("alice@example.test", ["bob@example.test"], msg))
                s.quit()
                """,
                postern.port("smtps"), subject);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("ehlo 250").contains("send {}");
        Await.until(
                "message in bob's INBOX",
                Duration.ofSeconds(30),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    @Test
    void smtpsToTheMxRelayDeliversWithoutAuthentication() {
        String subject = "tls-relay mx " + UUID.randomUUID();
        Processes.Result r = python(
                """
                import smtplib, socket
                class Client(smtplib.SMTP_SSL):
                    def _get_socket(self, host, port, timeout):
                        raw = socket.create_connection(("127.0.0.1", port), timeout)
                        return self.context.wrap_socket(raw, server_hostname="mail.example.test")
                s = Client("mail.example.test", port, context=ctx)
                s.ehlo("sender.example.net")
                msg = "From: someone@example.net\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n\\r\\nhi\\r\\n" % sys.argv[3]
                print("send", s.sendmail("someone@example.net", ["bob@example.test"], msg))
                s.quit()
                """,
                postern.port("mx"), subject);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        Await.until(
                "message in bob's INBOX",
                Duration.ofSeconds(30),
                () -> DevBackends.hasMessage(DevBackends.BOB, subject));
    }

    private static String subjectSeenWith(String... sClientArgs) {
        String[] cmd = new String[6 + sClientArgs.length];
        cmd[0] = "openssl";
        cmd[1] = "s_client";
        cmd[2] = "-connect";
        cmd[3] = "127.0.0.1:" + postern.port("imaps");
        cmd[4] = "-CAfile";
        cmd[5] = caFile.toString();
        System.arraycopy(sClientArgs, 0, cmd, 6, sClientArgs.length);
        Processes.Result r = Processes.runWithInput(Duration.ofSeconds(20), "", cmd);
        for (String line : r.all().split("\n")) {
            if (line.startsWith("subject=")) {
                return line.trim();
            }
        }
        return "no subject in: " + r;
    }

    @Test
    void sniNamePicksTheCertificate() {
        assertThat(subjectSeenWith("-servername", "imap.other.test")).contains("CN = *.other.test");
        assertThat(subjectSeenWith("-servername", "mail.example.test")).contains("CN = mail.example.test");
        assertThat(subjectSeenWith("-servername", "unknown.example.net")).contains("CN = mail.example.test");
        assertThat(subjectSeenWith("-noservername")).contains("CN = mail.example.test");
    }

    @Test
    void tls11IsRefusedAndTls12And13Work() {
        // SECLEVEL=0 makes the client really offer TLS 1.1, so the refusal is Postern's
        Processes.Result old = Processes.runWithInput(
                Duration.ofSeconds(20),
                "",
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + postern.port("imaps"),
                "-tls1_1",
                "-cipher",
                "DEFAULT@SECLEVEL=0");
        assertThat(old.exitCode()).as(old.toString()).isNotZero();
        assertThat(old.all()).doesNotContain("* OK");
        for (String version : new String[] {"-tls1_2", "-tls1_3"}) {
            Processes.Result ok = Processes.runWithInput(
                    Duration.ofSeconds(20),
                    "a LOGOUT\n",
                    "openssl",
                    "s_client",
                    "-connect",
                    "127.0.0.1:" + postern.port("imaps"),
                    "-CAfile",
                    caFile.toString(),
                    "-servername",
                    "mail.example.test",
                    version,
                    "-quiet");
            assertThat(ok.all()).as(version + ": " + ok).contains("* OK").contains("a OK");
        }
    }

    @Test
    void aBackendThatIsDownMakesPosternTryTheNextOne() {
        // round robin starts every second session at the dead backend; each must still reach Dovecot
        Processes.Result r = python(
                """
                import imaplib, socket
                class Client(imaplib.IMAP4_SSL):
                    def _create_socket(self, timeout):
                        raw = socket.create_connection(("127.0.0.1", self.port), timeout)
                        return self.ssl_context.wrap_socket(raw, server_hostname="mail.example.test")
                ok = 0
                for i in range(6):
                    m = Client("mail.example.test", port, ssl_context=ctx)
                    m.login("alice@example.test", "alice-pw")
                    m.logout()
                    ok += 1
                print("logins", ok)
                """,
                postern.port("failover"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("logins 6");
    }

    @Test
    void proxyProtocolTellsDovecotTheClientAddressAndThatItUsedTls() throws Exception {
        // the client connects from 127.0.0.2, so Dovecot's rip can only come from the PROXY header
        String before = DevBackends.dovecotLog();
        Processes.Result r = python(
                """
                import imaplib, socket
                class Client(imaplib.IMAP4_SSL):
                    def _create_socket(self, timeout):
                        raw = socket.create_connection(("127.0.0.1", self.port), timeout, source_address=("127.0.0.2", 0))
                        return self.ssl_context.wrap_socket(raw, server_hostname="mail.example.test")
                m = Client("mail.example.test", port, ssl_context=ctx)
                m.login("alice@example.test", "alice-pw")
                print("select", m.select("INBOX")[0])
                m.logout()
                """,
                postern.port("proxied"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        Await.until("Dovecot logged the login", Duration.ofSeconds(10), () -> DevBackends.dovecotLog()
                .substring(before.length())
                .lines()
                .anyMatch(l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2")));
        String login = DevBackends.dovecotLog()
                .substring(before.length())
                .lines()
                .filter(l -> l.contains("Login: user=<alice@example.test>") && l.contains("rip=127.0.0.2"))
                .findFirst()
                .orElseThrow();
        assertThat(login).contains("secured");
    }
}
