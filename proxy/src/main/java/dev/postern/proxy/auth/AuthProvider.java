package dev.postern.proxy.auth;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One link of a listener's auth chain. Like an {@link Authenticator} it never blocks the calling thread; unlike one it
 * may not know the user, and then the next provider of the chain is asked.
 */
public interface AuthProvider extends AutoCloseable {
    /** The name listeners use for it (and the metric label). */
    String name();

    /**
     * Decides a login, or completes with empty when this provider does not know the user. Completes exceptionally
     * when the provider failed (service down, timeout): the login then gets a temporary error, or a stale cached
     * answer.
     */
    CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request);

    /** Stops background work (file checks, connections). */
    @Override
    default void close() {}
}
