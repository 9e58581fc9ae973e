package dev.postern.proxy.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Cluster mode's series of {@link PrometheusMetrics}: Redis commands, reconnects, resyncs, whether it is up and how
 * the shared features fare; and the route store's revision, which a single node has too.
 */
final class ClusterSeries {
    private static final double[] COMMAND_BUCKETS = {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5};

    private final Histogram commands;
    private final Counter errors;
    private final Counter reconnects;
    private final Counter resyncs;
    private final LabelValues labels;
    private volatile BooleanSupplier up;
    private volatile LongSupplier revision = () -> 0;
    /** Per shared feature, in registration order of no importance: its state and fallback count. */
    private final Map<String, Shared> shared = new ConcurrentHashMap<>();

    private record Shared(BooleanSupplier state, LongSupplier fallbacks) {}

    ClusterSeries(PrometheusRegistry registry, LabelValues labels) {
        this.labels = labels;
        commands = Histogram.builder()
                .name("postern_cluster_command_duration_seconds")
                .help("Commands to the cluster's Redis, by command and outcome (ok, timeout, unavailable, error)")
                .unit(Unit.SECONDS)
                .labelNames("command", "outcome")
                .classicOnly()
                .classicUpperBounds(COMMAND_BUCKETS)
                .register(registry);
        errors = Counter.builder()
                .name("postern_cluster_command_errors_total")
                .help("Commands to the cluster's Redis that failed, by command and outcome")
                .labelNames("command", "outcome")
                .register(registry);
        reconnects = Counter.builder()
                .name("postern_cluster_reconnects_total")
                .help("Connections to the cluster's Redis made again after one was lost")
                .register(registry);
        resyncs = Counter.builder()
                .name("postern_route_store_resyncs_total")
                .help("Routing tables this node took from the shared store, by what made it look (notified, check,"
                        + " connect, seeded)")
                .labelNames("trigger")
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_cluster_up")
                .help("1 while this node reaches the cluster's Redis (the shared route store takes changes), 0 while"
                        + " it runs on the last table it saw")
                .callback(cb -> {
                    BooleanSupplier s = up;
                    if (s != null) {
                        cb.call(s.getAsBoolean() ? 1 : 0);
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_route_store_revision")
                .help("The revision of the routing table in force")
                .callback(cb -> cb.call(revision.getAsLong()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_cluster_shared")
                .help("1 while a shared feature (throttle, passed-clients) works through the cluster's Redis, 0 while"
                        + " this node runs it alone")
                .labelNames("feature")
                .callback(cb -> shared.forEach((f, s) -> cb.call(s.state().getAsBoolean() ? 1 : 0, f)))
                .register(registry);
        CounterWithCallback.builder()
                .name("postern_cluster_fallbacks_total")
                .help("Operations of a shared feature that this node did alone because Redis could not take them"
                        + " (throttle: failed logins counted here only)")
                .labelNames("feature")
                .callback(cb -> shared.forEach((f, s) -> cb.call(s.fallbacks().getAsLong(), f)))
                .register(registry);
    }

    void command(String command, String outcome, long nanos) {
        String c = labels.bounded("cluster-command", command);
        String o = labels.bounded("cluster-outcome", outcome);
        commands.labelValues(c, o).observe(Unit.nanosToSeconds(nanos));
        if (!o.equals("ok")) {
            errors.labelValues(c, o).inc();
        }
    }

    void reconnect() {
        reconnects.inc();
    }

    void resync(String trigger) {
        resyncs.labelValues(labels.bounded("resync-trigger", trigger)).inc();
    }

    void up(BooleanSupplier source) {
        up = source;
    }

    void revision(LongSupplier source) {
        revision = source;
    }

    void shared(String feature, BooleanSupplier state, LongSupplier fallbacks) {
        shared.put(labels.bounded("cluster-feature", feature), new Shared(state, fallbacks));
    }
}
