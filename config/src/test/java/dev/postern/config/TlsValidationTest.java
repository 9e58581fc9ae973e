package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsValidationTest {

    @TempDir
    Path dir;

    @BeforeEach
    void pemFiles() throws IOException {
        // The loader only checks that the files are there; the proxy's certificate store parses them.
        for (String name : List.of("mail.pem", "mail.key", "other.pem", "other.key")) {
            Files.writeString(dir.resolve(name), "placeholder for " + name);
        }
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/mail.pem"), "placeholder");
    }

    private TlsConfig tls(String tlsSection) throws ConfigException {
        return ConfigLoader.parse(MINIMAL + tlsSection, dir, Map.<String, String>of()::get)
                .tls();
    }

    private List<String> tlsProblems(String tlsSection) {
        return problems(MINIMAL + tlsSection, dir, Map.<String, String>of()::get);
    }

    @Test
    void readsEveryTlsOption() throws ConfigException {
        TlsConfig tls = tls(
                """
                tls:
                  provider: openssl
                  protocols: [TLSv1.3]
                  ciphers: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
                  session-cache-size: 0
                  session-timeout: 10m
                """);

        assertThat(tls)
                .isEqualTo(new TlsConfig(
                        TlsConfig.Provider.OPENSSL,
                        List.of("TLSv1.3"),
                        List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                        List.of(),
                        0,
                        Duration.ofMinutes(10)));
    }

    @Test
    void settingsAreChecked() {
        assertThat(
                        tlsProblems(
                                """
                        tls:
                          provider: boringssl
                          protocols: [TLSv1.3, TLSv1.1, TLSv1.3]
                          ciphers: [ECDHE-RSA-AES128-GCM-SHA256]
                          session-cache-size: -1
                          session-timeout: 0s
                        """))
                .containsExactly(
                        "tls.provider: 'boringssl' is not one of auto, openssl, jdk",
                        "tls.protocols[1]: 'TLSv1.1' is not one of TLSv1.2, TLSv1.3",
                        "tls.protocols[2]: 'TLSv1.3' is listed twice",
                        "tls.ciphers[0]: 'ECDHE-RSA-AES128-GCM-SHA256' is not a cipher suite name (IANA names such as"
                                + " TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
                        "tls.session-cache-size: -1 must be >= 0",
                        "tls.session-timeout: 0s must be > 0");
    }

    @Test
    void protocolsAndCiphersMustNotBeEmpty() {
        assertThat(tlsProblems("tls:\n  protocols: []\n  ciphers: []\n"))
                .containsExactly(
                        "tls.protocols: is empty (TLSv1.3, TLSv1.2 or both)",
                        "tls.ciphers: is empty (cipher suite names)");
    }

    @Test
    void certificateDefaultsNameFromFileAndIsTheDefault() throws ConfigException {
        TlsConfig tls = tls("tls:\n  certificates:\n    - cert: mail.pem\n      key: mail.key\n");

        assertThat(tls.certificates())
                .containsExactly(new CertificateConfig(
                        "mail",
                        dir.resolve("mail.pem"),
                        dir.resolve("mail.key"),
                        java.util.Optional.empty(),
                        List.of(),
                        true));
    }

    @Test
    void firstCertificateIsTheDefaultWhenNoneIsMarked() throws ConfigException {
        TlsConfig tls = tls(
                """
                tls:
                  certificates:
                    - {cert: mail.pem, key: mail.key, sni: [Mail.Example.TEST]}
                    - {cert: other.pem, key: other.key, sni: ["*.example.org"]}
                """);

        assertThat(tls.certificates()).extracting(CertificateConfig::isDefault).containsExactly(true, false);
        assertThat(tls.certificates().get(0).sni()).containsExactly("mail.example.test");
        assertThat(tls.certificates().get(1).sni()).containsExactly("*.example.org");
    }

    @Test
    void markedCertificateIsTheOnlyDefault() throws ConfigException {
        TlsConfig tls = tls(
                """
                tls:
                  certificates:
                    - {cert: mail.pem, key: mail.key}
                    - {cert: other.pem, key: other.key, default: true}
                """);

        assertThat(tls.certificates()).extracting(CertificateConfig::isDefault).containsExactly(false, true);
    }

    @Test
    void atMostOneCertificateIsTheDefault() {
        assertThat(
                        tlsProblems(
                                """
                        tls:
                          certificates:
                            - {cert: mail.pem, key: mail.key, default: true}
                            - {cert: other.pem, key: other.key, default: true}
                        """))
                .containsExactly("tls.certificates[1].default: tls.certificates[0] is already the default (at most one"
                        + " certificate can be)");
    }

    @Test
    void certAndKeyAreRequired() {
        assertThat(tlsProblems("tls:\n  certificates:\n    - name: main\n"))
                .containsExactly("tls.certificates[0].cert: is required", "tls.certificates[0].key: is required");
    }

    @Test
    void certAndKeyMustExist() {
        assertThat(tlsProblems("tls:\n  certificates:\n    - {cert: /etc/x.pem, key: missing.key}\n"))
                .containsExactly(
                        "tls.certificates[0].cert: /etc/x.pem does not exist",
                        "tls.certificates[0].key: " + dir.resolve("missing.key") + " does not exist");
    }

    @Test
    void certMustBeAFile() {
        assertThat(tlsProblems("tls:\n  certificates:\n    - {cert: sub, key: mail.key}\n"))
                .containsExactly("tls.certificates[0].cert: " + dir.resolve("sub") + " is not a regular file");
    }

    @Test
    void certMustBeReadable() throws IOException {
        Path locked = dir.resolve("locked.pem");
        Files.writeString(locked, "placeholder");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(locked), "running as root: every file is readable");

        assertThat(tlsProblems("tls:\n  certificates:\n    - {cert: locked.pem, key: mail.key}\n"))
                .containsExactly("tls.certificates[0].cert: " + locked + " is not readable");
    }

    @Test
    void certificateNamesAreUnique() {
        assertThat(
                        tlsProblems(
                                """
                        tls:
                          certificates:
                            - {cert: mail.pem, key: mail.key}
                            - {cert: sub/mail.pem, key: other.key}
                            - {name: x, cert: other.pem, key: other.key}
                            - {name: x, cert: other.pem, key: other.key}
                        """))
                .containsExactly(
                        "tls.certificates[1]: name 'mail' (from the cert file name) is already used by"
                                + " tls.certificates[0]; give each certificate a name",
                        "tls.certificates[3].name: 'x' is already used by tls.certificates[2]");
    }

    @Test
    void sniNamesAreDnsNamesOrLeadingWildcards() {
        assertThat(
                        tlsProblems(
                                """
                        tls:
                          certificates:
                            - cert: mail.pem
                              key: mail.key
                              sni: [ok.example.test, "*.example.test", "mail.*.test", "*example.test", "bad..test",
                                    "-x.test", "*", under_score.test]
                        """))
                .containsExactly(
                        "tls.certificates[0].sni[2]: 'mail.*.test' is not a DNS name or *.domain",
                        "tls.certificates[0].sni[3]: '*example.test' is not a DNS name or *.domain",
                        "tls.certificates[0].sni[4]: 'bad..test' is not a DNS name or *.domain",
                        "tls.certificates[0].sni[5]: '-x.test' is not a DNS name or *.domain",
                        "tls.certificates[0].sni[6]: '*' is not a DNS name or *.domain",
                        "tls.certificates[0].sni[7]: 'under_score.test' is not a DNS name or *.domain");
    }

    @Test
    void sniNameIsServedByOneCertificateOnly() {
        assertThat(
                        tlsProblems(
                                """
                        tls:
                          certificates:
                            - {cert: mail.pem, key: mail.key, sni: [mail.example.test]}
                            - {cert: other.pem, key: other.key, sni: [MAIL.example.test]}
                        """))
                .containsExactly(
                        "tls.certificates[1].sni[0]: 'MAIL.example.test' is already served by tls.certificates[0]");
    }

    @Test
    void unknownCertificateKeyIsSuggested() {
        assertThat(tlsProblems("tls:\n  certificates:\n    - {cert: mail.pem, key: mail.key, key_password: x}\n"))
                .containsExactly("tls.certificates[0].key_password: unknown key (did you mean 'key-password'?)");
    }
}
