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
}
