package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two configurations shipped next to the module: {@code dev.yaml} and {@code postern.yaml}. */
class ShippedConfigsTest {
    // Surefire runs in the module's directory, where the files live.
    private static final Path DEV = Path.of("dev.yaml");
    private static final Path PRODUCTION = Path.of("postern.yaml");

    @Test
    void devConfigLoadsWithTheDevPortPlan() throws ConfigException {
        PosternConfig config = ConfigLoader.load(DEV, Map.<String, String>of()::get);

        assertThat(config.listeners())
                .extracting(l -> l.name() + " " + l.protocol().configName() + " " + l.bind() + " "
                        + l.tls().configName() + " -> " + l.pool().orElse("-"))
                .containsExactly(
                        "imaps imap 127.0.0.1:1993 implicit -> dovecot-imap",
                        "imap imap 127.0.0.1:1143 starttls -> dovecot-imap",
                        "pop3s pop3 127.0.0.1:1995 implicit -> dovecot-pop3",
                        "pop3 pop3 127.0.0.1:1110 starttls -> dovecot-pop3",
                        "smtps smtp 127.0.0.1:1465 implicit -> dovecot-submission",
                        "submission smtp 127.0.0.1:1587 starttls -> dovecot-submission",
                        "smtp smtp 127.0.0.1:1025 starttls -> postfix-smtp");
        assertThat(config.pools())
                .extracting(p -> p.name() + " -> " + p.backends().get(0).host() + ":"
                        + p.backends().get(0).portFor(Protocol.TCP))
                .containsExactly(
                        "dovecot-imap -> 127.0.0.1:2143",
                        "dovecot-pop3 -> 127.0.0.1:2110",
                        "dovecot-submission -> 127.0.0.1:2587",
                        "postfix-smtp -> 127.0.0.1:2025");
        assertThat(config.tls().certificates()).as("self-signed at start").isEmpty();
        assertThat(config.admin().bind()).contains(new HostPort("127.0.0.1", 9025));
    }

    @Test
    void devConfigHasARelayListenerInFrontOfPostfix() throws ConfigException {
        PosternConfig config = ConfigLoader.load(DEV, Map.<String, String>of()::get);

        SmtpConfig smtp = config.listener("smtp").orElseThrow().smtp();
        assertThat(smtp.role()).isEqualTo(SmtpConfig.Role.RELAY);
        assertThat(smtp.localDomains()).containsExactly("example.test");
        assertThat(smtp.trustedNetworks())
                .as("nobody relays through the dev MX")
                .isEmpty();
        assertThat(config.pool("postfix-smtp").orElseThrow().backends().get(0).identity())
                .isEqualTo(Backend.Identity.XCLIENT);
        assertThat(config.listener("submission").orElseThrow().smtp().role()).isEqualTo(SmtpConfig.Role.SUBMISSION);
    }

    @Test
    void productionConfigIsValidExceptForTheCertificateFiles() {
        assertThatThrownBy(() -> ConfigLoader.load(PRODUCTION, Map.<String, String>of()::get))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactly(
                                "tls.certificates[0].cert: /etc/postern/certs/mail.example.com.pem does not exist",
                                "tls.certificates[0].key: /etc/postern/certs/mail.example.com.key does not exist",
                                "tls.certificates[1].cert: /etc/postern/certs/example.org.pem does not exist",
                                "tls.certificates[1].key: /etc/postern/certs/example.org.key does not exist"));
    }

    @Test
    void productionConfigLoadsWithItsFilesInPlace(@TempDir Path dir) throws Exception {
        Path certs = Files.createDirectories(dir.resolve("certs"));
        for (String file :
                List.of("mail.example.com.pem", "mail.example.com.key", "example.org.pem", "example.org.key")) {
            Files.writeString(certs.resolve(file), "placeholder");
        }
        Path copy = dir.resolve("postern.yaml");
        Files.writeString(copy, Files.readString(PRODUCTION).replace("/etc/postern/", dir + "/"));

        PosternConfig config = ConfigLoader.load(copy, Map.<String, String>of()::get);

        assertThat(config.listeners())
                .extracting(l -> l.name() + " " + l.bind() + " " + l.tls().configName())
                .containsExactly(
                        "imaps *:993 implicit",
                        "pop3s *:995 implicit",
                        "submissions *:465 implicit",
                        "imap *:143 starttls",
                        "pop3 *:110 starttls",
                        "submission *:587 starttls",
                        "smtp *:25 starttls");
        assertThat(config.listener("smtp").orElseThrow().timeouts().preAuth()).hasMinutes(5);
        assertThat(config.listener("smtp").orElseThrow().limits().maxConnections())
                .isEqualTo(2000);
        assertThat(config.tls().certificates())
                .extracting(CertificateConfig::isDefault)
                .containsExactly(true, false);
        assertThat(config.pools()).extracting(Pool::name).containsExactly("dovecot", "submission", "mx");
        assertThat(config.admin().bind()).contains(new HostPort("127.0.0.1", 9025));
        // The example spells out the defaults: what it says must be what the code does.
        assertThat(config.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(config.limits()).isEqualTo(LimitsConfig.DEFAULTS);
        assertThat(config.tls().ciphers()).isEqualTo(TlsConfig.DEFAULT_CIPHERS);
        assertThat(config.tls().protocols()).isEqualTo(TlsConfig.DEFAULT_PROTOCOLS);
        assertThat(config.tls().sessionCacheSize()).isEqualTo(TlsConfig.DEFAULTS.sessionCacheSize());
        assertThat(config.tls().sessionTimeout()).isEqualTo(TlsConfig.DEFAULTS.sessionTimeout());
        assertThat(config.dns())
                .as("the defaults, with a local resolver")
                .isEqualTo(new DnsConfig(
                        List.of(new HostPort("127.0.0.1", 53)),
                        DnsConfig.DEFAULTS.timeout(),
                        DnsConfig.DEFAULTS.cacheMinTtl(),
                        DnsConfig.DEFAULTS.cacheMaxTtl()));
    }
}
