package dev.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({"500ms, 500", "5s, 5000", "30m, 1800000", "1h, 3600000", "2d, 172800000", "45, 45000", "5 s, 5000"})
    void parsesDurations(String text, long millis) {
        assertThat(Units.parseDuration(text)).contains(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "s", "5sec", "5S", "-5s", "1.5s", "1h30m", "PT5S", "99999999999999999d"})
    void refusesWhatIsNotADuration(String text) {
        assertThat(Units.parseDuration(text)).isEmpty();
    }

    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({"512, 512", "0, 0", "8KiB, 8192", "64KiB, 65536", "1MiB, 1048576", "1GiB, 1073741824", "2 KiB, 2048"})
    void parsesSizes(String text, long bytes) {
        assertThat(Units.parseSize(text)).hasValue(bytes);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"", "KiB", "8KB", "8kB", "8K", "1MB", "1GB", "8kib", "-1", "1.5KiB", "999999999999999999GiB"})
    void refusesWhatIsNotASizeInBinaryUnits(String text) {
        assertThat(Units.parseSize(text)).isEmpty();
    }

    @Test
    void formatsSizesExactly() {
        assertThat(Units.formatSize(512)).isEqualTo("512 bytes");
        assertThat(Units.formatSize(1)).isEqualTo("1 byte");
        assertThat(Units.formatSize(0)).isEqualTo("0 bytes");
        assertThat(Units.formatSize(65536)).isEqualTo("64KiB");
        assertThat(Units.formatSize(1536 * 1024)).isEqualTo("1536KiB");
        assertThat(Units.formatSize(1 << 20)).isEqualTo("1MiB");
        assertThat(Units.formatSize(1L << 31)).isEqualTo("2GiB");
    }
}
