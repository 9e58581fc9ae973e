package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.sasl.Credentials;

/**
 * What a backend dialogue needs to log a session in.
 *
 * @param auth the client's login attempt (client identity, TLS facts, HELO name)
 * @param credentials what to log in with: the client's own credentials, or those an auth answer gave
 * @param user the user name as the auth decision knows it (for logs and master-user logins)
 * @param backend the backend's configuration: TLS towards it, identity forwarding, login method
 * @param pool the name of the backend's pool (what a dialogue learns about the backend is recorded for it), or null
 */
public record BackendLoginRequest(
        AuthRequest auth, Credentials credentials, String user, Backend backend, String pool) {

    /** A request without a pool name. */
    public BackendLoginRequest(AuthRequest auth, Credentials credentials, String user, Backend backend) {
        this(auth, credentials, user, backend, null);
    }

    /** The request of a probe, which logs no one in: it only learns what {@code backend} offers. */
    public static BackendLoginRequest probe(Backend backend) {
        return new BackendLoginRequest(null, null, null, backend);
    }
}
