package dev.postern.proxy.tls;

import static dev.postern.proxy.tls.TlsTesting.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.proxy.tls.TlsTestServer.ServerHandshake;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Real handshakes against a Netty server: every key format, both key types, both providers, TLS 1.2 and 1.3. */
class TlsHandshakeTest {
    private static final String PASSWORD = "s3cret pass";
    private static final String HOST = "mail.example.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;
    private static Map<KeyType, Leaf> leaves;
    private static SSLContext client;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        leaves = Map.of(
                KeyType.RSA_2048, ca.issue(KeyType.RSA_2048, HOST, HOST),
                KeyType.EC_P256, ca.issue(KeyType.EC_P256, HOST, HOST));
        client = ca.clientSslContext();
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    static Stream<Arguments> everyProviderKeyTypeAndFormat() {
        return Stream.of(Provider.OPENSSL, Provider.JDK).flatMap(provider -> Stream.of(KeyType.values())
                .flatMap(type -> TestCertificates.formatsFor(type).stream()
                        .map(format -> Arguments.of(provider, type, format))));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyProviderKeyTypeAndFormat")
    void servesEveryKeyFormat(Provider provider, KeyType type, KeyFormat format) throws Exception {
        Leaf leaf = leaves.get(type);
        CertificateConfig certificate = TlsTesting.certificate(leaf.write(dir, "mail", format, PASSWORD));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
        assertThat(tls.provider()).isEqualTo(provider);

        try (TlsTestServer server = TlsTestServer.start(group, tls);
                SSLSocket socket = TlsClients.connect(client, server.port(), HOST)) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");

            assertThat(TlsClients.peerChain(socket)).as("leaf and intermediate").hasSize(2);
            assertThat(TlsClients.peerLeaf(socket)).isEqualTo(leaf.certificate());
            assertThat(TlsClients.peerChain(socket)[1]).isEqualTo(ca.caCertificate());
            ServerHandshake handshake = server.nextHandshake(WAIT);
            assertThat(handshake.failure()).isNull();
            assertThat(handshake.pipelineHasSslHandler()).isTrue();
            assertThat(handshake.sniHostname()).isEqualTo(HOST);
            assertThat(handshake.protocol()).isEqualTo("TLSv1.3");
        }
    }

    static Stream<Arguments> everyProviderKeyTypeAndProtocol() {
        return Stream.of(Provider.OPENSSL, Provider.JDK).flatMap(provider -> Stream.of(KeyType.values())
                .flatMap(type -> Stream.of("TLSv1.2", "TLSv1.3").map(p -> Arguments.of(provider, type, p))));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyProviderKeyTypeAndProtocol")
    void negotiatesTls12AndTls13(Provider provider, KeyType type, String protocol) throws Exception {
        CertificateConfig certificate =
                TlsTesting.certificate(leaves.get(type).write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);

        try (TlsTestServer server = TlsTestServer.start(group, tls);
                SSLSocket socket = TlsClients.connect(client, server.port(), HOST, protocol)) {
            TlsClients.assertEchoes(socket, "hello");

            assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
            String cipher = socket.getSession().getCipherSuite();
            if (protocol.equals("TLSv1.2")) {
                assertThat(TlsConfig.DEFAULT_CIPHERS).contains(cipher);
                assertThat(cipher).contains(type == KeyType.RSA_2048 ? "_RSA_" : "_ECDSA_");
            } else {
                assertThat(cipher)
                        .isIn("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
            }
            ServerHandshake handshake = server.nextHandshake(WAIT);
            assertThat(handshake.protocol()).isEqualTo(protocol);
            assertThat(handshake.cipherSuite()).isEqualTo(cipher);
        }
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void logsTheProviderOnceAtInfo(Provider provider) throws Exception {
        CertificateConfig certificate =
                TlsTesting.certificate(leaves.get(KeyType.EC_P256).write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls;
        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(TlsManager.class)) {
            tls = TlsManager.create(TlsTesting.config(provider, certificate), TlsTesting.HANDSHAKE_TIMEOUT);
            tls.reload();

            assertThat(log.messages(Level.INFO))
                    .filteredOn(message -> message.startsWith("TLS provider: "))
                    .containsExactly("TLS provider: " + tls.providerDescription());
        }
        // BoringSSL loads here, so AUTO picks it.
        Provider expected = provider == Provider.JDK ? Provider.JDK : Provider.OPENSSL;
        assertThat(tls.provider()).isEqualTo(expected);
        assertThat(tls.providerDescription())
                .startsWith(expected == Provider.JDK ? "JDK (SunJSSE" : "OpenSSL (BoringSSL");
        assertThat(tls.certificates()).singleElement().satisfies(info -> {
            assertThat(info.provider()).isEqualTo(expected);
            assertThat(info.name()).isEqualTo("mail");
            assertThat(info.subject()).isEqualTo("CN=" + HOST + ",O=Postern tests");
            assertThat(info.dnsNames()).containsExactly(HOST);
            assertThat(info.sniNames()).containsExactly(HOST);
            assertThat(info.isDefault()).isTrue();
            assertThat(info.generated()).isFalse();
            assertThat(info.notAfter())
                    .isEqualTo(leaves.get(KeyType.EC_P256)
                            .certificate()
                            .getNotAfter()
                            .toInstant());
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void aTls13OnlyServerRefusesTls12(Provider provider) throws Exception {
        CertificateConfig certificate =
                TlsTesting.certificate(leaves.get(KeyType.RSA_2048).write(dir, "mail", KeyFormat.PKCS8, null));
        TlsConfig config = new TlsConfig(
                provider,
                List.of("TLSv1.3"),
                TlsConfig.DEFAULT_CIPHERS,
                List.of(certificate),
                100,
                Duration.ofMinutes(1));
        TlsManager tls = TlsManager.create(config, TlsTesting.HANDSHAKE_TIMEOUT);

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST)) {
                TlsClients.assertEchoes(socket, "1.3");
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
            }
            assertThatThrownBy(() -> TlsClients.connect(client, server.port(), HOST, "TLSv1.2"))
                    .isInstanceOf(SSLException.class);
        }
    }

    @Test
    void theCertificateFileMayAlsoHoldTheKey() throws Exception {
        Leaf leaf = leaves.get(KeyType.RSA_2048);
        Path both = dir.resolve("both.pem");
        Files.writeString(
                both,
                Files.readString(leaf.writeKey(dir.resolve("k.pem"), KeyFormat.TRADITIONAL, null))
                        + Files.readString(leaf.writeChain(dir.resolve("c.pem"))));
        CertificateConfig certificate = new CertificateConfig("both", both, both, Optional.empty(), List.of(), false);

        TlsManager tls = TlsManager.create(TlsTesting.config(Provider.JDK, certificate), TlsTesting.HANDSHAKE_TIMEOUT);

        assertThat(tls.certificates())
                .singleElement()
                .extracting(CertificateInfo::name)
                .isEqualTo("both");
    }
}
