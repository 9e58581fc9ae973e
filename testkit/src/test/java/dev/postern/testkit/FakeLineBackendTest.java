package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The kit's fake backend and line clients against each other, over loopback sockets. */
class FakeLineBackendTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void answersByVerbUpgradesToTlsOnStartTlsAndRecordsEveryLine() {
        try (FakeLineBackend smtp = FakeLineBackend.builder()
                        .greeting("220 fake ESMTP")
                        .on("EHLO", (c, line) -> {
                            if (c.isTls()) {
                                c.send("250 fake");
                            } else {
                                c.send("250-fake", "250 STARTTLS");
                            }
                        })
                        .on("STARTTLS", (c, line) -> {
                            c.send("220 go");
                            c.startTls();
                        })
                        .on("QUIT", (c, line) -> c.sendAndClose("221 bye"))
                        .otherwise("500 what")
                        .start();
                SmtpTestClient client = SmtpTestClient.connect(smtp.port())) {
            assertThat(client.replyLine()).isEqualTo("220 fake ESMTP");
            assertThat(client.command("EHLO me")).containsExactly("250-fake", "250 STARTTLS");
            assertThat(client.command("starttls")).containsExactly("220 go");
            client.startTls(TestTls.localhost().clientContext());
            assertThat(client.isTls()).isTrue();
            assertThat(client.command("EHLO me")).containsExactly("250 fake");
            assertThat(client.command("NOOP")).containsExactly("500 what");
            assertThat(client.command("QUIT")).containsExactly("221 bye");
            assertThat(client.closedByServer()).isTrue();

            Await.until(
                    "the server is done", WAIT, () -> smtp.connections().get(0).closed());
            assertThat(smtp.received()).containsExactly("EHLO me", "starttls", "EHLO me", "NOOP", "QUIT");
            assertThat(smtp.connections().get(0).lines()).isEqualTo(smtp.received());
            assertThat(smtp.connectionCount()).isEqualTo(1);
            assertThat(smtp.failure()).isNull();
        }
    }

    @Test
    void tagsImapRepliesAndTheClientTagsItsCommands() {
        try (FakeLineBackend imap = FakeLineBackend.builder()
                        .tagged()
                        .greeting("* OK fake ready")
                        .on("CAPABILITY", FakeLineBackend.tagged("* CAPABILITY IMAP4rev1", "OK done"))
                        .on("LOGOUT", (c, line) -> c.sendAndClose("* BYE", c.tagOf(line) + " OK bye"))
                        .start();
                ImapTestClient client = ImapTestClient.connect(imap.port())) {
            assertThat(client.command("CAPABILITY")).isEqualTo("OK done");
            assertThat(client.greeting()).isEqualTo("* OK fake ready");
            client.write("a2 CAPABILITY\r\n");
            assertThat(client.until("a2")).containsExactly("* CAPABILITY IMAP4rev1", "a2 OK done");
            assertThat(client.command("LOGOUT")).isEqualTo("OK bye");
            assertThat(client.command("NOOP")).as("the session is gone").isNull();
        }
    }

    @Test
    void pop3ListsEndAtTheDot() {
        try (FakeLineBackend pop3 = FakeLineBackend.builder()
                        .greeting("+OK ready")
                        .on("CAPA", "+OK", "USER", "SASL PLAIN", ".")
                        .start();
                Pop3TestClient client = Pop3TestClient.connect(pop3.port())) {
            assertThat(client.readLine()).isEqualTo("+OK ready");
            assertThat(client.command("CAPA")).isEqualTo("+OK");
            assertThat(client.readList()).containsExactly("USER", "SASL PLAIN");
        }
    }

    @Test
    void readsAProxyHeaderBeforeImplicitTls() throws Exception {
        try (FakeLineBackend backend = FakeLineBackend.builder()
                .proxyHeader()
                .implicitTls()
                .greeting("+OK secure")
                .start()) {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), backend.port());
            OutputStream out = socket.getOutputStream();
            // PROXY v2, PROXY command, TCP over IPv4, 12 address bytes: 127.0.0.1:25 -> 127.0.0.2:110
            out.write(new byte[] {
                0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C, 127, 0,
                0, 1, 127, 0, 0, 2, 0, 25, 0, 110
            });
            out.flush();
            try (LineClient client = new LineClient(socket)) {
                client.startTls(TestTls.localhost().clientContext());
                assertThat(client.readLine()).isEqualTo("+OK secure");
            }
            byte[] header = Await.value(
                    "the header",
                    WAIT,
                    () -> backend.proxyHeaders().isEmpty()
                            ? null
                            : backend.proxyHeaders().get(0));
            assertThat(header).hasSize(28);
            assertThat(backend.connections().get(0).proxyHeader()).isEqualTo(header);
        }
    }

    @Test
    void aScriptThatThrowsIsTheFailureAndResetForgetsIt() {
        try (FakeLineBackend backend = FakeLineBackend.start(c -> {
                    c.send("hello");
                    assertThat(c.line()).isEqualTo("expected");
                });
                LineClient client = LineClient.connect(backend.port())) {
            assertThat(client.readLine()).isEqualTo("hello");
            client.send("something else");
            assertThat(client.rest()).isEmpty();
            Await.until("the script failed", WAIT, () -> backend.failure() != null);
            assertThat(backend.failure()).isInstanceOf(AssertionError.class);

            backend.script(c -> c.sendAndClose("second"));
            backend.reset();
            assertThat(backend.failure()).isNull();
            assertThat(backend.received()).isEmpty();
            assertThat(backend.connectionCount()).isZero();
            try (LineClient second = LineClient.connect(backend.port())) {
                assertThat(second.readLine()).isEqualTo("second");
                assertThat(second.readLine()).isNull();
            }
        }
    }
}
