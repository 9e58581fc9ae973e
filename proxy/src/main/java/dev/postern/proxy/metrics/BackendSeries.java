package dev.postern.proxy.metrics;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** The backend series of {@link PrometheusMetrics}: connects, health, active-check failures, live sessions. */
final class BackendSeries {
    private final LabelValues labels;
    private final Histogram backendConnect;
    private final Counter healthChanges;
    private final Counter checkFailures;
    /** pool -> backend -> {ok, failed} connect points, made once per backend. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, DistributionDataPoint[]>> connectSeries =
            new ConcurrentHashMap<>();

    private volatile Supplier<? extends Collection<? extends BackendGauge>> backends = List::of;

    BackendSeries(PrometheusRegistry registry, LabelValues labels, double[] connectBuckets) {
        this.labels = labels;
        backendConnect = Histogram.builder()
                .name("postern_backend_connect_duration_seconds")
                .help("Time to connect to a backend, by outcome")
                .unit(Unit.SECONDS)
                .labelNames("pool", "backend", "outcome")
                .classicOnly()
                .classicUpperBounds(connectBuckets)
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_backend_healthy")
                .help("1 while a backend passes its health checks, 0 while it fails them")
                .labelNames("pool", "backend")
                .callback(cb -> {
                    for (BackendGauge b : backends.get()) {
                        cb.call(b.healthy() ? 1 : 0, b.pool(), b.id());
                    }
                })
                .register(registry);
        healthChanges = Counter.builder()
                .name("postern_backend_health_changes_total")
                .help("Backends going down or coming back, by the state they went to")
                .labelNames("pool", "backend", "state")
                .register(registry);
        checkFailures = Counter.builder()
                .name("postern_backend_check_failures_total")
                .help("Failed active health checks of a backend, by reason (connect, timeout, greeting, tls,"
                        + " login-refused, command, closed, protocol)")
                .labelNames("pool", "backend", "reason")
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_backend_sessions")
                .help("Live sessions on a backend")
                .labelNames("pool", "backend")
                .callback(cb -> {
                    for (BackendGauge b : backends.get()) {
                        cb.call(b.sessions(), b.pool(), b.id());
                    }
                })
                .register(registry);
    }

    void backends(Supplier<? extends Collection<? extends BackendGauge>> source) {
        backends = source;
    }

    void connect(String pool, String backend, boolean ok, long nanos) {
        DistributionDataPoint[] points = connectSeries
                .computeIfAbsent(pool, p -> new ConcurrentHashMap<>())
                .computeIfAbsent(backend, b -> new DistributionDataPoint[] {
                    backendConnect.labelValues(pool, backend, "ok"), backendConnect.labelValues(pool, backend, "failed")
                });
        points[ok ? 0 : 1].observe(Unit.nanosToSeconds(nanos));
    }

    void healthChanged(String pool, String backend, boolean healthy) {
        healthChanges.labelValues(pool, backend, healthy ? "up" : "down").inc();
    }

    void checkFailed(String pool, String backend, String reason) {
        checkFailures
                .labelValues(pool, backend, labels.bounded("check_reason", reason))
                .inc();
    }
}
