package dev.postern.admin;

import dev.postern.config.Protocol;
import java.util.Objects;
import java.util.Optional;

/**
 * Which live sessions to list; every given criterion must match (an empty filter matches every session).
 *
 * @param user the authenticated user, compared case-insensitively
 * @param pool the backend's pool
 * @param backend the backend's id (within {@code pool} when that is given too)
 * @param protocol the listener's protocol
 * @param listener the listener's name
 */
public record SessionFilter(
        Optional<String> user,
        Optional<String> pool,
        Optional<String> backend,
        Optional<Protocol> protocol,
        Optional<String> listener) {
    public static final SessionFilter ALL =
            new SessionFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    public SessionFilter {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(listener, "listener");
    }

    /** Whether {@code session} passes: the proxy may build views and filter them with this. */
    public boolean test(SessionView session) {
        return (user.isEmpty()
                        || session.user()
                                .filter(u -> u.equalsIgnoreCase(user.get()))
                                .isPresent())
                && (pool.isEmpty() || session.pool().equals(pool))
                && (backend.isEmpty() || session.backend().equals(backend))
                && (protocol.isEmpty() || session.protocol() == protocol.get())
                && (listener.isEmpty() || session.listener().equals(listener.get()));
    }
}
