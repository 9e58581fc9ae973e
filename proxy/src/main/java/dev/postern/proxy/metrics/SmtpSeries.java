package dev.postern.proxy.metrics;

import dev.postern.config.ListenerConfig;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The port-25 edge's series of {@link PrometheusMetrics}: refusals, messages and DNS-list verdicts. */
final class SmtpSeries {
    private final Counter smtpRejected;
    private final Counter smtpMessages;
    private final Counter smtpMessageBytes;
    private final Counter dnsblVerdicts;
    private final LabelValues labels;

    SmtpSeries(PrometheusRegistry registry, LabelValues labels) {
        this.labels = labels;
        smtpRejected = Counter.builder()
                .name("postern_smtp_rejected_total")
                .help("SMTP relay refusals within a session (RCPT, MAIL, messages), by reason")
                .labelNames("listener", "reason")
                .register(registry);
        smtpMessages = Counter.builder()
                .name("postern_smtp_messages_total")
                .help("Messages the SMTP relay passed to a backend, by the backend's answer (accepted, refused)")
                .labelNames("listener", "outcome")
                .register(registry);
        smtpMessageBytes = Counter.builder()
                .name("postern_smtp_message_bytes_total")
                .help("Bytes of the messages the SMTP relay passed to a backend, as the clients sent them")
                .labelNames("listener")
                .register(registry);
        dnsblVerdicts = Counter.builder()
                .name("postern_dnsbl_verdicts_total")
                .help("The DNS lists' verdicts on new SMTP relay clients (pass, blocked, allowlisted, timeout)")
                .labelNames("listener", "verdict")
                .register(registry);
    }

    void rejected(ListenerConfig listener, String reason) {
        smtpRejected
                .labelValues(listener.name(), labels.bounded("smtp-reason", reason))
                .inc();
    }

    void message(ListenerConfig listener, boolean accepted, long bytes) {
        smtpMessages
                .labelValues(listener.name(), accepted ? "accepted" : "refused")
                .inc();
        smtpMessageBytes.labelValues(listener.name()).inc(Math.max(0, bytes));
    }

    void dnsblVerdict(ListenerConfig listener, String verdict) {
        dnsblVerdicts
                .labelValues(listener.name(), labels.bounded("verdict", verdict))
                .inc();
    }
}
