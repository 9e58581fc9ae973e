package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.proxy.tls.TlsTestServer.ServerHandshake;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Real handshakes against four certificates: the SNI name picks one, anything else gets the default. */
class SniSelectionTest {
    private static EventLoopGroup group;
    private static SSLContext client;
    private static final Map<Provider, TlsManager> managers = new EnumMap<>(Provider.class);
    private static final Map<Provider, TlsTestServer> servers = new EnumMap<>(Provider.class);

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        group = TlsTesting.newGroup();
        TestCertificates ca = TestCertificates.newAuthority();
        client = ca.clientSslContext();
        // Names from the SANs.
        CertificateConfig mail =
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test")
                        .write(dir, "mail", KeyFormat.PKCS8, null));
        // A wildcard SAN.
        CertificateConfig wildcard =
                TlsTesting.certificate(ca.issue(KeyType.RSA_2048, "wildcard.example.test", "*.example.test")
                        .write(dir, "wildcard", KeyFormat.TRADITIONAL, null));
        // No SANs: the CN.
        CertificateConfig legacy = TlsTesting.certificate(
                ca.issue(KeyType.EC_P256, "legacy.example.test").write(dir, "legacy", KeyFormat.TRADITIONAL, null));
        // Names from the config, not the certificate; and the default.
        CertificateConfig fallback = TlsTesting.withSni(
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, "fallback.example.org", "fallback.example.org")
                        .write(dir, "fallback", KeyFormat.PKCS8, null)),
                List.of("Other.Example.ORG"),
                true);
        for (Provider provider : List.of(Provider.OPENSSL, Provider.JDK)) {
            TlsManager tls = TlsManager.create(
                    TlsTesting.config(provider, mail, wildcard, legacy, fallback), TlsTesting.HANDSHAKE_TIMEOUT);
            managers.put(provider, tls);
            servers.put(provider, TlsTestServer.start(group, tls));
        }
    }

    @AfterAll
    static void stop() {
        for (TlsTestServer server : servers.values()) {
            server.close();
        }
        TlsTesting.shutdown(group);
    }

    static Stream<Arguments> names() {
        return Stream.of(Provider.OPENSSL, Provider.JDK).flatMap(provider -> Stream.of(
                        new String[] {"mail.example.test", "mail.example.test"},
                        new String[] {"MAIL.Example.Test", "mail.example.test"},
                        new String[] {"imap.example.test", "wildcard.example.test"},
                        new String[] {"SMTP.EXAMPLE.TEST", "wildcard.example.test"},
                        new String[] {"a.b.example.test", "fallback.example.org"},
                        new String[] {"example.test", "fallback.example.org"},
                        new String[] {"legacy.example.test", "legacy.example.test"},
                        new String[] {"other.example.org", "fallback.example.org"},
                        new String[] {"unknown.test", "fallback.example.org"},
                        new String[] {null, "fallback.example.org"})
                .map(pair -> Arguments.of(provider, pair[0], pair[1])));
    }

    @ParameterizedTest(name = "{0}: {1} -> {2}")
    @MethodSource("names")
    void theSniNamePicksTheCertificate(Provider provider, String sni, String expectedCommonName) throws Exception {
        TlsTestServer server = servers.get(provider);
        try (SSLSocket socket = TlsClients.connect(client, server.port(), sni)) {
            TlsClients.assertEchoes(socket, "* OK");

            assertThat(TlsClients.peerCommonName(socket)).isEqualTo(expectedCommonName);
            ServerHandshake handshake = server.nextHandshake(TlsTesting.WAIT);
            assertThat(handshake.sniHostname()).isEqualTo(sni == null ? null : sni.toLowerCase(Locale.ROOT));
        }
    }

    @Test
    void certificatesReportTheirNames() {
        assertThat(managers.get(Provider.JDK).certificates())
                .extracting(CertificateInfo::name, CertificateInfo::sniNames, CertificateInfo::isDefault)
                .containsExactly(
                        tuple("mail", List.of("mail.example.test"), false),
                        tuple("wildcard", List.of("*.example.test"), false),
                        tuple("legacy", List.of("legacy.example.test"), false),
                        tuple("fallback", List.of("other.example.org"), true));
    }
}
