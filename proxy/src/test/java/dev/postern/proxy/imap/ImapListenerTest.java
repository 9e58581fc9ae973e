package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client side over real sockets. STARTTLS done right: a command pipelined after STARTTLS is never executed
 * (the connection is closed, or with {@code starttls-pipelining: discard} the bytes are dropped), and after the
 * handshake the capabilities change. Also the pre-auth timeout on a real connection. The backend is a fake that
 * counts connections: none of these sessions may reach it.
 */
class ImapListenerTest {
    @TempDir
    static Path dir;

    static PosternHarness postern;
    static FakeLineBackend backend;
    static SSLContext clientTls;

    @BeforeAll
    static void start() throws Exception {
        backend = FakeLineBackend.start(c -> c.send("* OK [CAPABILITY IMAP4rev1] fake ready"));
        TestCertificates ca = TestCertificates.newAuthority();
        ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        clientTls = ca.clientSslContext();
        postern = PosternHarness.start(
                """
                listeners:
                  - {name: close, protocol: imap, bind: "127.0.0.1:%d", tls: starttls, pool: fake}
                  - name: discard
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: starttls
                    starttls-pipelining: discard
                    pool: fake
                  - name: hurry
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: starttls
                    pool: fake
                    timeouts: {pre-auth: 300ms}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                pools:
                  - {name: fake, backends: [{address: "127.0.0.1:%d"}]}
                """
                        .formatted(FreePorts.next(), FreePorts.next(), FreePorts.next(), backend.port()),
                dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (postern != null) {
            postern.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @AfterEach
    void nothingReachedTheBackend() {
        postern.awaitNoSessions();
        assertThat(backend.connectionCount()).isZero();
    }

    @Test
    void loginPipelinedAfterStartTlsClosesTheConnection() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("close"))) {
            assertThat(client.line()).contains("STARTTLS").contains("LOGINDISABLED");
            client.write("a STARTTLS\r\nb LOGIN alice@example.test alice-pw\r\n");
            // no go-ahead, no answer to b: the connection just ends
            assertThat(client.rest()).isEmpty();
        }
    }

    @Test
    void loginPipelinedAfterStartTlsIsDiscardedWhenConfigured() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("discard"))) {
            client.line();
            client.write("a STARTTLS\r\nb LOGIN alice@example.test alice-pw\r\n");
            assertThat(client.line()).isEqualTo("a OK Begin TLS negotiation now");
            client.startTls(clientTls);
            client.write("c CAPABILITY\r\n");
            List<String> reply = client.until("c");
            // the first thing after the handshake answers c: b was never executed
            assertThat(reply).hasSize(2);
            assertThat(reply.get(0))
                    .isEqualTo("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2"
                            + " AUTH=OAUTHBEARER");
            assertThat(reply.get(1)).isEqualTo("c OK CAPABILITY completed");
            client.write("d STARTTLS\r\n");
            assertThat(client.line()).isEqualTo("d BAD TLS is already active");
            client.write("e LOGOUT\r\n");
            assertThat(client.until("e")).containsExactly("* BYE Logging out", "e OK LOGOUT completed");
        }
    }

    @Test
    void startTlsAloneGoesAheadAndReadvertises() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("close"))) {
            client.line();
            client.write("a STARTTLS\r\n");
            assertThat(client.line()).isEqualTo("a OK Begin TLS negotiation now");
            client.startTls(clientTls);
            client.write("b CAPABILITY\r\n");
            String caps = client.until("b").get(0);
            assertThat(caps).contains("AUTH=PLAIN").doesNotContain("STARTTLS").doesNotContain("LOGINDISABLED");
        }
    }

    @Test
    void aClientThatGoesAwayBeforeLoginEndsItsSession() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("close"))) {
            client.line();
            assertThat(postern.sessions()).isEqualTo(1);
            client.shutdownOutput();
            assertThat(client.rest()).isEmpty();
        }
        // well before the pre-auth timeout (60 s on this listener)
        Await.until("the session is gone", Duration.ofSeconds(5), () -> postern.sessions() == 0);
    }

    @Test
    void preAuthTimeoutSaysAutologoutAndCloses() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("hurry"))) {
            assertThat(client.line()).startsWith("* OK [CAPABILITY ");
            // the read blocks until Postern speaks; no sleeping here
            assertThat(client.rest()).isEqualTo("* BYE Autologout; idle for too long\r\n");
        }
        Await.until("the session is gone", Duration.ofSeconds(5), () -> postern.sessions() == 0);
    }
}
