package dev.postern.proxy.metrics;

import dev.postern.config.Protocol;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/** The authentication series of {@link PrometheusMetrics}: attempts by outcome, the auth cache, throttling. */
final class AuthSeries {
    private static final double[] AUTH_BUCKETS = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

    private final Counter authAttempts;
    private final Counter authCache;
    private final Histogram authLoad;
    private final Counter authEvictions;
    private final Counter throttled;
    private final Counter delayed;
    private final LabelValues labels;
    private final ConcurrentHashMap<AuthKey, CounterDataPoint> attempts = new ConcurrentHashMap<>();
    final CounterDataPoint hit;
    final CounterDataPoint miss;
    final CounterDataPoint stale;

    AuthSeries(PrometheusRegistry registry, LabelValues labels) {
        this.labels = labels;
        authAttempts = Counter.builder()
                .name("postern_auth_attempts_total")
                .help("Login attempts, by protocol, mechanism, deciding provider, outcome and whether the auth cache"
                        + " answered")
                .labelNames("protocol", "mechanism", "provider", "outcome", "cached")
                .register(registry);
        authCache = Counter.builder()
                .name("postern_auth_cache_requests_total")
                .help("Auth cache lookups: hit, miss, or stale (an accepted entry served while its provider fails)")
                .labelNames("result")
                .register(registry);
        authLoad = Histogram.builder()
                .name("postern_auth_cache_load_duration_seconds")
                .help("Time a provider call made for the auth cache took")
                .unit(Unit.SECONDS)
                .labelNames("outcome")
                .classicOnly()
                .classicUpperBounds(AUTH_BUCKETS)
                .register(registry);
        authEvictions = Counter.builder()
                .name("postern_auth_cache_evictions_total")
                .help("Entries the auth cache dropped, by cause (size, expired)")
                .labelNames("cause")
                .register(registry);
        throttled = Counter.builder()
                .name("postern_throttled_logins_total")
                .help("Logins refused by brute-force throttling, by protocol and what was blocked (address, user,"
                        + " user-address)")
                .labelNames("protocol", "scope")
                .register(registry);
        delayed = Counter.builder()
                .name("postern_login_delays_total")
                .help("Failed logins whose answer brute-force throttling delayed")
                .labelNames("protocol")
                .register(registry);
        hit = authCache.labelValues("hit");
        miss = authCache.labelValues("miss");
        stale = authCache.labelValues("stale");
    }

    void decision(Protocol protocol, String mechanism, String provider, String outcome, boolean cached) {
        attempts.computeIfAbsent(
                        new AuthKey(protocol, mechanism, provider, outcome, cached),
                        k -> authAttempts.labelValues(
                                protocol.configName(),
                                labels.bounded("mechanism", mechanism.toLowerCase(Locale.ROOT)),
                                labels.bounded("provider", provider),
                                labels.bounded("outcome", outcome),
                                cached ? "true" : "false"))
                .inc();
    }

    void load(boolean ok, long nanos) {
        authLoad.labelValues(ok ? "ok" : "error").observe(Unit.nanosToSeconds(nanos));
    }

    void eviction(String cause) {
        authEvictions.labelValues(labels.bounded("cause", cause)).inc();
    }

    void throttled(Protocol protocol, String scope) {
        throttled
                .labelValues(protocol.configName(), labels.bounded("scope", scope))
                .inc();
    }

    void delayed(Protocol protocol) {
        delayed.labelValues(protocol.configName()).inc();
    }

    private record AuthKey(Protocol protocol, String mechanism, String provider, String outcome, boolean cached) {}
}
