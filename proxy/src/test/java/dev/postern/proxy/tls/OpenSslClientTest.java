package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postern.config.CertificateConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A real external client, {@code openssl s_client}, against the Netty server, for both providers. */
class OpenSslClientTest {
    private static final Pattern SUBJECT_CN = Pattern.compile("(?m)^subject=.*CN ?= ?([^,\\s]+)");
    private static final Pattern CHAIN_ENTRY = Pattern.compile("(?m)^ *\\d+ s:");
    private static final Pattern PROTOCOL = Pattern.compile("(?m)^New, (TLSv[0-9.]+), Cipher is ");

    private static EventLoopGroup group;
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static Path caFile;

    @BeforeAll
    static void start() {
        assumeTrue(OpenSslCli.available(), "no openssl tool on the PATH");
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        caFile = ca.writeCaCertificate(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    private static TlsManager twoCertificates(Provider provider) throws TlsSetupException {
        CertificateConfig mail =
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test")
                        .write(dir, "mail-" + provider, KeyFormat.ENCRYPTED_PKCS8, "pw"));
        CertificateConfig other =
                TlsTesting.certificate(ca.issue(KeyType.RSA_2048, "other.example.test", "other.example.test")
                        .write(dir, "other-" + provider, KeyFormat.TRADITIONAL, null));
        return TlsManager.create(
                TlsTesting.config(provider, mail, TlsTesting.withSni(other, List.of(), true)),
                TlsTesting.HANDSHAKE_TIMEOUT);
    }

    private static OpenSslCli.Result sClient(int port, String serverName, String... options) throws IOException {
        List<String> arguments = new ArrayList<>(
                List.of("s_client", "-connect", "127.0.0.1:" + port, "-CAfile", caFile.toString(), "-showcerts"));
        if (serverName != null) {
            arguments.addAll(List.of("-servername", serverName));
        } else {
            arguments.add("-noservername");
        }
        arguments.addAll(List.of(options));
        return OpenSslCli.run(arguments, "");
    }

    private static String group(Pattern pattern, String output) {
        Matcher matcher = pattern.matcher(output);
        assertThat(matcher.find()).as("%s in:%n%s", pattern, output).isTrue();
        return matcher.group(1);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void theServerNamePicksTheCertificateAndTheWholeChainIsSent(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, twoCertificates(provider))) {
            OpenSslCli.Result mail = sClient(server.port(), "mail.example.test");
            OpenSslCli.Result other = sClient(server.port(), "other.example.test");
            OpenSslCli.Result unknown = sClient(server.port(), "unknown.example.test");
            OpenSslCli.Result none = sClient(server.port(), null);

            assertThat(group(SUBJECT_CN, mail.output())).isEqualTo("mail.example.test");
            assertThat(group(SUBJECT_CN, other.output())).isEqualTo("other.example.test");
            assertThat(group(SUBJECT_CN, unknown.output())).as("default").isEqualTo("other.example.test");
            assertThat(group(SUBJECT_CN, none.output())).as("default").isEqualTo("other.example.test");
            assertThat(CHAIN_ENTRY.matcher(mail.output()).results().count())
                    .as("certificates sent, in:%n%s", mail.output())
                    .isEqualTo(2);
            assertThat(mail.output()).contains("Verify return code: 0 (ok)");
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void tls12AndTls13WorkWhileTls11IsRefused(Provider provider) throws Exception {
        try (TlsTestServer server = TlsTestServer.start(group, twoCertificates(provider))) {
            OpenSslCli.Result tls12 = sClient(server.port(), "mail.example.test", "-tls1_2");
            OpenSslCli.Result tls13 = sClient(server.port(), "mail.example.test", "-tls1_3");
            // Security level 0 so that OpenSSL 3 offers TLS 1.1 at all: the refusal must come from the server.
            OpenSslCli.Result tls11 =
                    sClient(server.port(), "mail.example.test", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");

            assertThat(group(PROTOCOL, tls12.output())).as(tls12.output()).isEqualTo("TLSv1.2");
            assertThat(tls12.output()).contains("Verify return code: 0 (ok)");
            assertThat(group(PROTOCOL, tls13.output())).as(tls13.output()).isEqualTo("TLSv1.3");
            assertThat(tls13.output()).contains("Verify return code: 0 (ok)");
            assertThat(tls11.exitCode()).as(tls11.output()).isNotZero();
            assertThat(tls11.output()).doesNotContain("subject=").contains("alert protocol version");
        }
    }
}
