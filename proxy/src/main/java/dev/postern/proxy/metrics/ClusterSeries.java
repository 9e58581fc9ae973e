package dev.postern.proxy.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.function.BooleanSupplier;

/** Cluster mode's series of {@link PrometheusMetrics}: Redis commands, reconnects, resyncs, and whether it is up. */
final class ClusterSeries {
    private static final double[] COMMAND_BUCKETS = {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5};

    private final Histogram commands;
    private final Counter errors;
    private final Counter reconnects;
    private final Counter resyncs;
    private final LabelValues labels;
    private volatile BooleanSupplier up;

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
}
