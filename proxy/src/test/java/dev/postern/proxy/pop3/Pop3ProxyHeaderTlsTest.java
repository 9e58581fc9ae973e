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
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend that wants a PROXY v2 header and implicit TLS (haproxy in front of a POP3S server): the header must go
 * out in clear text before the ClientHello, and carry the client's real address.
 */
class Pop3ProxyHeaderTlsTest {
    @TempDir
    Path dir;

    @Test
    void theProxyHeaderPrecedesTheTlsHandshake() throws Exception {
        try (FakeLineBackend backend = headerThenTlsBackend();
                PosternHarness postern = PosternHarness.start(
                        """
                        listeners:
                          - {name: pop3, protocol: pop3, bind: "127.0.0.1:%d", pool: p, allow-plaintext-auth: true}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:%d", tls: implicit, tls-verify: false,
                             identity: proxy-v2}]}
                        """
                                .formatted(FreePorts.next(), backend.port()),
                        dir);
                Pop3TestClient client = Pop3TestClient.connect(postern.port("pop3"))) {
            client.readLine();
            assertThat(client.command("USER alice@example.test")).isEqualTo("+OK");
            assertThat(client.command("PASS alice-pw")).isEqualTo("+OK welcome");
            assertThat(client.command("QUIT")).isEqualTo("+OK bye");
            FakeLineBackend.Connection login =
                    Await.value("the login connection", Duration.ofSeconds(10), () -> backend.connections().stream()
                            .filter(c -> c.lines().contains("QUIT")
                                    && c.lines().stream().anyMatch(l -> l.startsWith("AUTH")))
                            .findFirst()
                            .orElse(null));
            // PROXY v2, PROXY command, TCP over IPv4, source 127.0.0.1
            byte[] header = login.proxyHeader();
            assertThat(header[12]).isEqualTo((byte) 0x21);
            assertThat(header[13]).isEqualTo((byte) 0x11);
            assertThat(Arrays.copyOfRange(header, 16, 20)).containsExactly(127, 0, 0, 1);
            assertThat(login.lines().get(0)).isEqualTo("CAPA");
        }
    }

    /**
     * Reads a PROXY v2 header in clear text (a connection without one fails the backend's script), then does TLS
     * and a minimal POP3 login.
     */
    private static FakeLineBackend headerThenTlsBackend() {
        return FakeLineBackend.builder()
                .tls(TestTls.localhost().serverContext())
                .proxyHeader()
                .implicitTls()
                .greeting("+OK ready")
                .on("CAPA", "+OK", "USER", "SASL PLAIN", ".")
                .on("AUTH", (c, line) -> c.send(line.startsWith("AUTH PLAIN ") ? "+OK welcome" : "-ERR what"))
                .on("QUIT", (c, line) -> c.sendAndClose("+OK bye"))
                .otherwise("-ERR what")
                .start();
    }
}
