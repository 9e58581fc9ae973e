package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminConfigTest {
    private static final String OPS_TOKEN = "0123456789abcdef-ops";

    @Test
    void tokensComeFromTheEnvironmentAndFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ro.token"), "read-only-token-0123456789\n");
        String yaml = MINIMAL
                + """
                admin:
                  bind: 127.0.0.1:9025
                  tls: true
                  metrics-auth: true
                  tokens:
                    - {name: ops, token: "${env:POSTERN_ADMIN_TOKEN}", access: read-write}
                    - {name: grafana, token: "${file:ro.token}", access: read-only}
                """;

        AdminConfig admin =
                parse(yaml, dir, Map.of("POSTERN_ADMIN_TOKEN", OPS_TOKEN)).admin();

        assertThat(admin.bind()).contains(new HostPort("127.0.0.1", 9025));
        assertThat(admin.tls()).isTrue();
        assertThat(admin.metricsAuth()).isTrue();
        assertThat(admin.tokens())
                .extracting(t ->
                        t.name() + " " + t.token().reveal() + " " + t.access().configName())
                .containsExactly("ops " + OPS_TOKEN + " read-write", "grafana read-only-token-0123456789 read-only");
    }

    @Test
    void aTokenIsReadOnlyUnlessItSaysOtherwise() throws ConfigException {
        AdminConfig admin = parse(MINIMAL + "admin:\n  bind: 127.0.0.1:9025\n  tokens:\n    - {name: viewer, token: "
                        + OPS_TOKEN + "}\n")
                .admin();

        assertThat(admin.tokens()).singleElement().satisfies(t -> assertThat(t.access())
                .isEqualTo(AdminConfig.Access.READ_ONLY));
        assertThat(admin.tls()).isFalse();
        assertThat(admin.metricsAuth()).isFalse();
    }

    @Test
    void withoutTokensTheApiIsStillConfiguredButNobodyMayCallIt() throws ConfigException {
        AdminConfig admin = parse(MINIMAL + "admin:\n  bind: 127.0.0.1:9025\n").admin();

        assertThat(admin.bind()).isPresent();
        assertThat(admin.tokens()).isEmpty();
    }

    @Test
    void everyTokenProblemIsReportedWithoutShowingTheToken() {
        List<String> problems = problems(
                MINIMAL
                        + """
                        admin:
                          bind: 127.0.0.1:9025
                          tls: yes-please
                          tokens:
                            - {name: ops, token: short-secret, access: read-write}
                            - {name: ops, token: "has spaces in the-secret-token"}
                            - {name: Bad Name, token: 0123456789abcdef-x, access: admin}
                            - {token: 0123456789abcdef-x, acess: read-only}
                            - {name: env, token: "${env:UNSET_TOKEN}"}
                        """);

        assertThat(problems)
                .containsExactly(
                        "admin.tls: 'yes-please' is not true or false",
                        "admin.tokens[0].token: is too short (at least 16 characters; e.g. the output of `openssl rand"
                                + " -base64 32`)",
                        "admin.tokens[1].name: 'ops' is already used by admin.tokens[0]",
                        "admin.tokens[1].token: has characters a bearer token cannot carry (letters, digits and"
                                + " -._~+/, then '=' padding)",
                        "admin.tokens[2].name: 'Bad Name' is not a valid name (lowercase letters, digits, '-' and '_',"
                                + " starting with a letter or digit)",
                        "admin.tokens[2].access: 'admin' is not one of read-only, read-write",
                        "admin.tokens[3].acess: unknown key (did you mean 'access'?)",
                        "admin.tokens[3].name: is required",
                        "admin.tokens[3].token: is the same token as admin.tokens[2]'s; give each its own",
                        "admin.tokens[4].token: environment variable UNSET_TOKEN is not set");
        assertThat(String.join("\n", problems)).doesNotContain("short-secret").doesNotContain("has spaces");
    }

    @Test
    void tokensMustBeAList() {
        assertThat(problems(MINIMAL + "admin:\n  bind: 127.0.0.1:9025\n  tokens: {name: ops}\n"))
                .containsExactly("admin.tokens: a mapping is not a list");
    }
}
