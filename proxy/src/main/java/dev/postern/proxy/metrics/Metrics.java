package dev.postern.proxy.metrics;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.session.Session;

/**
 * The one recorder the data plane reports to. Labels are bounded: listener, protocol, pool, backend, reason; never a
 * user, an address or a message id.
 */
public interface Metrics {
    /** A recorder that drops everything (tests, tools). */
    Metrics NOOP = new Metrics() {};

    default void connectionRefused(ListenerConfig listener, String reason) {}

    default void sessionOpened(ListenerConfig listener) {}

    default void sessionClosed(Session session) {}

    default void tlsHandshake(ListenerConfig listener, String outcome, String protocol, String cipher, long nanos) {}

    default void backendConnect(String pool, String backend, boolean ok, long nanos) {}

    default void backendHealth(String pool, String backend, boolean healthy) {}

    /**
     * The SMTP relay refused something within a session ({@code relay-denied}, {@code too-many-recipients}, {@code
     * dnsbl}, {@code spf}, {@code size}, {@code bare-lf}, ...); refusals of whole connections go to {@link
     * #connectionRefused}.
     */
    default void smtpRejected(ListenerConfig listener, String reason) {}

    /**
     * The SMTP relay finished a message: {@code accepted} when the backend took it; {@code bytes} as the client sent
     * them.
     */
    default void smtpMessage(ListenerConfig listener, boolean accepted, long bytes) {}

    /** The DNS lists' verdict on a new relay client: {@code pass}, {@code blocked}, {@code allowlisted}, {@code timeout}. */
    default void dnsblVerdict(ListenerConfig listener, String verdict) {}
}
