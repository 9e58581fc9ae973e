package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.ConfigProblem;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the admin API asks of the running proxy: live state it cannot read from the {@code RouteStore}, and actions
 * on live sessions, caches and certificates. The proxy implements it; the API never reaches further into the data
 * plane than this.
 *
 * <p>Routing changes do not go through here: the API writes them to the {@code RouteStore}, and the proxy applies
 * every new table it is told about (new sessions use it at once, live sessions keep theirs). The one exception is
 * {@link #drain}, which also needs the proxy to end the sessions still open when its deadline passes.
 *
 * <p>Every method is called on an admin worker thread, never on an event loop; a method may block briefly (reading
 * certificate files), and must be safe to call from several threads at once.
 */
public interface ProxyControl {
    /** The live sessions that {@code filter} matches, oldest first. */
    List<SessionView> sessions(SessionFilter filter);

    /**
     * Closes one session (both sides; its close reason is {@code admin}).
     *
     * @return false when no such session is open
     */
    boolean killSession(String id);

    /**
     * Closes every session of {@code user} (compared case-insensitively).
     *
     * @return how many were closed
     */
    int killUserSessions(String user);

    /** Forgets the cached authentication results of {@code user}; the next login asks the provider again. */
    void invalidateAuth(String user);

    /** Forgets every cached authentication result. */
    void invalidateAllAuth();

    /**
     * Reloads the server certificates from their files. New TLS handshakes get the new certificates; live sessions keep
     * theirs. On failure the old certificates stay in use.
     */
    TlsReloadResult reloadTls();

    /**
     * Re-reads the configuration file this node started with, validates it as a whole and, when it is valid, puts it
     * in force for new sessions (live sessions keep what they started with); settings that cannot change live are
     * reported and left as they are. A file with problems changes nothing. This node only.
     */
    default ConfigReloadResult reloadConfig() {
        return new ConfigReloadResult.Rejected(
                "-", List.of(new ConfigProblem("", "this proxy cannot reload its configuration")));
    }

    /** The certificates being served now. */
    List<CertificateView> certificates();

    /** The configuration in force, as JSON, with every secret replaced by {@code "***"}. */
    JsonNode effectiveConfig();

    /** Whether this node should get traffic: for {@code /readyz}. */
    Readiness readiness();

    /** The live state of a backend; empty when the proxy does not know it (yet). */
    Optional<BackendStatus> backendStatus(String pool, String backend);

    /**
     * Where a login of {@code user} would go now, computed without side effects (no balancer position moves, no
     * connection is made).
     *
     * @param protocol the protocol of the login; empty for "any": listener pools are then not considered
     */
    Explanation explain(String user, Optional<Protocol> protocol);

    /**
     * A backend has been set to draining in the store (no new sessions). When {@code deadline} is given, the proxy
     * closes the sessions still open on it from then on, spread over a short window so their clients do not all
     * reconnect at once; without one they run until they end. A later state change of the backend (enabled, disabled,
     * removed) cancels a pending deadline.
     */
    void drain(String pool, String backend, Optional<Instant> deadline);

    /**
     * The commands that reach every node, in cluster mode; empty for a node on its own (the API then acts on this node
     * only, and refuses {@code scope=cluster}).
     */
    default Optional<ClusterControl> cluster() {
        return Optional.empty();
    }

    /** The holds of users' logins (mailbox moves); empty when this proxy has none. */
    default Optional<HoldControl> holds() {
        return Optional.empty();
    }
}
