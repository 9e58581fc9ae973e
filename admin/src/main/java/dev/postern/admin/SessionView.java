package dev.postern.admin;

import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A live session as the admin API shows it.
 *
 * @param id the session id (as in the session's log line)
 * @param listener the listener it came in on
 * @param protocol that listener's protocol
 * @param client the client's address ({@code 203.0.113.7:51514})
 * @param user the authenticated user; empty before login
 * @param pool the pool of its backend; empty before it has one
 * @param backend its backend's id; empty before it has one
 * @param tls the TLS version towards the client ({@code TLSv1.3}); empty on a plain connection
 * @param started when the client connected
 * @param bytesIn bytes received from the client
 * @param bytesOut bytes sent to the client
 * @param node the cluster node it is open on; empty for a node without a cluster
 */
public record SessionView(
        String id,
        String listener,
        Protocol protocol,
        String client,
        Optional<String> user,
        Optional<String> pool,
        Optional<String> backend,
        Optional<String> tls,
        Instant started,
        long bytesIn,
        long bytesOut,
        Optional<String> node) {
    public SessionView {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(node, "node");
    }

    /** A session of a node without a cluster. */
    public SessionView(
            String id,
            String listener,
            Protocol protocol,
            String client,
            Optional<String> user,
            Optional<String> pool,
            Optional<String> backend,
            Optional<String> tls,
            Instant started,
            long bytesIn,
            long bytesOut) {
        this(id, listener, protocol, client, user, pool, backend, tls, started, bytesIn, bytesOut, Optional.empty());
    }

    /** The same session, shown as open on {@code nodeId}. */
    public SessionView withNode(String nodeId) {
        return new SessionView(
                id,
                listener,
                protocol,
                client,
                user,
                pool,
                backend,
                tls,
                started,
                bytesIn,
                bytesOut,
                Optional.of(nodeId));
    }
}
