package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** YAML fragments and helpers shared by the loader tests. */
final class ConfigTexts {
    /** A pool that the minimal listener can use. */
    static final String POOLS =
            """
            pools:
              - name: dovecot
                backends:
                  - address: 127.0.0.1:2143
              - name: postfix
                backends:
                  - address: 127.0.0.1:2025
            """;

    /** The smallest valid configuration. */
    static final String MINIMAL =
            """
            listeners:
              - name: imaps
                protocol: imap
                bind: 127.0.0.1:1993
            """;

    private ConfigTexts() {}

    static PosternConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Path.of("/nonexistent"), Map.<String, String>of()::get);
    }

    static PosternConfig parse(String yaml, Path baseDir, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml, baseDir, env::get);
    }

    /** The problems {@code yaml} has, as {@code path: message}; fails when it loads. */
    static List<String> problems(String yaml) {
        return problems(yaml, Path.of("/nonexistent"), Map.<String, String>of()::get);
    }

    static List<String> problems(String yaml, Path baseDir, Function<String, String> env) {
        ConfigException[] thrown = new ConfigException[1];
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, baseDir, env))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> thrown[0] = (ConfigException) e);
        return thrown[0].problems().stream().map(ConfigProblem::toString).toList();
    }

    /** A configuration with one listener whose body (indented by 4) is {@code listener}, and the standard pools. */
    static String withListener(String listener) {
        return "listeners:\n  - " + listener.strip().replace("\n", "\n    ") + "\n" + POOLS;
    }
}
