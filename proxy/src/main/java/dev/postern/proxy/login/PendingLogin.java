package dev.postern.proxy.login;

import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.session.Session;
import io.netty.util.concurrent.Promise;

/**
 * One authenticated login on its way to a backend: what every attempt (one per backend tried) needs.
 *
 * @param holdGeneration the holds' generation when this login passed them (a hold begun later sends it back)
 */
record PendingLogin(
        Session session,
        AuthRequest request,
        Credentials credentials,
        String user,
        AuthResult.RouteHint route,
        boolean verified,
        BackendDialogue dialogue,
        Promise<LoginOutcome> outcome,
        long holdGeneration) {
    PendingLogin after(long generation) {
        return new PendingLogin(session, request, credentials, user, route, verified, dialogue, outcome, generation);
    }
}
