package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Unauthenticated clients cannot hold a connection open or make the server buffer much. */
class HandshakeLimitsTest {
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

    private static EventLoopGroup group;
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static CertificateConfig certificate;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        certificate = TlsTesting.certificate(ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test")
                .write(dir, "mail", KeyFormat.PKCS8, null));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    private static TlsManager tls(Provider provider) throws TlsSetupException {
        return TlsManager.create(TlsTesting.config(provider, certificate), SHORT_TIMEOUT);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void aClientThatSendsNothingIsClosedAfterTheHandshakeTimeout(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, tls(provider));
                Socket socket = plainSocket(server.port())) {
            assertClosedByServer(socket);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void aClientThatStopsAfterTheClientHelloIsClosedAfterTheHandshakeTimeout(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, tls(provider));
                Socket socket = plainSocket(server.port())) {
            socket.getOutputStream().write(clientHello("mail.example.test"));
            socket.getOutputStream().flush();

            // The server answers (ServerHello ...) and then waits for a client that never finishes.
            assertClosedByServer(socket);
            assertThat(server.nextHandshake(TlsTesting.WAIT).failure()).isNotNull();
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void anOversizedClientHelloIsRefusedBeforeItIsBuffered(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, tls(provider));
                Socket socket = plainSocket(server.port())) {
            int length = TlsManager.MAX_CLIENT_HELLO_LENGTH + 1;
            // Record header (handshake, TLS 1.0, 4 bytes), then handshake header (ClientHello, length).
            byte[] header = {
                0x16, 0x03, 0x01, 0x00, 0x04, 0x01, (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
            };
            socket.getOutputStream().write(header);
            socket.getOutputStream().flush();

            assertClosedByServer(socket);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void plainTextOnATlsPortIsRefused(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, tls(provider));
                Socket socket = plainSocket(server.port())) {
            socket.getOutputStream().write("a1 LOGIN user password\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();

            assertClosedByServer(socket);
        }
    }

    private static Socket plainSocket(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TlsClients.TIMEOUT_MILLIS);
        socket.setSoTimeout(TlsClients.TIMEOUT_MILLIS);
        return socket;
    }

    /** Reads until the server closes; fails if it does not within the socket's read timeout. */
    private static void assertClosedByServer(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        try {
            while (in.read(buffer) >= 0) {
                // Whatever the server sends first (ServerHello, an alert) is not the point.
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection", e);
        } catch (SocketException e) {
            // Reset by the server: closed too.
        }
    }

    /** The first flight of a JDK client, as bytes. */
    private static byte[] clientHello(String sni) throws Exception {
        SSLEngine engine = ca.clientSslContext().createSSLEngine(sni, 993);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
        assertThat(result.bytesProduced()).isPositive();
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }
}
