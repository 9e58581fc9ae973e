package dev.postern.proxy.auth;

import java.util.concurrent.CompletionStage;

/**
 * Decides a login. Implementations never block the calling thread (an event loop): blocking work (a password hash, a
 * directory lookup) runs on their own executor, and the stage completes there.
 */
public interface Authenticator {
    /** An authenticator that leaves every decision to the backend. */
    Authenticator BACKEND =
            request -> java.util.concurrent.CompletableFuture.completedFuture(new AuthResult.PassThrough());

    CompletionStage<AuthResult> authenticate(AuthRequest request);
}
