package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.metrics.Counter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /metrics} serves the registry in the format the scraper asks for. */
class MetricsEndpointTest {
    private final AdminFixture admin = AdminFixture.start();

    @BeforeEach
    void someSeries() {
        Counter.builder()
                .name("postern_test_events_total")
                .help("Events in a test")
                .labelNames("listener")
                .register(admin.registry)
                .labelValues("imaps")
                .inc(3);
    }

    @AfterEach
    void stop() {
        admin.close();
    }

    @Test
    void prometheusTextByDefault() {
        AdminFixture.Reply r = admin.send("GET", "/metrics", null, null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body())
                .contains("# TYPE postern_test_events_total counter")
                .contains("postern_test_events_total{listener=\"imaps\"} 3.0")
                .doesNotContain("# EOF");
    }

    @Test
    void openMetricsWhenAskedFor() {
        AdminFixture.Reply r = admin.send(
                "GET",
                "/metrics",
                null,
                null,
                "Accept",
                "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("application/openmetrics-text; version=1.0.0");
        assertThat(r.body())
                .contains("# TYPE postern_test_events counter")
                .contains("postern_test_events_total{listener=\"imaps\"} 3.0")
                .endsWith("# EOF\n");
    }

    @Test
    void protobufIsNotShippedSoTextIsServed() {
        AdminFixture.Reply r = admin.send(
                "GET",
                "/metrics",
                null,
                null,
                "Accept",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("text/plain");
    }
}
