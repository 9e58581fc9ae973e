package dev.postern.proxy.lmtp;

import dev.postern.config.AuthConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.session.Session;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an LMTP recipient's mailbox lives, found like a login of that user but without a password: the listener's
 * auth chain is asked about the user as for a login whose identity is already proven (the way a certificate login
 * is: a users file says whether the user exists and where, through its {@code pool=} or {@code host=} fields), then
 * the pool is chosen as for a login (the answer's route, a user or domain route, the listener's pool, the default
 * route). A chain of {@code backend} alone asks no provider: the routes decide, and the backend's RCPT reply says
 * whether the user exists.
 */
final class RecipientLookup {
    private static final Logger log = LoggerFactory.getLogger(RecipientLookup.class);

    /**
     * What stands for a secret in the lookup: the auth cache keys on user and secret, so every lookup of one user
     * shares one cached answer, and nothing here is a password a provider could check.
     */
    private static final String NO_SECRET = "lmtp-recipient";

    /** What the lookup found. */
    sealed interface Answer permits Found, Unknown, Unavailable {}

    /** The user lives in {@code pool}; {@code user} is the canonical name (the balancer's affinity key). */
    record Found(String user, PoolRuntime pool) implements Answer {}

    /** No such user: a permanent refusal ({@code 550 5.1.1}). */
    record Unknown(String reason) implements Answer {}

    /** The answer cannot be had now (a provider down, no pool): a temporary refusal. */
    record Unavailable(String reason) implements Answer {}

    private final LoginFlow flow;
    private final ListenerConfig listener;
    private final boolean askProviders;
    private final boolean backendDecidesTheRest;

    RecipientLookup(LoginFlow flow, ListenerConfig listener) {
        this.flow = flow;
        this.listener = listener;
        List<String> chain = listener.auth();
        this.askProviders = chain.stream().anyMatch(name -> !name.equals(AuthConfig.BACKEND));
        this.backendDecidesTheRest = chain.get(chain.size() - 1).equals(AuthConfig.BACKEND);
    }

    /**
     * Finds {@code user} ({@code local@domain}); completes on the session's event loop.
     *
     * @param identity the session's facts (client, TLS, LHLO name, sender) for the auth services
     */
    Future<Answer> find(Session session, String user, AuthRequest identity) {
        EventLoop loop = session.client().eventLoop();
        Promise<Answer> answer = loop.newPromise();
        if (!askProviders) {
            answer.setSuccess(route(user, null));
            return answer;
        }
        AuthRequest request = new AuthRequest(
                Credentials.external("", user, NO_SECRET),
                identity.protocol(),
                identity.listener(),
                identity.client(),
                identity.local(),
                identity.tlsProtocol(),
                identity.tlsCipher(),
                0,
                identity.sessionId(),
                identity.smtpHelo(),
                identity.smtpFrom(),
                user);
        flow.authenticator()
                .authenticate(request)
                .whenComplete((result, error) -> loop.execute(() -> {
                    if (error != null) {
                        log.warn("{}: recipient lookup failed: {}", session, rootMessage(error));
                        answer.trySuccess(new Unavailable("auth service error"));
                        return;
                    }
                    answer.trySuccess(decided(user, result));
                }));
        return answer;
    }

    private Answer decided(String user, AuthResult result) {
        if (result instanceof AuthResult.Accepted a) {
            return route(a.user(), a.route().orElse(null));
        }
        if (result instanceof AuthResult.Rejected r) {
            if (r.temporary()) {
                return new Unavailable(r.reason());
            }
            // a chain that ends with backend leaves a user no provider knows to the backend's own RCPT reply
            return backendDecidesTheRest ? route(user, null) : new Unknown(r.reason());
        }
        return route(user, null);
    }

    private Answer route(String user, AuthResult.RouteHint hint) {
        PoolRuntime pool = flow.pool(listener, user, hint);
        return pool == null ? new Unavailable("no pool for the recipient") : new Found(user, pool);
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
