package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SettingsValidationTest {

    @Test
    void readsEveryTimeout() throws ConfigException {
        TimeoutsConfig timeouts = parse(
                        MINIMAL
                                + """
                        timeouts:
                          connect: 500ms
                          tls-handshake: 5
                          pre-auth: 2m
                          idle: 1h
                          shutdown-grace: 2d
                        """)
                .timeouts();

        assertThat(timeouts)
                .isEqualTo(new TimeoutsConfig(
                        Duration.ofMillis(500),
                        Duration.ofSeconds(5),
                        Duration.ofMinutes(2),
                        Duration.ofHours(1),
                        Duration.ofDays(2)));
    }

    @Test
    void readsEveryLimit() throws ConfigException {
        LimitsConfig limits = parse(
                        MINIMAL
                                + """
                        limits:
                          max-connections: 1000
                          write-buffer-low: 64KiB
                          write-buffer-high: 1MiB
                          line-length: 512
                          sasl-line-length: 1GiB
                          literal-size: 0
                          bad-commands: 1
                          auth-failures: 5
                          pre-auth-connections-per-client: 7
                        """)
                .limits();

        assertThat(limits).isEqualTo(new LimitsConfig(1000, 65536, 1 << 20, 512, 1 << 30, 0, 1, 5, 7));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    5 sec  | '5 sec' is not a duration (unit 'sec' is not one of ms, s, m, h, d)
                    5S     | '5S' is not a duration (unit 'S' is not one of ms, s, m, h, d)
                    -5s    | '-5s' is not a duration (a number with ms, s, m, h or d, e.g. 30s; a bare number is seconds)
                    1.5    | 1.5 is not a duration (a number with ms, s, m, h or d, e.g. 30s; a bare number is seconds)
                    1h30m  | '1h30m' is not a duration (a number with ms, s, m, h or d, e.g. 30s; a bare number is seconds)
                    0s     | 0s must be > 0
                    0      | 0 must be > 0
                    -5     | -5 must be > 0
                    [5s]   | a list is not a duration
                    """)
    void badDurationsAreNamed(String value, String message) {
        assertThat(problems(MINIMAL + "timeouts:\n  idle: " + value + "\n"))
                .containsExactly("timeouts.idle: " + message);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            textBlock =
                    """
                    8KB   | '8KB' is not a size (unit 'KB' is not one of KiB, MiB, GiB; sizes use binary units)
                    1M    | '1M' is not a size (unit 'M' is not one of KiB, MiB, GiB; sizes use binary units)
                    8kib  | '8kib' is not a size (unit 'kib' is not one of KiB, MiB, GiB; sizes use binary units)
                    lots  | 'lots' is not a size (bytes, or a number with KiB, MiB or GiB, e.g. 64KiB)
                    -1    | -1 is not a size (bytes, or a number with KiB, MiB or GiB, e.g. 64KiB)
                    4GiB  | 4GiB is too large (at most 2147483647 bytes)
                    """)
    void badSizesAreNamed(String value, String message) {
        assertThat(problems(MINIMAL + "limits:\n  literal-size: " + value + "\n"))
                .containsExactly("limits.literal-size: " + message);
    }

    @Test
    void timeoutsMustBePositiveAndKnown() {
        assertThat(problems(MINIMAL + "timeouts:\n  connect: 0ms\n  preauth: 1m\n"))
                .containsExactly(
                        "timeouts.preauth: unknown key (did you mean 'pre-auth'?)",
                        "timeouts.connect: 0ms must be > 0");
    }

    @Test
    void lineLengthIsBetween512BytesAnd1MiB() {
        assertThat(problems(MINIMAL + "limits:\n  line-length: 100\n"))
                .containsExactly("limits.line-length: 100 must be between 512 bytes and 1MiB");
        assertThat(problems(MINIMAL + "limits:\n  line-length: 2MiB\n  sasl-line-length: 4MiB\n"))
                .containsExactly("limits.line-length: 2MiB must be between 512 bytes and 1MiB");
    }

    @Test
    void writeBufferHighMustExceedLow() {
        assertThat(problems(MINIMAL + "limits:\n  write-buffer-low: 64KiB\n  write-buffer-high: 64KiB\n"))
                .containsExactly("limits.write-buffer-high: 64KiB must be > write-buffer-low (64KiB)");
    }

    @Test
    void raisingOnlyTheLowWaterMarkIsReportedWhereItWasWritten() {
        assertThat(problems(MINIMAL + "limits:\n  write-buffer-low: 1MiB\n"))
                .containsExactly("limits.write-buffer-low: 1MiB must be < write-buffer-high (64KiB)");
    }

    @Test
    void saslLineLengthMustBeAtLeastLineLength() {
        assertThat(problems(MINIMAL + "limits:\n  line-length: 16KiB\n  sasl-line-length: 8KiB\n"))
                .containsExactly("limits.sasl-line-length: 8KiB must be >= line-length (16KiB)");
    }

    @Test
    void countsAreAtLeastOneAndConnectionsAtLeastZero() {
        assertThat(problems(MINIMAL + "limits:\n  max-connections: -1\n  bad-commands: 0\n  auth-failures: 0\n"))
                .containsExactly(
                        "limits.max-connections: -1 must be >= 0",
                        "limits.bad-commands: 0 must be >= 1",
                        "limits.auth-failures: 0 must be >= 1");
    }

    @Test
    void numbersMayBeQuoted() throws ConfigException {
        LimitsConfig limits = parse(MINIMAL + "limits:\n  max-connections: '7'\n  literal-size: '1024'\n")
                .limits();

        assertThat(limits.maxConnections()).isEqualTo(7);
        assertThat(limits.literalSize()).isEqualTo(1024);
    }
}
