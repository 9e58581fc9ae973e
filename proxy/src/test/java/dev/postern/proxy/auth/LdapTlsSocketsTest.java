package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.testkit.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The directory's TLS sockets check the certificate against the configured host in the handshake, for LDAPS (a
 * connected socket) and StartTLS (TLS over the SDK's plain socket), against a JDK TLS server on the loopback whose
 * certificate names {@code localhost} only. LdapTlsIT does the same against a real slapd.
 */
class LdapTlsSocketsTest {
    private final TestCertificates ca = TestCertificates.newAuthority();
    private final SSLContext trustsCa = ca.clientSslContext();
    private SSLServerSocket server;
    private Thread acceptor;

    @BeforeEach
    void serve() throws Exception {
        SSLContext context = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                .serverSslContext();
        server = (SSLServerSocket)
                context.getServerSocketFactory().createServerSocket(0, 8, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.startHandshake();
                    s.getOutputStream().write('x');
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // the client refused the certificate, or the server closed
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        acceptor.join(5_000);
    }

    private int read(Socket socket) throws IOException {
        try (socket) {
            ((SSLSocket) socket).startHandshake();
            return socket.getInputStream().read();
        }
    }

    private Socket ldaps(String host, boolean verify) throws IOException {
        return LdapTlsSockets.forServer(trustsCa, host, verify, 2_000)
                .createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    @Test
    void ldapsToTheNameInTheCertificateIsServed() throws Exception {
        assertThat(read(ldaps("localhost", true))).isEqualTo('x');
    }

    @Test
    void ldapsToALoopbackAddressTheCertificateDoesNotNameFailsTheHandshake() {
        assertThatThrownBy(() -> read(ldaps("127.0.0.1", true))).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void startTlsChecksTheConfiguredHostNotTheOneTheCallerPasses() throws Exception {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2_000);
        Socket tls = LdapTlsSockets.forServer(trustsCa, "127.0.0.1", true, 2_000)
                .createSocket(plain, "localhost", server.getLocalPort(), true);

        assertThatThrownBy(() -> read(tls)).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void withoutVerificationAnyNameIsServed() throws Exception {
        assertThat(read(ldaps("127.0.0.1", false))).isEqualTo('x');
    }

    @Test
    void theSdkGetsNoUnconnectedSocketSoTheNameCannotComeFromTheResolver() {
        assertThatThrownBy(() -> LdapTlsSockets.forServer(trustsCa, "localhost", true, 2_000)
                        .createSocket())
                .isInstanceOf(IOException.class);
    }
}
