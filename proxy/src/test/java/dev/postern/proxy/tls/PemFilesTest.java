package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.Secret;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class PemFilesTest {
    private static final String PASSWORD = "correct horse";

    private static TestCertificates ca;
    private static Leaf rsa;
    private static Leaf ec;

    @TempDir
    Path dir;

    @BeforeAll
    static void mint() {
        ca = TestCertificates.newAuthority();
        rsa = ca.issue(KeyType.RSA_2048, "rsa.example.test", "rsa.example.test");
        ec = ca.issue(KeyType.EC_P256, "ec.example.test", "ec.example.test");
    }

    static Stream<Arguments> everyKeyFormat() {
        return Stream.of(KeyType.values())
                .flatMap(type -> TestCertificates.formatsFor(type).stream().map(format -> Arguments.of(type, format)));
    }

    private static Leaf leaf(KeyType type) {
        return type == KeyType.RSA_2048 ? rsa : ec;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyKeyFormat")
    void readsEveryKeyFormat(KeyType type, KeyFormat format) throws Exception {
        Leaf leaf = leaf(type);
        Path file = leaf.writeKey(dir.resolve("key.pem"), format, PASSWORD);

        PrivateKey key = PemFiles.readPrivateKey(file, password(format));

        assertSameKey(key, leaf.privateKey());
        PemFiles.checkKeyMatchesCertificate(key, leaf.certificate(), dir.resolve("cert.pem"));
    }

    @Test
    void readsTheChainInFileOrderIgnoringTextAroundTheBlocks() throws Exception {
        Path file = dir.resolve("chain.pem");
        String pem = Files.readString(rsa.writeChain(file));
        Files.writeString(file, "Bag Attributes\n    friendlyName: mail\n" + pem + "\ntrailing words\n");

        List<X509Certificate> chain = PemFiles.readCertificateChain(file);

        assertThat(chain).containsExactly(rsa.certificate(), ca.caCertificate());
    }

    @Test
    void certificateAndKeyMayShareOneFile() throws Exception {
        Path key = ec.writeKey(dir.resolve("key.pem"), KeyFormat.TRADITIONAL_WITH_EC_PARAMETERS, null);
        Path chain = ec.writeChain(dir.resolve("chain.pem"));
        Path both = dir.resolve("both.pem");
        Files.writeString(both, Files.readString(key) + Files.readString(chain));

        assertThat(PemFiles.readCertificateChain(both)).hasSize(2);
        assertSameKey(PemFiles.readPrivateKey(both, Optional.empty()), ec.privateKey());
    }

    @ParameterizedTest
    @EnumSource(
            value = KeyFormat.class,
            names = {"ENCRYPTED_PKCS8", "LEGACY_ENCRYPTED"})
    void anEncryptedKeyWithoutPasswordSaysToSetOne(KeyFormat format) {
        Path file = rsa.writeKey(dir.resolve("key.pem"), format, PASSWORD);

        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(file + ": key is encrypted; set key-password");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("encryptedFormats")
    void aWrongPasswordIsNamedAndNotShown(KeyType type, KeyFormat format) {
        Path file = leaf(type).writeKey(dir.resolve("key.pem"), format, PASSWORD);

        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.of(Secret.of("wrong password 42"))))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(file + ": wrong key-password")
                .hasNoCause();
    }

    static Stream<Arguments> encryptedFormats() {
        return everyKeyFormat().filter(arguments -> ((KeyFormat) arguments.get()[1]).encrypted());
    }

    @Test
    void aPasswordForAPlainKeyIsIgnored() throws Exception {
        Path file = rsa.writeKey(dir.resolve("key.pem"), KeyFormat.PKCS8, null);

        assertThat(PemFiles.readPrivateKey(file, Optional.of(Secret.of("unused"))))
                .isNotNull();
    }

    @Test
    void aFileWithoutKeySaysSo() {
        Path file = rsa.writeChain(dir.resolve("cert.pem"));

        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage("no private key in " + file);
    }

    @Test
    void aFileWithoutCertificateSaysSo() {
        Path file = rsa.writeKey(dir.resolve("key.pem"), KeyFormat.PKCS8, null);

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(file + ": no certificate");
    }

    @Test
    void emptyFilesHoldNeitherKeyNorCertificate() throws IOException {
        Path file = Files.createFile(dir.resolve("empty.pem"));

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file)).hasMessage(file + ": no certificate");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .hasMessage("no private key in " + file);
    }

    @Test
    void garbageWithoutPemBlocksHoldsNeitherKeyNorCertificate() throws IOException {
        Path file = dir.resolve("garbage.pem");
        Files.write(file, "\u0000\u00ff not a PEM file at all \r\n\t".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file)).hasMessage(file + ": no certificate");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .hasMessage("no private key in " + file);
    }

    @Test
    void aTruncatedBlockIsMalformedPem() throws IOException {
        Path file = rsa.writeChain(dir.resolve("cert.pem"));
        String pem = Files.readString(file);
        Files.writeString(file, pem.substring(0, pem.indexOf("-----END")));

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file))
                .isInstanceOf(TlsSetupException.class)
                .hasMessageStartingWith(file + ": malformed PEM (");
    }

    @Test
    void garbageInsideACertificateBlockIsNamed() throws IOException {
        Path file = dir.resolve("cert.pem");
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file))
                .isInstanceOf(TlsSetupException.class)
                .hasMessageStartingWith(file + ": certificate 1 is malformed (");
    }

    @Test
    void garbageInsideAKeyBlockIsAMalformedKey() throws IOException {
        Path file = dir.resolve("key.pem");
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5\n-----END PRIVATE KEY-----\n");

        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(file + ": malformed private key");
    }

    @Test
    void twoKeysInOneFileAreRefused() throws IOException {
        Path first = rsa.writeKey(dir.resolve("a.pem"), KeyFormat.PKCS8, null);
        Path second = ec.writeKey(dir.resolve("b.pem"), KeyFormat.PKCS8, null);
        Path file = dir.resolve("two.pem");
        Files.writeString(file, Files.readString(first) + Files.readString(second));

        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .hasMessage(file + ": more than one private key");
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("nope.pem");

        assertThatThrownBy(() -> PemFiles.readCertificateChain(file)).hasMessage(file + ": file not found");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(file, Optional.empty()))
                .hasMessage(file + ": file not found");
    }

    @Test
    void aDirectoryIsNotAPemFile() {
        assertThatThrownBy(() -> PemFiles.readCertificateChain(dir))
                .hasMessage(dir + ": is a directory, not a PEM file");
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void aKeyOfAnotherCertificateDoesNotMatch(KeyType type) throws Exception {
        Leaf other = ca.issue(type, "other.example.test");
        Path keyFile = other.writeKey(dir.resolve("key.pem"), KeyFormat.PKCS8, null);
        PrivateKey key = PemFiles.readPrivateKey(keyFile, Optional.empty());
        Path certFile = dir.resolve("cert.pem");

        assertThatThrownBy(() ->
                        PemFiles.checkKeyMatchesCertificate(key, leaf(type).certificate(), certFile))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(certFile + ": private key does not match the certificate");
        // An RSA key for an EC certificate and the other way round.
        Leaf otherType = type == KeyType.RSA_2048 ? ec : rsa;
        assertThatThrownBy(() -> PemFiles.checkKeyMatchesCertificate(key, otherType.certificate(), certFile))
                .hasMessage(certFile + ": private key does not match the certificate");
    }

    static void assertSameKey(PrivateKey actual, PrivateKey expected) {
        assertThat(actual.getAlgorithm()).isEqualTo(expected.getAlgorithm());
        if (expected instanceof ECPrivateKey ec) {
            assertThat(((ECPrivateKey) actual).getS()).isEqualTo(ec.getS());
        } else {
            assertThat(((RSAPrivateKey) actual).getPrivateExponent())
                    .isEqualTo(((RSAPrivateKey) expected).getPrivateExponent());
            assertThat(((RSAPrivateKey) actual).getModulus()).isEqualTo(((RSAPrivateKey) expected).getModulus());
        }
    }

    private static Optional<Secret> password(KeyFormat format) {
        return format.encrypted() ? Optional.of(Secret.of(PASSWORD)) : Optional.empty();
    }
}
