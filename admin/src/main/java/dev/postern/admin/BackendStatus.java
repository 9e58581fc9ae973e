package dev.postern.admin;

import java.time.Instant;
import java.util.Optional;

/**
 * A backend's live state, as the proxy sees it (its configured state is in the store).
 *
 * @param healthy whether health checks currently pass
 * @param sessions live sessions on it
 * @param lastFailure the last failed health check or observation ({@code login refused: NO [AUTHENTICATIONFAILED]
 *     ...}); never a secret
 * @param lastFailureAt when it happened
 */
public record BackendStatus(
        boolean healthy, int sessions, Optional<String> lastFailure, Optional<Instant> lastFailureAt) {

    /** A status with no failure known. */
    public BackendStatus(boolean healthy, int sessions) {
        this(healthy, sessions, Optional.empty(), Optional.empty());
    }
}
