package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.Secret;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Key files as the {@code openssl} tool writes them, not only as Bouncy Castle does. */
class OpenSslKeyFilesTest {
    private static final String PASSWORD = "pass phrase";

    private static Leaf rsa;
    private static Leaf ec;

    @TempDir
    Path dir;

    @BeforeAll
    static void mint() {
        assumeTrue(OpenSslCli.available(), "no openssl tool on the PATH");
        TestCertificates ca = TestCertificates.newAuthority();
        rsa = ca.issue(KeyType.RSA_2048, "rsa.example.test");
        ec = ca.issue(KeyType.EC_P256, "ec.example.test");
    }

    static Stream<Arguments> conversions() {
        return Stream.of(
                Arguments.of(KeyType.RSA_2048, "PRIVATE KEY", false, List.of("pkey")),
                Arguments.of(KeyType.RSA_2048, "RSA PRIVATE KEY", false, List.of("rsa", "-traditional")),
                Arguments.of(
                        KeyType.RSA_2048, "Proc-Type: 4,ENCRYPTED", true, List.of("rsa", "-traditional", "-aes256")),
                Arguments.of(KeyType.RSA_2048, "Proc-Type: 4,ENCRYPTED", true, List.of("rsa", "-traditional", "-des3")),
                Arguments.of(
                        KeyType.RSA_2048,
                        "ENCRYPTED PRIVATE KEY",
                        true,
                        List.of("pkcs8", "-topk8", "-v2", "aes-256-cbc")),
                Arguments.of(KeyType.EC_P256, "PRIVATE KEY", false, List.of("pkey")),
                Arguments.of(KeyType.EC_P256, "EC PRIVATE KEY", false, List.of("ec")),
                Arguments.of(KeyType.EC_P256, "Proc-Type: 4,ENCRYPTED", true, List.of("ec", "-aes256")),
                Arguments.of(
                        KeyType.EC_P256,
                        "ENCRYPTED PRIVATE KEY",
                        true,
                        List.of("pkcs8", "-topk8", "-v2", "aes-256-cbc")));
    }

    @ParameterizedTest(name = "{0} openssl {3}")
    @MethodSource("conversions")
    void readsKeysTheOpensslToolWrites(KeyType type, String marker, boolean encrypted, List<String> command)
            throws Exception {
        Leaf leaf = type == KeyType.RSA_2048 ? rsa : ec;
        Path in = leaf.writeKey(dir.resolve("in.pem"), KeyFormat.PKCS8, null);
        Path out = dir.resolve("out.pem");
        List<String> arguments = new ArrayList<>(command);
        arguments.addAll(List.of("-in", in.toString(), "-out", out.toString()));
        if (encrypted) {
            arguments.addAll(List.of("-passout", "pass:" + PASSWORD));
        }
        OpenSslCli.runOk(arguments.toArray(String[]::new));
        assertThat(Files.readString(out)).contains(marker);

        Optional<Secret> password = encrypted ? Optional.of(Secret.of(PASSWORD)) : Optional.empty();
        PemFilesTest.assertSameKey(PemFiles.readPrivateKey(out, password), leaf.privateKey());
        if (encrypted) {
            assertThatThrownBy(() -> PemFiles.readPrivateKey(out, Optional.of(Secret.of("not " + PASSWORD))))
                    .hasMessage(out + ": wrong key-password");
        }
    }

    @Test
    void readsTheEcParametersThenKeyLayoutOfEcparamGenkey() throws Exception {
        Path in = ec.writeKey(dir.resolve("in.pem"), KeyFormat.PKCS8, null);
        String parameters = OpenSslCli.runOk("ecparam", "-name", "prime256v1");
        String key = OpenSslCli.runOk("ec", "-in", in.toString());
        Path file = dir.resolve("key.pem");
        Files.writeString(file, parameters + key);

        PemFilesTest.assertSameKey(PemFiles.readPrivateKey(file, Optional.empty()), ec.privateKey());
    }
}
