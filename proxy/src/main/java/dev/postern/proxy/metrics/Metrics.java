package dev.postern.proxy.metrics;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
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

    /**
     * A session ended.
     *
     * @param reason the close reason's label ({@code client-closed}, …), or null when none was given
     */
    default void sessionClosed(
            ListenerConfig listener, String reason, long ageNanos, long bytesFromClient, long bytesToClient) {}

    default void tlsHandshake(ListenerConfig listener, String outcome, String protocol, String cipher, long nanos) {}

    default void backendConnect(String pool, String backend, boolean ok, long nanos) {}

    default void backendHealth(String pool, String backend, boolean healthy) {}

    /** An active health check of a backend failed; {@code reason} is one of a closed set of words. */
    default void backendCheckFailed(String pool, String backend, String reason) {}

    /**
     * A login decided by authentication.
     *
     * @param protocol the listener's protocol
     * @param mechanism the SASL mechanism ({@code LOGIN} for IMAP LOGIN and POP3 USER/PASS)
     * @param provider the provider that decided ({@code backend} when the backend did)
     * @param outcome {@code accepted}, {@code rejected}, {@code temporary} (the provider said try later) or
     *     {@code error} (the provider failed)
     * @param cached whether the answer came from the auth cache
     */
    default void authDecision(Protocol protocol, String mechanism, String provider, String outcome, boolean cached) {}

    /** An auth cache lookup found a fresh answer. */
    default void authCacheHit() {}

    /** An auth cache lookup found nothing fresh: a provider is asked. */
    default void authCacheMiss() {}

    /** A provider call made for the cache (a miss or a refresh) finished after {@code nanos}. */
    default void authCacheLoad(boolean ok, long nanos) {}

    /** The auth cache dropped an entry ({@code size} or {@code expired}). */
    default void authCacheEviction(String cause) {}

    /** A provider failed, and an accepted answer older than its ttl (within stale-if-error) was used instead. */
    default void authCacheStaleServed() {}

    /**
     * A login refused before authentication because its client was blocked by brute-force throttling.
     *
     * @param scope {@code address}, {@code user} or {@code user-address}
     */
    default void loginThrottled(Protocol protocol, String scope) {}

    /** A failed login's answer is delayed by brute-force throttling. */
    default void loginDelayed(Protocol protocol, long millis) {}

    /** Where to read how many logins wait on a hold now (called at every scrape). */
    default void heldLogins(IntSupplier held) {}

    /**
     * A login's wait on a hold ended.
     *
     * @param outcome {@code released}, {@code expired} (the hold ended on its own), {@code timeout} (the login gave
     *     up at routing.hold-timeout) or {@code refused} (routing.max-held-logins were waiting)
     */
    default void holdWait(String outcome, long nanos) {}

    /** Where to read the served certificates from, for their expiry gauge (called at every scrape). */
    default void certificates(Supplier<? extends Collection<? extends CertificateExpiry>> certificates) {}

    /** Where to read the route store's revision from (called at every scrape). */
    default void routeRevision(LongSupplier revision) {}

    /** Where to read the backends from, for their live session gauge (called at every scrape). */
    default void backends(Supplier<? extends Collection<? extends BackendGauge>> backends) {}

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

    /**
     * A command to the cluster's Redis finished.
     *
     * @param command a word of the cluster package's own ({@code routes-read}, {@code routes-write}, ...)
     * @param outcome {@code ok}, {@code timeout}, {@code unavailable} (not sent: no connection) or {@code error}
     */
    default void clusterCommand(String command, String outcome, long nanos) {}

    /**
     * A configuration reload (SIGHUP or the admin API) ended.
     *
     * @param outcome {@code applied} (put in force, whether or not anything changed) or {@code rejected} (the file
     *     had problems or could not be applied; the running configuration stayed)
     */
    default void configReload(String outcome) {}

    /** The connection to the cluster's Redis was made again after it had been lost. */
    default void clusterReconnect() {}

    /**
     * The shared route store took a table it had not written itself, or seeded an empty Redis.
     *
     * @param trigger {@code notified} (a change message), {@code check} (the periodic revision check), {@code
     *     connect} (the first read after a connect) or {@code seeded}
     */
    default void routeStoreResync(String trigger) {}

    /** Where to read whether this node reaches the cluster's Redis (called at every scrape). */
    default void clusterUp(BooleanSupplier up) {}

    /**
     * Where to read how a feature the nodes share through Redis fares (called at every scrape).
     *
     * @param feature {@code throttle} or {@code passed-clients}
     * @param shared whether it works through Redis now (false: on this node's own state)
     * @param fallbacks the operations this node did alone since start because Redis could not take them
     */
    default void clusterShared(String feature, BooleanSupplier shared, LongSupplier fallbacks) {}
}
