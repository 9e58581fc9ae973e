package dev.postern.proxy.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Set;
import java.util.function.IntSupplier;

/** The hold series of {@link PrometheusMetrics}: logins waiting on a hold, and how long they waited. */
final class HoldSeries {
    private static final double[] WAIT_BUCKETS = {.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120};
    private static final Set<String> OUTCOMES = Set.of("released", "expired", "timeout", "refused");

    private final Histogram wait;
    private volatile IntSupplier held = () -> 0;

    HoldSeries(PrometheusRegistry registry) {
        GaugeWithCallback.builder()
                .name("postern_held_logins")
                .help("Logins waiting now on a hold of their user (a mailbox move)")
                .callback(cb -> cb.call(held.getAsInt()))
                .register(registry);
        wait = Histogram.builder()
                .name("postern_hold_wait_duration_seconds")
                .help("How long logins waited on a hold, by how the wait ended (released, expired, timeout, refused)")
                .unit(Unit.SECONDS)
                .labelNames("outcome")
                .classicOnly()
                .classicUpperBounds(WAIT_BUCKETS)
                .register(registry);
    }

    void held(IntSupplier source) {
        held = source;
    }

    void waited(String outcome, long nanos) {
        wait.labelValues(OUTCOMES.contains(outcome) ? outcome : "other").observe(nanos / 1e9);
    }
}
