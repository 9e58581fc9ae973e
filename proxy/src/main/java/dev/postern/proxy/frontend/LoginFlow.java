package dev.postern.proxy.frontend;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.ProxyServices;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.session.Session;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One login attempt, protocol-neutral: ask the {@link Authenticator}, pick the pool, connect to a backend on the
 * session's event loop, and run the protocol's {@link BackendDialogue} there. Completes on the session's event loop
 * with what the front end must answer; on {@link LoginOutcome.Success} the backend channel is attached to the
 * session and ready to be handed over to the relay.
 */
public final class LoginFlow {
    private static final Logger log = LoggerFactory.getLogger(LoginFlow.class);

    private final ProxyServices services;
    private final Authenticator authenticator;

    public LoginFlow(ProxyServices services, Authenticator authenticator) {
        this.services = services;
        this.authenticator = authenticator;
    }

    public Future<LoginOutcome> login(Session session, AuthRequest request, BackendDialogue dialogue) {
        EventLoop loop = session.client().eventLoop();
        Promise<LoginOutcome> outcome = loop.newPromise();
        authenticator
                .authenticate(request)
                .whenComplete((result, error) -> loop.execute(() -> {
                    if (error != null) {
                        log.warn("{}: authentication error: {}", session, error.toString());
                        outcome.trySuccess(new LoginOutcome.Unavailable("authentication service error"));
                    } else {
                        decided(session, request, result, dialogue, outcome);
                    }
                }));
        return outcome;
    }

    private void decided(
            Session session,
            AuthRequest request,
            AuthResult result,
            BackendDialogue dialogue,
            Promise<LoginOutcome> outcome) {
        if (result instanceof AuthResult.Rejected r) {
            Duration delay = r.delay() == null ? Duration.ZERO : r.delay();
            LoginOutcome answer =
                    r.temporary() ? new LoginOutcome.Unavailable(r.reason()) : new LoginOutcome.Failure(r.reason());
            if (delay.isZero() || delay.isNegative()) {
                outcome.trySuccess(answer);
            } else {
                // the delay is a timer on the event loop, never a blocked thread
                session.client()
                        .eventLoop()
                        .schedule(() -> outcome.trySuccess(answer), delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        } else if (result instanceof AuthResult.Accepted a) {
            connect(
                    session,
                    request,
                    a.backendCredentials().orElse(request.credentials()),
                    a.user(),
                    a.route().map(AuthResult.RouteHint::pool).orElse(null),
                    dialogue,
                    outcome);
        } else {
            connect(
                    session,
                    request,
                    request.credentials(),
                    request.credentials().user(),
                    null,
                    dialogue,
                    outcome);
        }
    }

    private void connect(
            Session session,
            AuthRequest request,
            Credentials credentials,
            String user,
            String routedPool,
            BackendDialogue dialogue,
            Promise<LoginOutcome> outcome) {
        ListenerConfig listener = session.listener();
        String poolName = routedPool != null ? routedPool : listener.pool().orElse(null);
        PoolRuntime pool = poolName == null ? null : services.pools().get(poolName);
        if (pool == null) {
            outcome.trySuccess(new LoginOutcome.Unavailable("no pool for user"));
            return;
        }
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        // one dialogue promise per attempt; attempts are sequential, so the last one made belongs to the connection
        @SuppressWarnings("unchecked")
        Promise<BackendLoginResult>[] current = new Promise[1];
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        pool,
                        listener.protocol(),
                        backend -> {
                            current[0] = session.client().eventLoop().newPromise();
                            return dialogue.newHandler(
                                    session,
                                    new BackendLoginRequest(
                                            request, credentials, user, backend.config(), backend.pool()),
                                    current[0]);
                        },
                        listener.timeouts().connect(),
                        wm,
                        pool.backends().size());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("{}: {}", session, f.cause().getMessage());
                outcome.trySuccess(new LoginOutcome.Unavailable(f.cause().getMessage()));
                return;
            }
            BackendConnector.Connection c = connected.getNow();
            Promise<BackendLoginResult> dialogueResult = current[0];
            Duration limit =
                    listener.timeouts().connect().plus(listener.timeouts().tlsHandshake());
            ScheduledFuture<?> timer = session.client()
                    .eventLoop()
                    .schedule(
                            () -> dialogueResult.tryFailure(new java.util.concurrent.TimeoutException()),
                            limit.toMillis(),
                            TimeUnit.MILLISECONDS);
            // the dialogue reads only when it is ready; auto-read is off on backend channels
            c.channel().read();
            dialogueResult.addListener(d -> {
                timer.cancel(false);
                finish(session, c, user, d.isSuccess() ? dialogueResult.getNow() : null, d.cause(), outcome);
            });
        });
    }

    private static void finish(
            Session session,
            BackendConnector.Connection c,
            String user,
            BackendLoginResult result,
            Throwable error,
            Promise<LoginOutcome> outcome) {
        if (result instanceof BackendLoginResult.LoggedIn ok && c.channel().isActive()) {
            session.attachBackend(c.channel(), c.backend().pool(), c.backend().id());
            session.user(user);
            if (!outcome.trySuccess(new LoginOutcome.Success(user, ok.detail()))) {
                c.channel().close();
            }
            return;
        }
        c.channel().close();
        LoginOutcome answer;
        if (result instanceof BackendLoginResult.Refused r) {
            log.debug("{}: backend {} refused login: {}", session, c.backend(), r.reply());
            answer = r.temporary()
                    ? new LoginOutcome.Unavailable("backend: " + r.reply())
                    : new LoginOutcome.Failure("backend refused");
        } else {
            String why = result instanceof BackendLoginResult.Failed fl
                    ? fl.reason()
                    : error instanceof java.util.concurrent.TimeoutException
                            ? "backend login timed out"
                            : error == null ? "backend closed" : error.toString();
            log.info("{}: login dialogue with {} failed: {}", session, c.backend(), why);
            answer = new LoginOutcome.Unavailable(why);
        }
        outcome.trySuccess(answer);
    }
}
