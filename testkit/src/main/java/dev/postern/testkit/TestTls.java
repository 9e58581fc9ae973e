package dev.postern.testkit;

import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import dev.postern.testkit.TestCertificates.PemFiles;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * TLS for tests that need it but not a particular certificate: a throwaway CA and one leaf for {@code localhost} and
 * {@code 127.0.0.1}, minted with Bouncy Castle when first asked for. The client side trusts the CA only; the server
 * side presents the leaf. Fake backends take {@link #serverContext()}, Postern's listeners the files of
 * {@link #write(Path)}, clients {@link #clientContext()}.
 */
public final class TestTls {
    /** The name the leaf is issued for; clients send it as SNI. */
    public static final String HOST = "localhost";

    private final TestCertificates ca;
    private final Leaf leaf;

    private TestTls(TestCertificates ca, Leaf leaf) {
        this.ca = ca;
        this.leaf = leaf;
    }

    /** One CA and leaf for the whole test JVM: minting is the slow part, and nothing here is secret. */
    public static TestTls localhost() {
        return Shared.INSTANCE;
    }

    /** A new CA and a leaf for {@code names} (DNS names or IP literals; the first is also the CN). */
    public static TestTls issue(String... names) {
        if (names.length == 0) {
            throw new IllegalArgumentException("a certificate needs at least one name");
        }
        TestCertificates ca = TestCertificates.newAuthority();
        return new TestTls(ca, ca.issue(KeyType.EC_P256, names[0], names));
    }

    public TestCertificates ca() {
        return ca;
    }

    public Leaf leaf() {
        return leaf;
    }

    /** A new client context that trusts the CA only (each has its own session cache). */
    public SSLContext clientContext() {
        return ca.clientSslContext();
    }

    /** A new server context presenting the leaf, for fake servers. */
    public SSLContext serverContext() {
        return leaf.serverSslContext();
    }

    /** Writes the chain and an unencrypted PKCS#8 key into {@code dir} as {@code localhost-chain.pem} and so on. */
    public PemFiles write(Path dir) {
        return leaf.write(dir, HOST, KeyFormat.PKCS8, null);
    }

    /** Writes the CA certificate (for clients that take a file, such as {@code openssl s_client -CAfile}). */
    public Path writeCa(Path file) {
        return ca.writeCaCertificate(file);
    }

    private static final class Shared {
        static final TestTls INSTANCE = issue(HOST, "127.0.0.1");
    }
}
