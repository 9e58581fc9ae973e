package dev.postern.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.HostPort;
import dev.postern.config.LimitsConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.TimeoutsConfig;
import dev.postern.config.TlsConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.CertificateInfo;
import io.netty.channel.embedded.EmbeddedChannel;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The Prometheus recorder, read back through the text exposition a scraper would get. */
class PrometheusMetricsTest {
    private static final ListenerConfig IMAPS = new ListenerConfig(
            "imaps",
            Protocol.IMAP,
            new HostPort("127.0.0.1", 1993),
            TlsMode.IMPLICIT,
            Optional.of("dovecot"),
            false,
            ListenerConfig.StartTlsPipelining.CLOSE,
            TimeoutsConfig.DEFAULTS,
            LimitsConfig.DEFAULTS);

    private final PrometheusMetrics metrics =
            new PrometheusMetrics(new io.prometheus.metrics.model.registry.PrometheusRegistry());

    private String text() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aSessionIsCountedFromAcceptToClose() {
        SessionRegistry sessions = new SessionRegistry(metrics);
        EmbeddedChannel client = new EmbeddedChannel();
        Session session = sessions.open(IMAPS, client);
        session.user("alice@example.com");
        session.addBytesFromClient(120);
        session.addBytesToClient(4096);

        assertThat(text())
                .contains("postern_connections_accepted_total{listener=\"imaps\",protocol=\"imap\"} 1.0")
                .contains("postern_connections_active{listener=\"imaps\",protocol=\"imap\"} 1.0");

        session.close(CloseReason.IDLE_TIMEOUT, null);
        client.finishAndReleaseAll();

        assertThat(text())
                .contains("postern_connections_active{listener=\"imaps\",protocol=\"imap\"} 0.0")
                .contains("postern_sessions_closed_total{listener=\"imaps\",protocol=\"imap\",reason=\"idle-timeout\"}"
                        + " 1.0")
                .contains("postern_session_duration_seconds_count{listener=\"imaps\",protocol=\"imap\"} 1")
                .contains("postern_relayed_bytes_total{direction=\"from-client\",protocol=\"imap\"} 120.0")
                .contains("postern_relayed_bytes_total{direction=\"to-client\",protocol=\"imap\"} 4096.0")
                .doesNotContain("alice")
                .doesNotContain("embedded");
    }

    @Test
    void refusalsAreCountedByReasonAndStartTlsInjectionOnItsOwnToo() {
        metrics.connectionRefused(IMAPS, "starttls-injection");
        metrics.connectionRefused(IMAPS, "line-too-long");

        assertThat(text())
                .contains("postern_connections_refused_total{listener=\"imaps\",protocol=\"imap\","
                        + "reason=\"starttls-injection\"} 1.0")
                .contains("postern_connections_refused_total{listener=\"imaps\",protocol=\"imap\","
                        + "reason=\"line-too-long\"} 1.0")
                .contains("postern_starttls_injection_refusals_total{listener=\"imaps\",protocol=\"imap\"} 1.0");
    }

    @Test
    void smtpRelayRefusalsMessagesAndDnsListVerdicts() {
        metrics.smtpRejected(IMAPS, "relay-denied");
        metrics.smtpRejected(IMAPS, "relay-denied");
        metrics.smtpMessage(IMAPS, true, 1000);
        metrics.smtpMessage(IMAPS, false, 24);
        metrics.dnsblVerdict(IMAPS, "blocked");

        assertThat(text())
                .contains("postern_smtp_rejected_total{listener=\"imaps\",reason=\"relay-denied\"} 2.0")
                .contains("postern_smtp_messages_total{listener=\"imaps\",outcome=\"accepted\"} 1.0")
                .contains("postern_smtp_messages_total{listener=\"imaps\",outcome=\"refused\"} 1.0")
                .contains("postern_smtp_message_bytes_total{listener=\"imaps\"} 1024.0")
                .contains("postern_dnsbl_verdicts_total{listener=\"imaps\",verdict=\"blocked\"} 1.0");
    }

    @Test
    void tlsHandshakesByOutcomeVersionAndCipherWithDuration() {
        metrics.tlsHandshake(IMAPS, "ok", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 3_000_000);
        metrics.tlsHandshake(IMAPS, "failed", null, null, 1_000_000_000);

        assertThat(text())
                .contains("postern_tls_handshakes_total{cipher=\"TLS_AES_128_GCM_SHA256\",listener=\"imaps\","
                        + "outcome=\"ok\",version=\"TLSv1.3\"} 1.0")
                .contains("postern_tls_handshakes_total{cipher=\"none\",listener=\"imaps\",outcome=\"failed\","
                        + "version=\"none\"} 1.0")
                .contains("postern_tls_handshake_duration_seconds_bucket{listener=\"imaps\",outcome=\"ok\","
                        + "le=\"0.005\"} 1")
                .contains("postern_tls_handshake_duration_seconds_bucket{listener=\"imaps\",outcome=\"failed\","
                        + "le=\"0.5\"} 0")
                .contains("postern_tls_handshake_duration_seconds_sum{listener=\"imaps\",outcome=\"failed\"} 1.0");
    }

    @Test
    void backendConnectsHealthAndSessions() {
        metrics.backendConnect("dovecot", "d1", true, 2_000_000);
        metrics.backendConnect("dovecot", "d2", false, 5_000_000_000L);
        metrics.backendHealth("dovecot", "d2", false);
        metrics.backendHealth("dovecot", "d1", true);
        BackendRuntime d1 = new BackendRuntime(
                "dovecot",
                new Backend(
                        "d1",
                        "10.0.0.1",
                        143,
                        Map.of(),
                        1,
                        Backend.State.ACTIVE,
                        0,
                        TlsMode.NONE,
                        true,
                        Backend.Identity.NONE,
                        Optional.empty()));
        Backend c = d1.config();
        BackendRuntime d2 = new BackendRuntime(
                "dovecot",
                new Backend(
                        "d2",
                        c.host(),
                        c.port(),
                        c.ports(),
                        c.weight(),
                        c.state(),
                        c.maxSessions(),
                        c.tls(),
                        c.tlsVerify(),
                        c.identity(),
                        c.master()));
        d2.healthy(false);
        metrics.backends(() -> List.of(d1, d2));

        assertThat(text())
                .contains("postern_backend_connect_duration_seconds_count{backend=\"d1\",outcome=\"ok\","
                        + "pool=\"dovecot\"} 1")
                .contains("postern_backend_connect_duration_seconds_count{backend=\"d2\",outcome=\"failed\","
                        + "pool=\"dovecot\"} 1")
                .contains("postern_backend_healthy{backend=\"d1\",pool=\"dovecot\"} 1.0")
                .contains("postern_backend_healthy{backend=\"d2\",pool=\"dovecot\"} 0.0")
                .contains("postern_backend_health_changes_total{backend=\"d2\",pool=\"dovecot\",state=\"down\"} 1.0")
                .contains("postern_backend_sessions{backend=\"d1\",pool=\"dovecot\"} 0.0");
    }

    @Test
    void failedHealthChecksAreCountedByReason() {
        metrics.backendCheckFailed("dovecot", "d2", "login-refused");
        metrics.backendCheckFailed("dovecot", "d2", "login-refused");
        metrics.backendCheckFailed("dovecot", "d1", "timeout");

        assertThat(text())
                .contains("postern_backend_check_failures_total{backend=\"d2\",pool=\"dovecot\","
                        + "reason=\"login-refused\"} 2.0")
                .contains("postern_backend_check_failures_total{backend=\"d1\",pool=\"dovecot\",reason=\"timeout\"}"
                        + " 1.0");
    }

    @Test
    void authAttemptsCacheLoadsAndThrottling() {
        metrics.authDecision(Protocol.IMAP, "PLAIN", "static", "accepted", false);
        metrics.authDecision(Protocol.SMTP, "LOGIN", "http", "rejected", true);
        metrics.authCacheHit();
        metrics.authCacheMiss();
        metrics.authCacheStaleServed();
        metrics.authCacheLoad(true, 40_000_000);
        metrics.authCacheEviction("size");
        metrics.loginThrottled(Protocol.IMAP, "address");
        metrics.loginDelayed(Protocol.IMAP, 2000);

        assertThat(text())
                .contains("postern_auth_attempts_total{cached=\"false\",mechanism=\"plain\",outcome=\"accepted\","
                        + "protocol=\"imap\",provider=\"static\"} 1.0")
                .contains("postern_auth_attempts_total{cached=\"true\",mechanism=\"login\",outcome=\"rejected\","
                        + "protocol=\"smtp\",provider=\"http\"} 1.0")
                .contains("postern_auth_cache_requests_total{result=\"hit\"} 1.0")
                .contains("postern_auth_cache_requests_total{result=\"stale\"} 1.0")
                .contains("postern_auth_cache_load_duration_seconds_count{outcome=\"ok\"} 1")
                .contains("postern_auth_cache_evictions_total{cause=\"size\"} 1.0")
                .contains("postern_throttled_logins_total{protocol=\"imap\",scope=\"address\"} 1.0")
                .contains("postern_login_delays_total{protocol=\"imap\"} 1.0");
    }

    @Test
    void certificateExpiryAndRouteRevisionAreReadAtScrapeTime() {
        AtomicLong revision = new AtomicLong(7);
        metrics.routeRevision(revision::get);
        metrics.certificates(() -> List.of(new CertificateInfo(
                "example-com",
                "CN=mail.example.com",
                List.of("mail.example.com"),
                Instant.parse("2030-01-01T00:00:00Z"),
                List.of("mail.example.com"),
                true,
                TlsConfig.Provider.JDK,
                false)));

        assertThat(text())
                .contains("postern_route_store_revision 7.0")
                .contains("postern_tls_certificate_expiry_timestamp_seconds{certificate=\"example-com\"} 1.893456E9");
        revision.set(8);
        assertThat(text()).contains("postern_route_store_revision 8.0");
    }

    @Test
    void freeFormLabelValuesAreBoundedAndCleaned() {
        for (int i = 0; i < 200; i++) {
            metrics.authDecision(Protocol.IMAP, "mech-" + i, "static", "rejected", false);
        }
        metrics.authCacheEviction("h\u00efT {x=\"y\"}");

        String text = text();
        assertThat(text.lines()
                        .filter(l -> l.startsWith("postern_auth_attempts_total{"))
                        .count())
                .isEqualTo(PrometheusMetrics.MAX_VALUES + 1);
        assertThat(text)
                .contains("postern_auth_attempts_total{cached=\"false\",mechanism=\"other\",outcome=\"rejected\","
                        + "protocol=\"imap\",provider=\"static\"} " + (200.0 - PrometheusMetrics.MAX_VALUES))
                .contains("postern_auth_cache_evictions_total{cause=\"h_T__x__y__\"} 1.0");
    }

    @Test
    void openMetricsAndJvmSeriesAreThereWhenCreatedForTheApp() throws IOException {
        PrometheusMetrics app = PrometheusMetrics.create();
        app.sessionOpened(IMAPS);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OpenMetricsTextFormatWriter.create().write(out, app.registry().scrape());
        String text = out.toString(StandardCharsets.UTF_8);

        assertThat(text)
                .contains("# TYPE postern_connections_accepted counter")
                .contains("postern_connections_accepted_total{listener=\"imaps\",protocol=\"imap\"} 1.0")
                .contains("jvm_memory_used_bytes")
                .contains("process_cpu_seconds_total")
                .endsWith("# EOF\n");
    }

    @Test
    void clusterModeReportsRedisCommandsReconnectsResyncsAndWhetherItIsUp() {
        assertThat(text()).doesNotContain("postern_cluster_up ");
        AtomicBoolean up = new AtomicBoolean(true);
        metrics.clusterUp(up::get);
        metrics.clusterCommand("routes-write", "ok", 2_000_000);
        metrics.clusterCommand("routes-write", "timeout", 500_000_000);
        metrics.clusterReconnect();
        metrics.routeStoreResync("notified");

        String text = text();
        assertThat(text)
                .contains("postern_cluster_up 1.0")
                .contains("postern_cluster_command_duration_seconds_count{command=\"routes-write\",outcome=\"ok\"} 1")
                .contains("postern_cluster_command_errors_total{command=\"routes-write\",outcome=\"timeout\"} 1.0")
                .doesNotContain("postern_cluster_command_errors_total{command=\"routes-write\",outcome=\"ok\"}")
                .contains("postern_cluster_reconnects_total 1.0")
                .contains("postern_route_store_resyncs_total{trigger=\"notified\"} 1.0");
        up.set(false);
        assertThat(text()).contains("postern_cluster_up 0.0");
    }

    @Test
    void reloadsAreCountedByOutcome() {
        metrics.configReload("applied");
        metrics.configReload("applied");
        metrics.configReload("rejected");
        assertThat(text())
                .contains("postern_config_reloads_total{outcome=\"applied\"} 2.0")
                .contains("postern_config_reloads_total{outcome=\"rejected\"} 1.0");
    }
}
