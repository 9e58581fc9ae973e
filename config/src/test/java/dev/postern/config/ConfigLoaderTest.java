package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @Test
    void minimalConfigGetsEveryDefault() throws ConfigException {
        PosternConfig config = parse(MINIMAL);

        assertThat(config.listeners()).hasSize(1);
        ListenerConfig imaps = config.listeners().get(0);
        assertThat(imaps.name()).isEqualTo("imaps");
        assertThat(imaps.protocol()).isEqualTo(Protocol.IMAP);
        assertThat(imaps.bind()).isEqualTo(new HostPort("127.0.0.1", 1993));
        assertThat(imaps.tls()).isEqualTo(TlsMode.NONE);
        assertThat(imaps.pool()).isEmpty();
        assertThat(imaps.allowPlaintextAuth()).isFalse();
        assertThat(imaps.startTlsPipelining()).isEqualTo(ListenerConfig.StartTlsPipelining.CLOSE);
        assertThat(imaps.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(imaps.limits()).isEqualTo(LimitsConfig.DEFAULTS);
        assertThat(config.tls()).isEqualTo(TlsConfig.DEFAULTS);
        assertThat(config.pools()).isEmpty();
        assertThat(config.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(config.limits()).isEqualTo(LimitsConfig.DEFAULTS);
        assertThat(config.admin()).isEqualTo(AdminConfig.DISABLED);
        assertThat(config.source()).isEmpty();
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - name: imaps
                            protocol: imapx
                            bind: 127.0.0.1:70000
                          - name: pop3s
                            protcol: pop3
                            bind: 127.0.0.1:1995
                            pool: dovcot
                        pools:
                          - name: dovecot
                            backends:
                              - address: 127.0.0.1:2143
                                weight: 0
                        timeouts:
                          connect: 5 sec
                        limits:
                          line-length: 8KB
                        """))
                .containsExactly(
                        "timeouts.connect: '5 sec' is not a duration (unit 'sec' is not one of ms, s, m, h, d)",
                        "limits.line-length: '8KB' is not a size (unit 'KB' is not one of KiB, MiB, GiB; sizes use"
                                + " binary units)",
                        "pools[0].backends[0].weight: 0 must be between 1 and 1000",
                        "listeners[0].protocol: 'imapx' is not one of imap, pop3, managesieve, smtp, lmtp, tcp",
                        "listeners[0].bind: 70000 is not a port (1-65535)",
                        "listeners[1].protcol: unknown key (did you mean 'protocol'?)",
                        "listeners[1].protocol: is required",
                        "listeners[1].pool: no pool named 'dovcot' (pools: dovecot)");
    }

    @Test
    void exceptionMessageListsEveryProblemOnItsOwnLine() {
        assertThatThrownBy(() -> parse("listeners: []\nadmin: {bind: nowhere}\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("listeners: is empty (at least one listener)\n"
                        + "admin.bind: 'nowhere' is not host:port ([v6]:port for IPv6)");
    }

    @Test
    void unknownTopLevelKeySuggestsTheClosestKnownOne() {
        assertThat(problems(MINIMAL + "timeout:\n  connect: 5s\n"))
                .containsExactly("timeout: unknown key (did you mean 'timeouts'?)");
    }

    @Test
    void unknownKeyWithoutACloseMatchListsTheKnownKeys() {
        assertThat(problems(MINIMAL + "frobnicate: yes\n"))
                .containsExactly(
                        "frobnicate: unknown key (known keys: listeners, tls, pools, routes, routing, timeouts, limits,"
                                + " admin, auth, dns, cluster, transport)");
    }

    @Test
    void unknownKeySuggestionToleratesCaseAndUnderscores() {
        assertThat(problems(MINIMAL + "tls:\n  session_timeout: 1h\n  sessionCacheSize: 10\n"))
                .containsExactly(
                        "tls.session_timeout: unknown key (did you mean 'session-timeout'?)",
                        "tls.sessionCacheSize: unknown key (did you mean 'session-cache-size'?)");
    }

    @Test
    void listenersAreRequired() {
        assertThat(problems("admin:\n  bind: 127.0.0.1:9025\n")).containsExactly("listeners: is required");
    }

    @Test
    void emptyDocumentIsOneProblem() {
        assertThat(problems("# nothing here\n"))
                .containsExactly("the configuration is empty (it needs at least listeners)");
    }

    @Test
    void documentThatIsNotAMappingIsOneProblem() {
        assertThat(problems("- imaps\n- pop3s\n")).containsExactly("a list is not a mapping");
    }

    @Test
    void sectionOfTheWrongShapeNamesWhatItGot() {
        assertThat(problems("listeners: imaps\ntls: [TLSv1.3]\n"))
                .containsExactly("tls: a list is not a mapping", "listeners: 'imaps' is not a list");
    }

    @Test
    void yamlSyntaxErrorIsOneProblemWithLineAndColumn() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - name: imaps
                            protocol: [imap
                            bind: 127.0.0.1:1993
                        """))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith("YAML syntax error at line 4, column ")
                .contains("expected ',' or ']'")
                .doesNotContain("\n");
    }

    @Test
    void yamlSyntaxErrorDoesNotQuoteTheSourceLine() {
        assertThat(problems("tls:\n  certificates:\n    - key-password: \"hunter2\n"))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith("YAML syntax error at line ")
                .doesNotContain("hunter2");
    }

    @Test
    void duplicateKeyIsASyntaxError() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - name: imaps
                            name: pop3s
                            protocol: imap
                            bind: 127.0.0.1:1993
                        """))
                .containsExactly("YAML syntax error at line 3, column 9: Duplicate field 'name'");
    }

    @Test
    void aliasesAreRefusedRatherThanReadAsStrings() {
        assertThat(
                        problems(
                                """
                        listeners:
                          - name: &n imaps
                            protocol: imap
                            bind: 127.0.0.1:1993
                          - name: *n
                            protocol: imap
                            bind: 127.0.0.1:1994
                        """))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith("YAML syntax error at line 5")
                .contains("aliases (*n) are not supported");
    }

    @Test
    void secondYamlDocumentIsRefused() {
        assertThat(problems(MINIMAL + "---\nadmin: {bind: 127.0.0.1:9025}\n"))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .endsWith("a second YAML document; a configuration is one document");
    }

    @Test
    void emptyValueMeansAbsent() throws ConfigException {
        PosternConfig config = parse(MINIMAL + "tls:\nlimits:\nadmin:\n");

        assertThat(config.tls()).isEqualTo(TlsConfig.DEFAULTS);
        assertThat(config.limits()).isEqualTo(LimitsConfig.DEFAULTS);
        assertThat(config.admin()).isEqualTo(AdminConfig.DISABLED);
    }

    @Test
    void adminBindEnablesTheApi() throws ConfigException {
        assertThat(parse(MINIMAL + "admin:\n  bind: 127.0.0.1:9025\n").admin().bind())
                .contains(new HostPort("127.0.0.1", 9025));
    }

    @Test
    void adminBindMustNotClashWithAListener() {
        assertThat(problems(MINIMAL + "admin:\n  bind: 127.0.0.1:1993\n"))
                .containsExactly("admin.bind: 127.0.0.1:1993 is already used by listener 'imaps'");
    }

    @Test
    void adminHasNoOtherKeys() {
        assertThat(problems(MINIMAL + "admin:\n  bnd: 127.0.0.1:9025\n"))
                .containsExactly("admin.bnd: unknown key (did you mean 'bind'?)");
    }

    @Test
    void loadReadsTheFileAndRemembersIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("postern.yaml");
        Files.writeString(file, MINIMAL);

        PosternConfig config = ConfigLoader.load(file);

        assertThat(config.source()).isEqualTo(Optional.of(file.toAbsolutePath().normalize()));
        assertThat(config.listeners()).extracting(ListenerConfig::name).containsExactly("imaps");
    }

    @Test
    void loadOfAMissingFileNamesIt(@TempDir Path dir) {
        Path file = dir.resolve("missing.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file.toAbsolutePath() + " does not exist");
    }

    @Test
    void loadResolvesRelativePathsAgainstTheFilesDirectory(@TempDir Path dir) throws Exception {
        Path certs = Files.createDirectories(dir.resolve("etc/certs"));
        Files.writeString(certs.resolve("mail.pem"), "not really a certificate");
        Files.writeString(certs.resolve("mail.key"), "not really a key");
        Path file = dir.resolve("etc/postern.yaml");
        Files.writeString(
                file, MINIMAL + "tls:\n  certificates:\n    - cert: certs/mail.pem\n      key: certs/mail.key\n");

        CertificateConfig cert = ConfigLoader.load(file).tls().certificates().get(0);

        assertThat(cert.cert()).isEqualTo(certs.resolve("mail.pem"));
        assertThat(cert.key()).isEqualTo(certs.resolve("mail.key"));
    }
}
