package dev.postern.proxy.metrics;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@link Metrics} as Prometheus series named {@code postern_*}, for {@code /metrics}. Every label value is bounded:
 * names from the configuration (listeners, pools, backends, certificates) and short words from the code; a free-form
 * value (an outcome, a mechanism, a cipher) is reduced to {@code [A-Za-z0-9._-]} and each label takes at most
 * {@value #MAX_VALUES} distinct values, the rest counted as {@code other}. No user, address or message id is ever a
 * label.
 */
public final class PrometheusMetrics implements Metrics {
    static final int MAX_VALUES = LabelValues.MAX_VALUES;
    private static final double[] HANDSHAKE_BUCKETS = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    private static final double[] CONNECT_BUCKETS = {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5};
    private static final double[] SESSION_BUCKETS = {.1, 1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400
    };

    private final PrometheusRegistry registry;
    private final Counter accepted;
    private final Gauge active;
    private final Counter refused;
    private final Counter startTlsInjections;
    private final Counter handshakes;
    private final Histogram handshakeDuration;
    private final Counter sessionsClosed;
    private final Counter configReloads;
    private final Histogram sessionDuration;
    private final Counter bytes;
    private final LabelValues labels = new LabelValues();
    private final AuthSeries auth;
    private final SmtpSeries smtp;
    private final ClusterSeries cluster;
    private final HoldSeries holds;
    private final BackendSeries backendSeries;
    /*
     * The series touched per session, looked up once and kept: a lookup by label values hashes a fresh list of
     * strings each time (with bounded() over free-form values, about 3 % of the CPU of an IMAPS login before). Series
     * are never removed here, so a kept data point stays the one that is scraped.
     */
    private final ConcurrentHashMap<String, ListenerSeries> listenerSeries = new ConcurrentHashMap<>();
    private volatile Supplier<? extends Collection<? extends CertificateExpiry>> certificates = List::of;

    /** Registers Postern's series, and the JVM's ({@link JvmSeries}), in a new registry. */
    public static PrometheusMetrics create() {
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmSeries.register(registry);
        return new PrometheusMetrics(registry);
    }

    /** Registers Postern's series in {@code registry} (without the JVM's). */
    public PrometheusMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        accepted = Counter.builder()
                .name("postern_connections_accepted_total")
                .help("Client connections accepted")
                .labelNames("listener", "protocol")
                .register(registry);
        active = Gauge.builder()
                .name("postern_connections_active")
                .help("Client connections open now")
                .labelNames("listener", "protocol")
                .register(registry);
        refused = Counter.builder()
                .name("postern_connections_refused_total")
                .help("Client connections closed by a limit or a protocol rule, by reason")
                .labelNames("listener", "protocol", "reason")
                .register(registry);
        startTlsInjections = Counter.builder()
                .name("postern_starttls_injection_refusals_total")
                .help("Connections closed because bytes followed STARTTLS before the handshake (CVE-2011-0411 class)")
                .labelNames("listener", "protocol")
                .register(registry);
        handshakes = Counter.builder()
                .name("postern_tls_handshakes_total")
                .help("TLS handshakes with clients, by outcome, TLS version and cipher suite")
                .labelNames("listener", "outcome", "version", "cipher")
                .register(registry);
        handshakeDuration = Histogram.builder()
                .name("postern_tls_handshake_duration_seconds")
                .help("Duration of TLS handshakes with clients")
                .unit(Unit.SECONDS)
                .labelNames("listener", "outcome")
                .classicOnly()
                .classicUpperBounds(HANDSHAKE_BUCKETS)
                .register(registry);
        auth = new AuthSeries(registry, labels);
        smtp = new SmtpSeries(registry, labels);
        cluster = new ClusterSeries(registry, labels);
        holds = new HoldSeries(registry);
        backendSeries = new BackendSeries(registry, labels, CONNECT_BUCKETS);
        configReloads = Counter.builder()
                .name("postern_config_reloads_total")
                .help("Configuration reloads (SIGHUP or the admin API), by outcome: applied or rejected")
                .labelNames("outcome")
                .register(registry);
        sessionsClosed = Counter.builder()
                .name("postern_sessions_closed_total")
                .help("Sessions ended, by close reason")
                .labelNames("listener", "protocol", "reason")
                .register(registry);
        sessionDuration = Histogram.builder()
                .name("postern_session_duration_seconds")
                .help("How long sessions lasted, from accept to close")
                .unit(Unit.SECONDS)
                .labelNames("listener", "protocol")
                .classicOnly()
                .classicUpperBounds(SESSION_BUCKETS)
                .register(registry);
        bytes = Counter.builder()
                .name("postern_relayed_bytes_total")
                .help("Bytes relayed, by direction (from-client, to-client), counted when a session ends")
                .unit(Unit.BYTES)
                .labelNames("direction", "protocol")
                .register(registry);
        GaugeWithCallback.builder()
                .name("postern_tls_certificate_expiry_timestamp_seconds")
                .help("When a served certificate expires (Unix time)")
                .unit(Unit.SECONDS)
                .labelNames("certificate")
                .callback(cb -> {
                    for (CertificateExpiry c : certificates.get()) {
                        cb.call(c.notAfter().getEpochSecond(), c.name());
                    }
                })
                .register(registry);
    }

    /** The registry to scrape (hand it to the admin server's {@code /metrics}). */
    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void connectionRefused(ListenerConfig listener, String reason) {
        String r = bounded("reason", reason);
        refused.labelValues(listener.name(), protocol(listener), r).inc();
        if (r.equals("starttls-injection")) {
            startTlsInjections.labelValues(listener.name(), protocol(listener)).inc();
        }
    }

    @Override
    public void smtpRejected(ListenerConfig listener, String reason) {
        smtp.rejected(listener, reason);
    }

    @Override
    public void smtpMessage(ListenerConfig listener, boolean accepted, long bytes) {
        smtp.message(listener, accepted, bytes);
    }

    @Override
    public void dnsblVerdict(ListenerConfig listener, String verdict) {
        smtp.dnsblVerdict(listener, verdict);
    }

    @Override
    public void sessionOpened(ListenerConfig listener) {
        ListenerSeries s = series(listener);
        s.accepted.inc();
        s.active.inc();
    }

    @Override
    public void sessionClosed(
            ListenerConfig listener, String reason, long ageNanos, long bytesFromClient, long bytesToClient) {
        ListenerSeries s = series(listener);
        s.active.dec();
        s.closed(reason).inc();
        s.duration.observe(Unit.nanosToSeconds(ageNanos));
        s.bytesFromClient.inc(bytesFromClient);
        s.bytesToClient.inc(bytesToClient);
    }

    @Override
    public void tlsHandshake(ListenerConfig listener, String outcome, String protocol, String cipher, long nanos) {
        ListenerSeries s = series(listener);
        HandshakeSeries h = s.lastHandshake;
        if (h == null || !h.matches(outcome, protocol, cipher)) {
            String o = bounded("outcome", outcome);
            h = new HandshakeSeries(
                    outcome,
                    protocol,
                    cipher,
                    handshakes.labelValues(listener.name(), o, bounded("version", protocol), bounded("cipher", cipher)),
                    handshakeDuration.labelValues(listener.name(), o));
            // one TLS version and cipher dominate; remembering the last is enough to skip the lookup
            s.lastHandshake = h;
        }
        h.count().inc();
        h.duration().observe(Unit.nanosToSeconds(nanos));
    }

    @Override
    public void backendConnect(String pool, String backend, boolean ok, long nanos) {
        backendSeries.connect(pool, backend, ok, nanos);
    }

    @Override
    public void backendHealth(String pool, String backend, boolean healthy) {
        backendSeries.healthChanged(pool, backend, healthy);
    }

    @Override
    public void backendCheckFailed(String pool, String backend, String reason) {
        backendSeries.checkFailed(pool, backend, reason);
    }

    @Override
    public void authDecision(Protocol protocol, String mechanism, String provider, String outcome, boolean cached) {
        auth.decision(protocol, mechanism, provider, outcome, cached);
    }

    @Override
    public void authCacheHit() {
        auth.hit.inc();
    }

    @Override
    public void authCacheMiss() {
        auth.miss.inc();
    }

    @Override
    public void authCacheStaleServed() {
        auth.stale.inc();
    }

    @Override
    public void authCacheLoad(boolean ok, long nanos) {
        auth.load(ok, nanos);
    }

    @Override
    public void authCacheEviction(String cause) {
        auth.eviction(cause);
    }

    @Override
    public void loginThrottled(Protocol protocol, String scope) {
        auth.throttled(protocol, scope);
    }

    @Override
    public void loginDelayed(Protocol protocol, long millis) {
        auth.delayed(protocol);
    }

    @Override
    public void heldLogins(IntSupplier held) {
        holds.held(held);
    }

    @Override
    public void holdWait(String outcome, long nanos) {
        holds.waited(outcome, nanos);
    }

    @Override
    public void certificates(Supplier<? extends Collection<? extends CertificateExpiry>> source) {
        this.certificates = source;
    }

    @Override
    public void routeRevision(LongSupplier source) {
        cluster.revision(source);
    }

    @Override
    public void backends(Supplier<? extends Collection<? extends BackendGauge>> source) {
        backendSeries.backends(source);
    }

    @Override
    public void clusterCommand(String command, String outcome, long nanos) {
        cluster.command(command, outcome, nanos);
    }

    @Override
    public void clusterReconnect() {
        cluster.reconnect();
    }

    @Override
    public void configReload(String outcome) {
        configReloads
                .labelValues("rejected".equals(outcome) ? "rejected" : "applied")
                .inc();
    }

    @Override
    public void routeStoreResync(String trigger) {
        cluster.resync(trigger);
    }

    @Override
    public void clusterUp(BooleanSupplier up) {
        cluster.up(up);
    }

    @Override
    public void clusterShared(String feature, BooleanSupplier shared, LongSupplier fallbacks) {
        cluster.shared(feature, shared, fallbacks);
    }

    private static String protocol(ListenerConfig listener) {
        return listener.protocol().configName();
    }

    private ListenerSeries series(ListenerConfig listener) {
        ListenerSeries s = listenerSeries.get(listener.name());
        if (s == null || s.protocol != listener.protocol()) {
            s = new ListenerSeries(listener);
            listenerSeries.put(listener.name(), s);
        }
        return s;
    }

    /** The series of one listener; see {@link #listenerSeries}. */
    private final class ListenerSeries {
        final Protocol protocol;
        final String name;
        final CounterDataPoint accepted;
        final GaugeDataPoint active;
        final DistributionDataPoint duration;
        final CounterDataPoint bytesFromClient;
        final CounterDataPoint bytesToClient;
        /** By close reason label (a small bounded set: the session's close reasons). */
        final Map<String, CounterDataPoint> closed = new ConcurrentHashMap<>();

        volatile HandshakeSeries lastHandshake;

        ListenerSeries(ListenerConfig listener) {
            protocol = listener.protocol();
            name = listener.name();
            String p = protocol.configName();
            accepted = PrometheusMetrics.this.accepted.labelValues(name, p);
            active = PrometheusMetrics.this.active.labelValues(name, p);
            duration = sessionDuration.labelValues(name, p);
            bytesFromClient = bytes.labelValues("from-client", p);
            bytesToClient = bytes.labelValues("to-client", p);
        }

        CounterDataPoint closed(String reason) {
            String label = reason == null ? "unknown" : reason;
            CounterDataPoint c = closed.get(label);
            if (c == null) {
                c = closed.computeIfAbsent(
                        label, l -> sessionsClosed.labelValues(name, protocol.configName(), bounded("reason", l)));
            }
            return c;
        }
    }

    /** The series of a listener's handshakes with one outcome, version and cipher. */
    private record HandshakeSeries(
            String outcome, String version, String cipher, CounterDataPoint count, DistributionDataPoint duration) {
        boolean matches(String o, String v, String c) {
            return Objects.equals(outcome, o) && Objects.equals(version, v) && Objects.equals(cipher, c);
        }
    }

    String bounded(String label, String value) {
        return labels.bounded(label, value);
    }
}
