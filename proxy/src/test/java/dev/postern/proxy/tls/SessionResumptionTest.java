package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A returning client resumes its session instead of a full handshake, with either provider. The JDK client shows it
 * by keeping the session's creation time (and, in TLS 1.2, its id; a resumed TLS 1.3 session gets a new one).
 */
class SessionResumptionTest {
    private static final String HOST = "mail.example.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static CertificateConfig certificate;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        certificate =
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, HOST, HOST).write(dir, "mail", KeyFormat.PKCS8, null));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    static Stream<Arguments> providersAndProtocols() {
        return Stream.of(Provider.OPENSSL, Provider.JDK)
                .flatMap(provider -> Stream.of("TLSv1.2", "TLSv1.3").map(protocol -> Arguments.of(provider, protocol)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("providersAndProtocols")
    void aReturningClientResumesItsSession(Provider provider, String protocol) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        SSLContext client = ca.clientSslContext();

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            SSLSession first;
            try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST, protocol)) {
                // Reading the echo also takes in a TLS 1.3 server's NewSessionTicket, sent after the handshake.
                TlsClients.assertEchoes(socket, "first");
                first = socket.getSession();
            }
            try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST, protocol)) {
                TlsClients.assertEchoes(socket, "second");
                SSLSession second = socket.getSession();

                assertThat(second.getProtocol()).isEqualTo(protocol);
                assertThat(second.getCreationTime()).as("creation time").isEqualTo(first.getCreationTime());
                if (protocol.equals("TLSv1.2")) {
                    assertThat(second.getId()).isNotEmpty().isEqualTo(first.getId());
                }
            }
            // A new client has no session to offer: a full handshake, a new session.
            try (SSLSocket socket = TlsClients.connect(ca.clientSslContext(), server.port(), HOST, protocol)) {
                TlsClients.assertEchoes(socket, "third");
                assertThat(socket.getSession().getCreationTime()).isNotEqualTo(first.getCreationTime());
            }
        }
    }
}
