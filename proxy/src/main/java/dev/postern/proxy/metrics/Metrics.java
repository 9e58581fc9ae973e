package dev.postern.proxy.metrics;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.CertificateInfo;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

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
     * One login attempt decided.
     *
     * @param mechanism how the client sent its credentials ({@code plain}, {@code login}, {@code xoauth2}, ...)
     * @param provider who decided ({@code backend}, {@code static}, {@code http}, {@code cache})
     * @param outcome {@code ok}, {@code failed}, {@code unavailable}, {@code throttled}
     */
    default void authAttempt(Protocol protocol, String mechanism, String provider, String outcome) {}

    /** An auth cache lookup: {@code hit}, {@code miss} or {@code stale} (a stale entry served while reloading). */
    default void authCache(String result) {}

    /** An auth provider answered (or failed to) after {@code nanos}; {@code outcome} as in {@link #authAttempt}. */
    default void authLoad(String provider, String outcome, long nanos) {}

    /** A client was slowed down or refused by brute-force throttling ({@code reason}: {@code ip}, {@code user}). */
    default void throttled(ListenerConfig listener, String reason) {}

    /** Where to read the served certificates from, for their expiry gauge (called at every scrape). */
    default void certificates(Supplier<List<CertificateInfo>> certificates) {}

    /** Where to read the route store's revision from (called at every scrape). */
    default void routeRevision(LongSupplier revision) {}

    /** Where to read the backends from, for their live session gauge (called at every scrape). */
    default void backends(Supplier<? extends Collection<BackendRuntime>> backends) {}
}
