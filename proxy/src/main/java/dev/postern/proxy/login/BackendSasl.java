package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslClient;
import dev.postern.proxy.sasl.SaslMechanism;

/**
 * The SASL mechanism and initial response a backend dialogue logs in with, the same for every protocol: a master
 * user's PLAIN with the user as authorization identity (Dovecot master users), else the client's own token message,
 * else PLAIN with the client's credentials. {@link #toString()} never shows the response: it holds a password.
 *
 * @param mechanism the mechanism to name in the protocol's AUTH/AUTHENTICATE command
 * @param response the client message, before the protocol's own encoding (base64, a string)
 */
public record BackendSasl(SaslMechanism mechanism, String response) {

    /** What {@code request} logs in with; a password login unless the backend has a master user or the client a token. */
    public static BackendSasl of(BackendLoginRequest request) {
        Backend backend = request.backend();
        if (backend.master().isPresent()) {
            Backend.MasterLogin master = backend.master().get();
            return new BackendSasl(
                    SaslMechanism.PLAIN,
                    SaslClient.plain(
                            request.user(), master.user(), master.password().reveal()));
        }
        Credentials c = request.credentials();
        if (c.isToken()) {
            return new BackendSasl(c.mechanism(), SaslClient.token(c));
        }
        return new BackendSasl(SaslMechanism.PLAIN, SaslClient.plain(c.authzid(), c.user(), c.secret()));
    }

    /** True when the login carries the client's password itself (no master user, no token). */
    public static boolean isPlainPassword(BackendLoginRequest request) {
        return request.backend().master().isEmpty() && !request.credentials().isToken();
    }

    @Override
    public String toString() {
        return "BackendSasl[" + mechanism + "]";
    }
}
