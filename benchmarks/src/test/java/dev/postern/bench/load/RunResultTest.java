package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class RunResultTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RunResult result(String firstError, long bytes) {
        return new RunResult(
                "imap-login",
                "nginx",
                "implicit",
                32,
                2.0,
                100,
                new Latencies.Summary(1_500_000, 2_000_000, 9_000_000, 12_345_678),
                3,
                firstError,
                bytes,
                0);
    }

    @Test
    void isOneLineOfJsonWithEveryFigure() throws Exception {
        String line = result("LOGIN: a1 NO [AUTHENTICATIONFAILED] \"bad\"\r\n", 4_000_000)
                .toJson();
        assertThat(line).doesNotContain("\n");
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("scenario").asText()).isEqualTo("imap-login");
        assertThat(n.get("label").asText()).isEqualTo("nginx");
        assertThat(n.get("ops").asLong()).isEqualTo(100);
        assertThat(n.get("ops_per_s").asDouble()).isEqualTo(50.0);
        assertThat(n.get("latency_ms").get("p50").asDouble()).isEqualTo(1.5);
        assertThat(n.get("latency_ms").get("p90").asDouble()).isEqualTo(2.0);
        assertThat(n.get("latency_ms").get("p99").asDouble()).isEqualTo(9.0);
        assertThat(n.get("latency_ms").get("max").asDouble()).isEqualTo(12.346);
        assertThat(n.get("errors").asLong()).isEqualTo(3);
        assertThat(n.get("first_error").asText()).isEqualTo("LOGIN: a1 NO [AUTHENTICATIONFAILED] \"bad\"\r\n");
        assertThat(n.get("mb_per_s").asDouble()).isEqualTo(2.0);
    }

    @Test
    void noErrorIsNull() throws Exception {
        JsonNode n = JSON.readTree(result(null, 0).toJson());
        assertThat(n.get("first_error").isNull()).isTrue();
        assertThat(n.get("mb_per_s").asDouble()).isZero();
    }

    @Test
    void controlCharactersAreEscaped() throws Exception {
        String line = result("a\u0001b\\c\td", 0).toJson();
        assertThat(line).contains("a\\u0001b\\\\c\\td");
        assertThat(JSON.readTree(line).get("first_error").asText()).isEqualTo("a\u0001b\\c\td");
    }
}
