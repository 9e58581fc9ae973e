package dev.postern.proxy.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.testkit.Await;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.Pop3TestClient;
import dev.postern.testkit.TestTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STLS done right on both sides, with a real Postern on loopback: nothing a client pipelines after STLS is ever
 * executed, nothing a backend sends after its STLS go-ahead is ever believed, and TLS changes what CAPA offers.
 */
class Pop3StartTlsTest {
    @TempDir
    Path dir;

    private PosternHarness start(TestTls tls, String listener, int backendPort, String backendOptions) {
        String yaml =
                """
                listeners:
                  - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", pool: p, %s}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:%d", %s}]}
                """
                                .formatted(FreePorts.next(), listener, backendPort, backendOptions)
                        + PosternHarness.tlsYaml(tls.write(dir));
        return PosternHarness.start(yaml, dir);
    }

    @Test
    void commandsPipelinedAfterStlsAreDroppedWhenThePolicySaysDiscard() {
        TestTls tls = TestTls.localhost();
        try (PosternHarness postern =
                        start(tls, "tls: starttls, starttls-pipelining: discard", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            assertThat(client.readLine()).isEqualTo("+OK Postern ready");
            client.write("STLS\r\nUSER alice@example.test\r\n");
            assertThat(client.readLine()).isEqualTo("+OK Begin TLS negotiation now.");
            client.startTls(tls.clientContext());
            // the first answer over TLS is CAPA's: USER was never seen
            assertThat(client.command("CAPA")).isEqualTo("+OK Capability list follows");
            assertThat(client.readList()).contains("USER");
            assertThat(client.command("PASS alice-pw")).startsWith("-ERR No user name given");
        }
    }

    @Test
    void commandsPipelinedAfterStlsCloseTheConnectionByDefault() {
        TestTls tls = TestTls.localhost();
        try (PosternHarness postern = start(tls, "tls: starttls", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            assertThat(client.readLine()).isEqualTo("+OK Postern ready");
            client.write("STLS\r\nUSER alice@example.test\r\n");
            // neither the go-ahead nor an answer to USER: the connection just ends
            assertThat(client.readLine()).isNull();
            postern.awaitNoSessions();
        }
    }

    @Test
    void tlsChangesWhatCapaOffersAndASecondStlsIsRefused() {
        TestTls tls = TestTls.localhost();
        try (PosternHarness postern = start(tls, "tls: starttls", FreePorts.closed(), "");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("CAPA")).startsWith("+OK");
            assertThat(client.readList())
                    .contains("STLS")
                    .doesNotContain("USER")
                    .noneMatch(l -> l.startsWith("SASL"));
            assertThat(client.command("USER alice@example.test")).startsWith("-ERR [SYS/PERM]");
            assertThat(client.command("STLS")).startsWith("+OK");
            client.startTls(tls.clientContext());
            assertThat(client.command("CAPA")).startsWith("+OK");
            assertThat(client.readList())
                    .contains("USER", "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER", "IMPLEMENTATION Postern")
                    .doesNotContain("STLS");
            assertThat(client.command("STLS")).startsWith("-ERR");
        }
    }

    @Test
    void bytesABackendSendsAfterItsStlsGoAheadAreDropped() throws Exception {
        TestTls tls = TestTls.localhost();
        try (FakeLineBackend backend = injectingBackend(tls);
                PosternHarness postern =
                        start(tls, "allow-plaintext-auth: true", backend.port(), "tls: starttls, tls-verify: false");
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("USER alice@example.test")).isEqualTo("+OK");
            assertThat(client.command("PASS alice-pw")).isEqualTo("+OK fake logged in");
            assertThat(client.command("STAT")).isEqualTo("+OK 0 0");
            assertThat(client.command("QUIT")).isEqualTo("+OK bye");
            // what Postern said on the login connection: STLS, then over TLS CAPA first, the injected +OK
            // answered nothing
            List<String> login =
                    Await.value("the login connection", Duration.ofSeconds(10), () -> backend.connections().stream()
                            .map(FakeLineBackend.Connection::lines)
                            .filter(lines -> lines.contains("STAT") && lines.contains("QUIT"))
                            .findFirst()
                            .orElse(null));
            assertThat(login)
                    .containsExactly("STLS", "CAPA", "USER alice@example.test", "PASS alice-pw", "STAT", "QUIT");
        }
    }

    /**
     * A POP3 backend that answers STLS with its go-ahead and a forged "+OK injected" in the same write, then does
     * TLS and answers a login. A connection that does not start with STLS is closed unanswered.
     */
    private static FakeLineBackend injectingBackend(TestTls tls) {
        return FakeLineBackend.builder()
                .tls(tls.serverContext())
                .script(c -> {
                    c.send("+OK fake ready");
                    if (!"STLS".equals(c.line())) {
                        return;
                    }
                    c.write("+OK\r\n+OK injected\r\n");
                    c.startTls();
                    String line;
                    while ((line = c.line()) != null) {
                        if (line.equals("CAPA")) {
                            c.send("+OK", "TOP", "USER", ".");
                        } else if (line.startsWith("USER ")) {
                            c.send("+OK");
                        } else if (line.startsWith("PASS ")) {
                            c.send("+OK fake logged in");
                        } else if (line.equals("STAT")) {
                            c.send("+OK 0 0");
                        } else if (line.equals("QUIT")) {
                            c.sendAndClose("+OK bye");
                            return;
                        } else {
                            c.send("-ERR what");
                        }
                    }
                })
                .start();
    }
}
