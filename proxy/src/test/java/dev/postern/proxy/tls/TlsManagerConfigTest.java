package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.postern.config.CertificateConfig;
import dev.postern.config.Secret;
import dev.postern.config.TlsConfig;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What {@link TlsManager#create} refuses, and the exact words it uses. */
class TlsManagerConfigTest {
    private static TestCertificates ca;

    @TempDir
    static Path dir;

    private static CertificateConfig mail;
    private static CertificateConfig smtp;

    @BeforeAll
    static void mint() {
        ca = TestCertificates.newAuthority();
        mail = TlsTesting.certificate(ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test")
                .write(dir, "mail", KeyFormat.ENCRYPTED_PKCS8, "mail password"));
        smtp = TlsTesting.certificate(
                ca.issue(KeyType.EC_P256, "smtp.example.test", "smtp.example.test", "mail.example.test")
                        .write(dir, "smtp", KeyFormat.PKCS8, null));
    }

    private static TlsConfig config(Provider provider, List<String> protocols, List<String> ciphers) {
        return new TlsConfig(provider, protocols, ciphers, List.of(mail), 100, Duration.ofMinutes(1));
    }

    @Test
    void fileErrorsComeThroughWordForWordAndWithoutThePassword() {
        CertificateConfig noPassword =
                new CertificateConfig("mail", mail.cert(), mail.key(), Optional.empty(), List.of(), false);
        CertificateConfig wrongPassword = new CertificateConfig(
                "mail", mail.cert(), mail.key(), Optional.of(Secret.of("hunter2")), List.of(), false);
        CertificateConfig keyOfAnother =
                new CertificateConfig("mail", mail.cert(), smtp.key(), Optional.empty(), List.of(), false);
        CertificateConfig keyAsCert =
                new CertificateConfig("mail", smtp.key(), smtp.key(), Optional.empty(), List.of(), false);

        assertThatThrownBy(() -> create(noPassword)).hasMessage(mail.key() + ": key is encrypted; set key-password");
        assertThatThrownBy(() -> create(wrongPassword))
                .hasMessage(mail.key() + ": wrong key-password")
                .message()
                .doesNotContain("hunter2");
        assertThatThrownBy(() -> create(keyOfAnother))
                .hasMessage(mail.cert() + ": private key does not match the certificate");
        assertThatThrownBy(() -> create(keyAsCert)).hasMessage(smtp.key() + ": no certificate");
    }

    @Test
    void onlyOneCertificateMayBeTheDefault() {
        assertThatThrownBy(() ->
                        create(TlsTesting.withSni(mail, List.of(), true), TlsTesting.withSni(smtp, List.of(), true)))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage("tls.certificates: more than one default certificate: ['mail', 'smtp']");
    }

    @Test
    void withoutAMarkedDefaultTheFirstCertificateIsTheDefault() throws Exception {
        TlsManager tls = create(mail, smtp);

        assertThat(tls.certificates()).extracting(CertificateInfo::isDefault).containsExactly(true, false);
    }

    @Test
    void aNameClaimedByAnEarlierCertificateStaysWithItAndIsReported() throws Exception {
        TlsManager tls;
        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(TlsManager.class)) {
            tls = create(mail, smtp);

            assertThat(log.messages(Level.WARN))
                    .containsExactly("TLS certificate 'smtp': mail.example.test is already served by an earlier"
                            + " certificate; not by this one");
        }
        assertThat(tls.certificates().get(1).sniNames()).containsExactly("smtp.example.test");
        assertThat(tls.certificates().get(1).dnsNames()).containsExactly("smtp.example.test", "mail.example.test");
    }

    @Test
    void configuredSniNamesMustBeHostNamesOrWildcards() {
        assertThatThrownBy(() -> create(TlsTesting.withSni(mail, List.of("*.*.example.test"), false)))
                .hasMessage("certificate 'mail': sni '*.*.example.test' is not a host name or *.domain");
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void unknownProtocolsAreRefused(Provider provider) {
        assertThatThrownBy(() -> TlsManager.create(
                        config(provider, List.of("TLSv1.3", "TLSv1.4"), TlsConfig.DEFAULT_CIPHERS), Duration.ZERO))
                .hasMessage("tls.protocols: TLSv1.4 is not supported by the " + provider.configName() + " provider");
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void unknownCiphersAreSkippedWithAWarningButNoneAtAllIsAnError(Provider provider) throws Exception {
        try (TlsTesting.LogCapture log = new TlsTesting.LogCapture(ContextFactory.class)) {
            TlsManager.create(
                    config(
                            provider,
                            TlsConfig.DEFAULT_PROTOCOLS,
                            List.of("TLS_NO_SUCH_SUITE", TlsConfig.DEFAULT_CIPHERS.get(0))),
                    Duration.ZERO);

            assertThat(log.messages(Level.WARN))
                    .containsExactly("tls.ciphers: TLS_NO_SUCH_SUITE is not supported by the " + provider.configName()
                            + " provider; skipped");
        }
        assertThatThrownBy(() -> TlsManager.create(
                        config(provider, TlsConfig.DEFAULT_PROTOCOLS, List.of("TLS_NO_SUCH_SUITE")), Duration.ZERO))
                .hasMessage("tls.ciphers: none of the TLS 1.2 cipher suites is supported by the "
                        + provider.configName() + " provider");
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void tls13SuitesAreAddedWhenOnlyTls12SuitesAreConfigured(Provider provider) throws Exception {
        ContextFactory factory =
                ContextFactory.create(config(provider, TlsConfig.DEFAULT_PROTOCOLS, TlsConfig.DEFAULT_CIPHERS));
        ContextFactory tls12Only =
                ContextFactory.create(config(provider, List.of("TLSv1.2"), TlsConfig.DEFAULT_CIPHERS));

        assertThat(factory.ciphers())
                .startsWith(TlsConfig.DEFAULT_CIPHERS.toArray(String[]::new))
                .contains("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384");
        assertThat(tls12Only.ciphers()).containsExactlyElementsOf(TlsConfig.DEFAULT_CIPHERS);
    }

    @Test
    void aNegativeHandshakeTimeoutIsAProgrammingError() {
        assertThatThrownBy(() -> TlsManager.create(TlsTesting.config(Provider.JDK, mail), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static TlsManager create(CertificateConfig... certificates) throws TlsSetupException {
        return TlsManager.create(TlsTesting.config(Provider.JDK, certificates), Duration.ofSeconds(5));
    }
}
