package dev.postern.proxy.auth;

import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.OAuthError;
import java.time.Duration;
import java.util.Optional;

/** What an {@link Authenticator} decided. */
public sealed interface AuthResult permits AuthResult.Accepted, AuthResult.Rejected, AuthResult.PassThrough {

    /**
     * The user is who they say.
     *
     * @param user the canonical user name (routes and logs use it)
     * @param route where the answer says the user lives, if it says
     * @param backendCredentials credentials to log in with on the backend instead of the client's (nginx's
     *     Auth-User/Auth-Pass), if any
     * @param validFor how long from now the answer holds at most (a bearer token's expiry): the auth cache keeps it
     *     no longer, stale-if-error included; empty: the cache's own ttl
     */
    record Accepted(
            String user,
            Optional<RouteHint> route,
            Optional<Credentials> backendCredentials,
            Optional<Duration> validFor)
            implements AuthResult {

        /** An answer that holds as long as the cache's ttl. */
        public Accepted(String user, Optional<RouteHint> route, Optional<Credentials> backendCredentials) {
            this(user, route, backendCredentials, Optional.empty());
        }
    }

    /**
     * The login fails.
     *
     * @param reason for logs only; the client gets the protocol's generic failure reply, which never says whether
     *     the user exists
     * @param temporary the failure is not the user's fault (service down): the client gets a temporary error
     * @param delay how long to wait before answering the client
     * @param tokenError for a refused bearer token, the error status the client gets before the failure reply (RFC
     *     7628); empty for everything else, and for temporary failures
     */
    record Rejected(String reason, boolean temporary, Duration delay, Optional<OAuthError> tokenError)
            implements AuthResult {

        public Rejected {
            tokenError = temporary ? Optional.empty() : tokenError;
        }

        /** A refusal without an OAuth error status. */
        public Rejected(String reason, boolean temporary, Duration delay) {
            this(reason, temporary, delay, Optional.empty());
        }

        /** A bearer token refused for good, with the error status its client gets. */
        public static Rejected token(String reason, OAuthError error) {
            return new Rejected(reason, false, Duration.ZERO, Optional.of(error));
        }
    }

    /** No local decision: the backend verifies the credentials (its answer is the result). */
    record PassThrough() implements AuthResult {}

    /**
     * Where an auth answer routes a user.
     *
     * @param pool a pool name, or null
     * @param host a backend host (nginx's Auth-Server), or null
     * @param port the backend port (nginx's Auth-Port), or 0
     */
    record RouteHint(String pool, String host, int port) {}
}
