package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InterpolationTest {
    private static final String SECRET = "s3cret-Pa55word";

    @TempDir
    Path dir;

    @BeforeEach
    void pemFiles() throws IOException {
        Files.writeString(dir.resolve("mail.pem"), "placeholder");
        Files.writeString(dir.resolve("mail.key"), "placeholder");
    }

    private static String certificateWithPassword(String keyPassword) {
        return MINIMAL
                + "tls:\n  certificates:\n    - cert: mail.pem\n      key: mail.key\n      key-password: "
                + keyPassword + "\n";
    }

    private PosternConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml, dir, env::get);
    }

    private List<String> problemsWith(String yaml, Map<String, String> env) {
        return problems(yaml, dir, env::get);
    }

    @Test
    void keyPasswordFromTheEnvironmentIsASecret() throws ConfigException {
        PosternConfig config = parse(certificateWithPassword("${env:KEY_PW}"), Map.of("KEY_PW", SECRET));

        CertificateConfig cert = config.tls().certificates().get(0);
        assertThat(cert.keyPassword())
                .hasValueSatisfying(s -> assertThat(s.reveal()).isEqualTo(SECRET));
        assertThat(cert.toString()).doesNotContain(SECRET).contains("***");
        assertThat(config.toString()).doesNotContain(SECRET);
    }

    @Test
    void keyPasswordFromAFileLosesOneTrailingNewline() throws Exception {
        Files.writeString(dir.resolve("key-password"), SECRET + "\n");
        Files.writeString(dir.resolve("crlf-password"), SECRET + "\r\n");
        Files.writeString(dir.resolve("two-newlines"), SECRET + "\n\n");

        assertThat(parse(certificateWithPassword("${file:key-password}"), Map.of())
                        .tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo(SECRET);
        assertThat(parse(certificateWithPassword("${file:crlf-password}"), Map.of())
                        .tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo(SECRET);
        assertThat(parse(certificateWithPassword("${file:two-newlines}"), Map.of())
                        .tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo(SECRET + "\n");
    }

    @Test
    void absoluteFileReferenceIsReadAsIs() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")).resolve("pw");
        Files.writeString(elsewhere, SECRET);

        PosternConfig config = parse(certificateWithPassword("${file:" + elsewhere + "}"), Map.of());

        assertThat(config.tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo(SECRET);
    }

    @Test
    void literalKeyPasswordIsASecretToo() throws ConfigException {
        PosternConfig config = parse(certificateWithPassword("'" + SECRET + "'"), Map.of());

        assertThat(config.tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo(SECRET);
        assertThat(config.toString()).doesNotContain(SECRET);
    }

    @Test
    void missingEnvironmentVariableIsNamed() {
        assertThat(problemsWith(certificateWithPassword("${env:KEY_PW}"), Map.of()))
                .containsExactly("tls.certificates[0].key-password: environment variable KEY_PW is not set");
    }

    @Test
    void missingFileIsNamed() {
        assertThat(problemsWith(certificateWithPassword("${file:secrets/pw}"), Map.of()))
                .containsExactly(
                        "tls.certificates[0].key-password: file " + dir.resolve("secrets/pw") + " does not exist");
    }

    @Test
    void directoryIsNotAFileToRead() {
        assertThat(problemsWith(certificateWithPassword("${file:.}"), Map.of()))
                .containsExactly("tls.certificates[0].key-password: file " + dir + " is not a regular file");
    }

    @Test
    void referencesWorkInAnyStringAndInsideText() throws Exception {
        Files.writeString(dir.resolve("backend-host"), "10.0.0.7\n");

        PosternConfig config = parse(
                """
                listeners:
                  - name: ${env:NAME}
                    protocol: imap
                    bind: ${env:HOST}:${env:PORT}
                pools:
                  - name: p
                    backends:
                      - {host: "${file:backend-host}", port: "${env:PORT}"}
                """,
                Map.of("NAME", "imaps", "HOST", "127.0.0.1", "PORT", "1993"));

        ListenerConfig listener = config.listeners().get(0);
        assertThat(listener.name()).isEqualTo("imaps");
        assertThat(listener.bind()).isEqualTo(new HostPort("127.0.0.1", 1993));
        Backend backend = config.pool("p").orElseThrow().backends().get(0);
        assertThat(backend.host()).isEqualTo("10.0.0.7");
        assertThat(backend.port()).isEqualTo(1993);
    }

    @Test
    void doubledDollarIsALiteral() throws ConfigException {
        PosternConfig config = parse(certificateWithPassword("'pa$${x}ss$word'"), Map.of());

        assertThat(config.tls()
                        .certificates()
                        .get(0)
                        .keyPassword()
                        .orElseThrow()
                        .reveal())
                .isEqualTo("pa${x}ss$word");
    }

    @Test
    void malformedReferencesAreExplained() {
        assertThat(problemsWith(
                        """
                        listeners:
                          - name: ${NAME}
                            protocol: ${env:PROTO
                            bind: ${env:BAD NAME}
                        """,
                        Map.of()))
                .containsExactly(
                        "listeners[0].name: '${NAME}' is not a reference (use ${env:NAME} or ${file:PATH}, or $${ for a"
                                + " literal ${)",
                        "listeners[0].protocol: '${env:PROTO' is not closed by '}' (use ${env:NAME} or ${file:PATH},"
                                + " or $${ for a literal ${)",
                        "listeners[0].bind: '${env:BAD NAME}' does not name an environment variable"
                                + " ([A-Za-z_][A-Za-z0-9_]*)");
    }

    @Test
    void invalidValueFromAReferenceIsNotEchoed() {
        Map<String, String> env = Map.of("BIND", SECRET, "PROTO", SECRET, "PORT", SECRET, "WEIGHT", "0");

        List<String> problems = problemsWith(
                """
                listeners:
                  - name: imaps
                    protocol: ${env:PROTO}
                    bind: ${env:BIND}
                pools:
                  - name: p
                    backends:
                      - {host: 10.0.0.1, port: "${env:PORT}", weight: "${env:WEIGHT}"}
                """,
                env);

        assertThat(problems)
                .containsExactly(
                        "pools[0].backends[0].port: the value of '${env:PORT}' is not a port (1-65535)",
                        "pools[0].backends[0].weight: the value of '${env:WEIGHT}' must be between 1 and 1000",
                        "listeners[0].protocol: the value of '${env:PROTO}' is not one of imap, pop3, managesieve, smtp, lmtp, tcp",
                        "listeners[0].bind: the value of '${env:BIND}' is not host:port ([v6]:port for IPv6)");
        assertThat(String.join("\n", problems)).doesNotContain(SECRET);
    }

    @Test
    void exceptionNeverCarriesTheSecret() {
        // The key file is missing, so the configuration fails while holding the password it read.
        String yaml =
                MINIMAL + "tls:\n  certificates:\n    - {cert: mail.pem, key: nokey, key-password: '${env:PW}'}\n";

        assertThatThrownBy(() -> parse(yaml, Map.of("PW", SECRET)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("tls.certificates[0].key: " + dir.resolve("nokey") + " does not exist")
                .satisfies(e -> assertThat(e.toString()).doesNotContain(SECRET));
    }
}
