package dev.postern.proxy.pop3;

import dev.postern.testkit.TestCertificates;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** A test CA and a "localhost" certificate for Postern's listeners (and for fake backends). */
final class Pop3TestTls {
    final TestCertificates ca = TestCertificates.newAuthority();
    final TestCertificates.Leaf leaf = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost");
    final Path caFile;
    private final Path chain;
    private final Path key;

    Pop3TestTls(Path dir) {
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
        chain = leaf.writeChain(dir.resolve("chain.pem"));
        key = leaf.writeKey(dir.resolve("key.pem"), TestCertificates.KeyFormat.PKCS8, null);
    }

    /** The {@code tls:} section of a Postern configuration using the certificate. */
    String yaml() {
        return "tls:\n  certificates:\n    - {cert: \"" + chain + "\", key: \"" + key + "\"}\n";
    }

    /** A client context that trusts the test CA only. */
    SSLContext clientContext() {
        return ca.clientSslContext();
    }

    /** A server context with the certificate, for fake backends. */
    SSLContext serverContext() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = "test".toCharArray();
            store.setKeyEntry("leaf", leaf.privateKey(), password, leaf.chain().toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
