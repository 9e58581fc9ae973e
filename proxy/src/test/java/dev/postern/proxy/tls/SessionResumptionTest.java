package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.proxy.testing.TestCertificates;
import dev.postern.proxy.testing.TestCertificates.KeyFormat;
import dev.postern.proxy.testing.TestCertificates.KeyType;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A returning client resumes its TLS 1.2 session instead of a full handshake, with either provider. */
@ExtendWith(NettyLeakCheck.class)
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
        certificate = ca.issue(KeyType.EC_P256, HOST, HOST).write(dir, "mail", KeyFormat.PKCS8, null);
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void aReturningTls12ClientResumesItsSession(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        SSLContext client = ca.clientSslContext();

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            SSLSession first;
            try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST, "TLSv1.2")) {
                TlsClients.assertEchoes(socket, "first");
                first = socket.getSession();
            }
            try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST, "TLSv1.2")) {
                TlsClients.assertEchoes(socket, "second");
                SSLSession second = socket.getSession();

                assertThat(second.getId()).isNotEmpty().isEqualTo(first.getId());
                assertThat(second.getCreationTime()).isEqualTo(first.getCreationTime());
            }
            // A new client has no session to offer: a full handshake, a new session.
            try (SSLSocket socket = TlsClients.connect(ca.clientSslContext(), server.port(), HOST, "TLSv1.2")) {
                assertThat(socket.getSession().getId()).isNotEqualTo(first.getId());
            }
        }
    }
}
