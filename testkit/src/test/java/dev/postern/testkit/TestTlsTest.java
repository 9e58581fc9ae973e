package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kit's ready-made TLS: a leaf for localhost and 127.0.0.1 that the kit's CA vouches for. */
class TestTlsTest {
    @TempDir
    Path dir;

    @Test
    void theSharedLeafNamesLocalhostAndTheLoopbackAddress() throws Exception {
        X509Certificate leaf = TestTls.localhost().leaf().certificate();
        assertThat(leaf.getSubjectAlternativeNames())
                .containsExactlyInAnyOrder(List.of(2, "localhost"), List.of(7, "127.0.0.1"));
        assertThat(TestTls.localhost()).isSameAs(TestTls.localhost());
    }

    @Test
    void theCaTrustsTheChainTheServerPresents() throws Exception {
        TestTls tls = TestTls.issue("mail.example.test");
        X509TrustManager trust = trustManager(tls);
        trust.checkServerTrusted(tls.leaf().chain().toArray(X509Certificate[]::new), "ECDHE_ECDSA");
        assertThat(tls.serverContext().getProtocol()).isEqualTo("TLS");
        assertThat(tls.leaf().keyManagerFactory().getKeyManagers()).isNotEmpty();
    }

    @Test
    void writesPemFilesForAConfiguration() throws Exception {
        TestCertificates.PemFiles files = TestTls.localhost().write(dir);
        assertThat(files.cert()).isEqualTo(dir.resolve("localhost-chain.pem"));
        assertThat(Files.readString(files.cert())).contains("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(files.key())).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(files.password()).isEmpty();
        assertThat(Files.readString(TestTls.localhost().writeCa(dir.resolve("ca.pem"))))
                .contains("-----BEGIN CERTIFICATE-----");
    }

    private static X509TrustManager trustManager(TestTls tls) {
        for (TrustManager m : tls.ca().trustManagerFactory().getTrustManagers()) {
            if (m instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new AssertionError("no X.509 trust manager");
    }
}
