package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.postern.config.TlsConfig.Provider;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SelfSignedFallbackTest {
    private static final String WARNING = "no TLS certificate configured: using a self-signed certificate generated at"
            + " start; clients will not trust it; configure tls.certificates";

    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void withoutCertificatesAGeneratedOneIsServedWithALoudWarning(Provider provider) throws Exception {
        TlsManager tls;
        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(TlsManager.class)) {
            tls = TlsManager.create(TlsTesting.config(provider), TlsTesting.HANDSHAKE_TIMEOUT);

            assertThat(log.messages(Level.WARN)).singleElement().asString().startsWith(WARNING);
        }
        CertificateInfo info = tls.certificates().get(0);
        assertThat(tls.certificates()).hasSize(1);
        assertThat(info.generated()).isTrue();
        assertThat(info.isDefault()).isTrue();
        assertThat(info.name()).isEqualTo("self-signed");
        assertThat(info.dnsNames()).startsWith("localhost");
        assertThat(info.sniNames()).contains("localhost");
        assertThat(info.notAfter())
                .isBetween(
                        Instant.now().plus(Duration.ofDays(29)), Instant.now().plus(Duration.ofDays(31)));

        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        try (TlsTestServer server = TlsTestServer.start(group, tls);
                SSLSocket socket = TlsClients.connect(trustAll, server.port(), null)) {
            TlsClients.assertEchoes(socket, "+OK");
            X509Certificate certificate = TlsClients.peerLeaf(socket);
            assertThat(TlsClients.peerChain(socket)).hasSize(1);
            assertThat(certificate.getPublicKey()).isInstanceOf(ECPublicKey.class);
            assertThat(((ECPublicKey) certificate.getPublicKey())
                            .getParams()
                            .getCurve()
                            .getField()
                            .getFieldSize())
                    .isEqualTo(256);
            assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo(info.subject());
            List<String> alternativeNames = certificate.getSubjectAlternativeNames().stream()
                    .map(entry -> String.valueOf(entry.get(1)))
                    .toList();
            assertThat(alternativeNames).contains("localhost", "127.0.0.1").anySatisfy(ip -> assertThat(ip)
                    .matches("0:0:0:0:0:0:0:1|::1"));

            // Well-formed enough for a client that pins it and checks the host name.
            try (SSLSocket pinned =
                    TlsClients.connectCheckingHostName(pinning(certificate), server.port(), "localhost")) {
                TlsClients.assertEchoes(pinned, "+OK pinned");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void reloadKeepsTheGeneratedCertificate(Provider provider) throws Exception {
        TlsManager tls = TlsManager.create(TlsTesting.config(provider), TlsTesting.HANDSHAKE_TIMEOUT);
        List<CertificateInfo> before = tls.certificates();

        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(TlsManager.class)) {
            tls.reload();

            assertThat(log.messages(Level.WARN)).isEmpty();
        }
        assertThat(tls.certificates()).isEqualTo(before);
    }

    private static SSLContext pinning(X509Certificate certificate) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("pinned", certificate);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
