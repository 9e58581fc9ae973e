package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Protocol;
import dev.postern.proxy.SmtpFrontend;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.SmtpTestClient;
import dev.postern.testkit.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SMTP front end over real sockets against scripted in-JVM backends: STARTTLS on both sides (pipelined commands,
 * injected bytes, state reset), the probe's keywords, XCLIENT, a PROXY header before implicit TLS, hand-over with
 * pipelined and half-closed input, an unreachable backend, and the pre-auth timeout.
 */
class SubmissionFrontendTest {
    @TempDir
    static Path dir;

    private static final String HOST = SmtpFrontend.machineHostName();

    private static FakeSmtpBackend plainBackend;
    private static FakeSmtpBackend injectingBackend;
    private static FakeSmtpBackend xclientBackend;
    private static FakeSmtpBackend implicitProxyBackend;
    private static PosternHarness postern;
    private static SSLContext clientTls;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates ca = TestCertificates.newAuthority();
        var cert = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .write(dir, "smtp", TestCertificates.KeyFormat.PKCS8, null);
        clientTls = ca.clientSslContext();
        plainBackend = FakeSmtpBackend.builder()
                .keywords("PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN XOAUTH2", "XFORWARD NAME", "8BITMIME")
                .start();
        injectingBackend = FakeSmtpBackend.builder()
                .tls(ca)
                .injectAfterStartTls()
                .keywords("AUTH PLAIN")
                .start();
        xclientBackend = FakeSmtpBackend.builder()
                .keywords("AUTH PLAIN", "XCLIENT NAME ADDR PORT PROTO HELO LOGIN")
                .start();
        implicitProxyBackend = FakeSmtpBackend.builder()
                .tls(ca)
                .implicitTls()
                .proxyHeader()
                .keywords("AUTH PLAIN")
                .start();
        String yaml =
                """
                listeners:
                  - {name: starttls, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: plain}
                  - {name: discard, protocol: smtp, bind: "127.0.0.1:%d", tls: starttls, pool: plain,
                     starttls-pipelining: discard}
                  - {name: plain, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: plain}
                  - {name: inject, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: inject}
                  - {name: xclient, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: xclient}
                  - {name: implicit, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true,
                     pool: implicit}
                  - {name: down, protocol: smtp, bind: "127.0.0.1:%d", allow-plaintext-auth: true, pool: down}
                  - {name: quick, protocol: smtp, bind: "127.0.0.1:%d", pool: plain, timeouts: {pre-auth: 1s}}
                tls:
                  certificates: [{cert: "%s", key: "%s"}]
                pools:
                  - {name: plain, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: inject, backends: [{address: "127.0.0.1:%d", tls: starttls, tls-verify: false}]}
                  - {name: xclient, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: implicit, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false,
                     identity: proxy-v2}]}
                  - {name: down, backends: [{address: "127.0.0.1:%d"}]}
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
                                cert.cert(),
                                cert.key(),
                                plainBackend.port(),
                                injectingBackend.port(),
                                xclientBackend.port(),
                                implicitProxyBackend.port(),
                                FreePorts.closed());
        postern = PosternHarness.start(yaml, dir);
        Await.until("the probe learned the plain pool's keywords", Duration.ofSeconds(10), () -> postern.postern()
                .services()
                .capabilities()
                .get("plain", Protocol.SMTP)
                .isPresent());
    }

    @AfterAll
    static void stop() throws Exception {
        if (postern != null) {
            postern.close();
        }
        for (FakeSmtpBackend b :
                new FakeSmtpBackend[] {plainBackend, injectingBackend, xclientBackend, implicitProxyBackend}) {
            if (b != null) {
                b.close();
            }
        }
    }

    @AfterEach
    void everySessionEnds() {
        postern.awaitNoSessions();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String authPlain(String user, String password) {
        return "AUTH PLAIN " + b64("\0" + user + "\0" + password);
    }

    private static SmtpTestClient connect(String listener) {
        SmtpTestClient c = SmtpTestClient.connect(postern.port(listener));
        assertThat(c.replyLine()).endsWith(" ESMTP Postern").startsWith("220 ");
        return c;
    }

    // ---- STARTTLS towards the client

    @Test
    void commandsPipelinedAfterStartTlsCloseTheConnectionUnanswered() {
        try (SmtpTestClient c = connect("starttls")) {
            c.command("EHLO client.example");
            c.write("STARTTLS\r\nMAIL FROM:<a@b>\r\n");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void commandsPipelinedAfterStartTlsAreDroppedUnderTheDiscardPolicy() {
        try (SmtpTestClient c = connect("discard")) {
            c.command("EHLO client.example");
            c.write("STARTTLS\r\nMAIL FROM:<a@b>\r\n");
            assertThat(c.reply()).containsExactly("220 2.0.0 Ready to start TLS");
            c.startTls(clientTls);
            // the first reply after the handshake answers NOOP: the MAIL command was never executed
            assertThat(c.command("NOOP")).containsExactly("250 2.0.0 OK");
        }
    }

    @Test
    void afterStartTlsTheSessionStartsOverWithAuthOfferedAndNoSecondStartTls() {
        try (SmtpTestClient c = connect("starttls")) {
            List<String> before = c.command("EHLO client.example");
            assertThat(before).contains("250 STARTTLS").noneMatch(l -> l.contains("AUTH"));
            assertThat(c.command("STARTTLS")).containsExactly("220 2.0.0 Ready to start TLS");
            c.startTls(clientTls);
            assertThat(c.command("MAIL FROM:<a@b>")).containsExactly("503 5.5.1 Send EHLO first");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("503 5.5.1 Send EHLO first");
            List<String> after = c.command("EHLO client.example");
            assertThat(after)
                    .containsExactly(
                            "250-" + HOST,
                            "250-PIPELINING",
                            "250-SIZE 1000",
                            "250-8BITMIME",
                            "250 AUTH PLAIN LOGIN XOAUTH2");
            assertThat(c.command("STARTTLS")).containsExactly("503 5.5.1 TLS already active");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
            assertThat(c.command("MAIL FROM:<a@b>")).containsExactly("250 2.1.0 fake sender ok");
        }
    }

    // ---- the backend side

    @Test
    void bytesABackendInjectsAfterItsStartTlsGoAheadAreDropped() {
        int before = injectingBackend.received.size();
        try (SmtpTestClient c = connect("inject")) {
            c.command("EHLO client.example");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
            assertThat(c.command("MAIL FROM:<a@b>")).containsExactly("250 2.1.0 fake sender ok");
        }
        List<String> seen = injectingBackend.received.subList(before, injectingBackend.received.size());
        assertThat(seen.subList(0, 4))
                .containsExactly(
                        "EHLO " + HOST, "STARTTLS", "EHLO " + HOST, authPlain("alice", FakeSmtpBackend.PASSWORD));
    }

    @Test
    void xclientCarriesTheClientsAddressHeloAndLogin() throws Exception {
        int before = xclientBackend.received.size();
        try (SmtpTestClient c = connect("xclient")) {
            c.command("EHLO client.example");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
        }
        List<String> seen = xclientBackend.received.subList(before, xclientBackend.received.size());
        assertThat(seen.get(1))
                .matches("XCLIENT ADDR=127\\.0\\.0\\.1 PORT=\\d+ NAME=\\[UNAVAILABLE\\] "
                        + "HELO=client\\.example LOGIN=alice PROTO=ESMTP");
        assertThat(seen.get(2)).isEqualTo("EHLO " + HOST);
        assertThat(seen.get(3)).startsWith("AUTH PLAIN ");
    }

    @Test
    void theProxyHeaderPrecedesTheImplicitTlsHandshake() {
        int before = implicitProxyBackend.proxyHeaders.size();
        try (SmtpTestClient c = connect("implicit")) {
            c.command("EHLO client.example");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
        }
        byte[] header = implicitProxyBackend.proxyHeaders.get(before);
        assertThat(header[12]).isEqualTo((byte) 0x21); // PROXY command, version 2
        assertThat(header[13]).isEqualTo((byte) 0x11); // TCP over IPv4
        assertThat(new byte[] {header[16], header[17], header[18], header[19]}).containsExactly(127, 0, 0, 1);
    }

    @Test
    void aWrongPasswordIs535AndTheNextAttemptWorks() {
        try (SmtpTestClient c = connect("plain")) {
            c.command("EHLO client.example");
            assertThat(c.command(authPlain("alice", "wrong")))
                    .containsExactly("535 5.7.8 Authentication credentials invalid");
            assertThat(c.command(authPlain("alice", FakeSmtpBackend.PASSWORD)))
                    .containsExactly("235 2.7.0 Authentication successful");
        }
    }

    @Test
    void commandsPipelinedAfterAuthWithAHalfCloseReachTheBackend() throws Exception {
        try (SmtpTestClient c = connect("plain")) {
            c.command("EHLO client.example");
            c.write(authPlain("alice", FakeSmtpBackend.PASSWORD) + "\r\nMAIL FROM:<half@close>\r\nQUIT\r\n");
            c.shutdownOutput();
            assertThat(c.reply()).containsExactly("235 2.7.0 Authentication successful");
            assertThat(c.reply()).containsExactly("250 2.1.0 fake sender ok");
            assertThat(c.reply()).containsExactly("221 2.0.0 fake bye");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(plainBackend.received).contains("MAIL FROM:<half@close>");
    }

    @Test
    void anUnreachableBackendIsATemporaryFailure() {
        try (SmtpTestClient c = connect("down")) {
            c.command("EHLO client.example");
            assertThat(c.command(authPlain("alice", "pw")))
                    .containsExactly("454 4.7.0 Temporary authentication failure");
            assertThat(c.command("QUIT")).containsExactly("221 2.0.0 Bye");
        }
    }

    @Test
    void thePreAuthTimeoutSays421AndCloses() {
        try (SmtpTestClient c = connect("quick")) {
            c.command("EHLO client.example");
            assertThat(c.reply()).containsExactly("421 4.4.2 Timeout");
            assertThat(c.closedByServer()).isTrue();
        }
    }
}
