package dev.postern.proxy.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.transport.ProxyProtocolV2;
import dev.postern.testkit.Await;
import dev.postern.testkit.ImapTestClient;
import dev.postern.testkit.TestCertificates;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The IMAP front end behind a PROXY protocol balancer, over real sockets, in each listener mode: plain (v1), implicit
 * TLS (v2 before the ClientHello), STARTTLS (optional: with and without a header), and a listener that does not
 * trust this machine. The session's client is the header's, from the greeting on.
 */
class ImapProxyProtocolTest {
    @TempDir
    static Path dir;

    static PosternHarness postern;
    static SSLContext clientTls;
    static final List<String> refusals = new CopyOnWriteArrayList<>();

    private static final String V1 = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 143\r\n";

    @BeforeAll
    static void start() throws Exception {
        TestCertificates ca = TestCertificates.newAuthority();
        ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .write(dir, "mail", TestCertificates.KeyFormat.PKCS8, null);
        clientTls = ca.clientSslContext();
        Metrics metrics = new Metrics() {
            @Override
            public void connectionRefused(ListenerConfig listener, String reason) {
                refusals.add(listener.name() + " " + reason);
            }
        };
        postern = PosternHarness.start(
                """
                listeners:
                  - name: plain
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    proxy-protocol: {mode: required, trusted: [127.0.0.0/8]}
                  - name: implicit
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: implicit
                    proxy-protocol: {mode: required, trusted: [127.0.0.0/8]}
                  - name: starttls
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    tls: starttls
                    proxy-protocol: {mode: optional, trusted: [127.0.0.0/8], timeout: 300ms}
                  - name: elsewhere
                    protocol: imap
                    bind: "127.0.0.1:%d"
                    proxy-protocol: {mode: required, trusted: [10.0.0.0/8]}
                tls:
                  certificates:
                    - {name: mail, cert: mail-chain.pem, key: mail-key.pem, default: true}
                """
                        .formatted(FreePorts.next(), FreePorts.next(), FreePorts.next(), FreePorts.next()),
                dir,
                metrics);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    @AfterEach
    void sessionsEnd() {
        postern.awaitNoSessions();
        refusals.clear();
    }

    private static Session onlySession() {
        Await.until("one session", Duration.ofSeconds(5), () -> postern.sessions() == 1);
        return postern.postern().services().sessions().sessions().iterator().next();
    }

    @Test
    void plainListenerGreetsAfterAV1HeaderAndKnowsTheClientFromIt() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("plain"))) {
            // header and first command in one write: the command is the protocol's, not the header's
            client.write(V1 + "a CAPABILITY\r\n");
            assertThat(client.line()).startsWith("* OK [CAPABILITY IMAP4rev1");
            assertThat(client.until("a")).last().isEqualTo("a OK CAPABILITY completed");
            Session s = onlySession();
            assertThat(s.clientAddress()).isEqualTo(new InetSocketAddress("203.0.113.7", 51000));
            assertThat(s.localAddress()).isEqualTo(new InetSocketAddress("198.51.100.1", 143));
            assertThat(s.proxiedBy().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            client.write("b LOGOUT\r\n");
            assertThat(client.until("b")).last().isEqualTo("b OK LOGOUT completed");
        }
        assertThat(refusals).isEmpty();
    }

    @Test
    void implicitTlsListenerReadsTheV2HeaderBeforeTheHandshake() throws Exception {
        ByteBuf header = ProxyProtocolV2.encode(
                UnpooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("2001:db8::7", 51000),
                new InetSocketAddress("2001:db8::1", 993),
                "TLSv1.2",
                "ECDHE-RSA-AES128-GCM-SHA256");
        String bytes = new String(ByteBufUtil.getBytes(header), StandardCharsets.ISO_8859_1);
        header.release();
        try (ImapTestClient client = ImapTestClient.connect(postern.port("implicit"))) {
            client.writeBytes(bytes.getBytes(StandardCharsets.ISO_8859_1));
            client.startTls(clientTls);
            assertThat(client.line()).startsWith("* OK [CAPABILITY IMAP4rev1");
            Session s = onlySession();
            assertThat(s.clientAddress()).isEqualTo(new InetSocketAddress("2001:db8::7", 51000));
            assertThat(s.proxiedTls()).isEqualTo("TLSv1.2");
            assertThat(s.tlsProtocol()).as("Postern's own TLS").isEqualTo("TLSv1.3");
            client.write("a LOGOUT\r\n");
            assertThat(client.until("a")).last().isEqualTo("a OK LOGOUT completed");
        }
    }

    @Test
    void optionalStartTlsListenerTakesAHeaderOrNone() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("starttls"))) {
            client.write(V1);
            assertThat(client.line()).contains("STARTTLS");
            assertThat(onlySession().clientAddress()).isEqualTo(new InetSocketAddress("203.0.113.7", 51000));
            client.write("a STARTTLS\r\n");
            assertThat(client.line()).isEqualTo("a OK Begin TLS negotiation now");
            client.startTls(clientTls);
            client.write("b LOGOUT\r\n");
            assertThat(client.until("b")).last().isEqualTo("b OK LOGOUT completed");
        }
        postern.awaitNoSessions();
        try (ImapTestClient client = ImapTestClient.connect(postern.port("starttls"))) {
            // no header: the greeting comes once the timeout (300 ms) says none is coming
            assertThat(client.line()).contains("STARTTLS");
            assertThat(onlySession().clientAddress().getAddress().getHostAddress())
                    .isEqualTo("127.0.0.1");
            client.write("a LOGOUT\r\n");
            assertThat(client.until("a")).last().isEqualTo("a OK LOGOUT completed");
        }
        assertThat(refusals).isEmpty();
    }

    @Test
    void aListenerThatDoesNotTrustThisMachineClosesWithoutAGreeting() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("elsewhere"))) {
            try {
                client.write(V1 + "a CAPABILITY\r\n");
                assertThat(client.rest()).isEmpty();
            } catch (UncheckedIOException e) {
                // refused at accept, before these bytes came: the kernel answers them with a reset
                assertThat(e.getCause()).isInstanceOf(SocketException.class);
                assertThat(e.getCause().getMessage()).containsIgnoringCase("reset");
            }
        }
        Await.until("a refusal", Duration.ofSeconds(5), () -> !refusals.isEmpty());
        assertThat(refusals).containsExactly("elsewhere proxy-untrusted");
    }

    @Test
    void aRequiredHeaderThatIsMissingOrBrokenClosesWithoutAGreeting() throws Exception {
        try (ImapTestClient client = ImapTestClient.connect(postern.port("plain"))) {
            client.write("a CAPABILITY\r\n");
            assertThat(client.rest()).isEmpty();
        }
        try (ImapTestClient client = ImapTestClient.connect(postern.port("plain"))) {
            client.write("PROXY TCP4 203.0.113.7 198.51.100.1 51000\r\n");
            assertThat(client.rest()).isEmpty();
        }
        Await.until("two refusals", Duration.ofSeconds(5), () -> refusals.size() == 2);
        assertThat(refusals).containsExactly("plain proxy-missing", "plain proxy-malformed");
    }
}
