package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.auth.AuthResult;
import dev.postern.proxy.auth.Authenticator;
import dev.postern.proxy.auth.LoginThrottle;
import dev.postern.proxy.hold.Holds;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.PreAuthSlots;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One login attempt, protocol-neutral: ask the {@link Authenticator}, pick the pool, connect to a backend on the
 * session's event loop, and run the protocol's {@link BackendDialogue} there. Completes on the session's event loop
 * with what the front end must answer; on {@link LoginOutcome.Success} the backend channel is attached to the
 * session and ready to be handed over to the relay.
 *
 * <p>With a {@link LoginThrottle}, the whole login is throttled, whoever decides it (a provider or the backend): a
 * blocked client gets {@link LoginOutcome.Unavailable} at once, without any provider or backend call; a failure is
 * counted and its answer delayed by a timer on the event loop; a success clears the user-and-address count.
 */
public final class LoginFlow {
    private static final Logger log = LoggerFactory.getLogger(LoginFlow.class);

    private final ProxyServices services;
    private final Authenticator authenticator;
    private final LoginThrottle throttle;
    private final Holds holds;

    public LoginFlow(ProxyServices services, Authenticator authenticator) {
        this(services, authenticator, null);
    }

    /** @param throttle brute-force throttling, or null for none */
    public LoginFlow(ProxyServices services, Authenticator authenticator, LoginThrottle throttle) {
        this(services, authenticator, throttle, null);
    }

    /**
     * @param throttle brute-force throttling, or null for none
     * @param holds holds of users' logins (mailbox moves), or null for none
     */
    public LoginFlow(ProxyServices services, Authenticator authenticator, LoginThrottle throttle, Holds holds) {
        this.services = services;
        this.authenticator = authenticator;
        this.throttle = throttle;
        this.holds = holds;
    }

    /** The listener's auth chain; LMTP asks it where a recipient lives, with no login to run. */
    public Authenticator authenticator() {
        return authenticator;
    }

    public Future<LoginOutcome> login(Session session, AuthRequest request, BackendDialogue dialogue) {
        EventLoop loop = session.client().eventLoop();
        Promise<LoginOutcome> outcome = loop.newPromise();
        String blocked = throttle == null ? null : throttle.blocked(request);
        if (blocked != null) {
            log.info("{}: login refused: too many failures ({})", session, blocked);
            services.metrics().loginThrottled(request.protocol(), blocked);
            return outcome.setSuccess(new LoginOutcome.Unavailable("throttled: " + blocked));
        }
        Promise<LoginOutcome> attempt = loop.newPromise();
        // what the authenticator asked to wait (nginx's Auth-Wait), and whether the backend decided
        Duration[] authDelay = {Duration.ZERO};
        boolean[] passThrough = {false};
        authenticator
                .authenticate(request)
                .whenComplete((result, error) -> loop.execute(() -> {
                    if (error != null) {
                        log.warn("{}: authentication error: {}", session, rootMessage(error));
                        attempt.trySuccess(new LoginOutcome.Unavailable("authentication service error"));
                    } else {
                        if (result instanceof AuthResult.Rejected r
                                && r.delay() != null
                                && !r.delay().isNegative()) {
                            authDelay[0] = r.delay();
                        }
                        passThrough[0] = result instanceof AuthResult.PassThrough;
                        decided(session, request, result, dialogue, attempt);
                    }
                }));
        attempt.addListener(f -> {
            LoginOutcome answer = f.isSuccess()
                    ? attempt.getNow()
                    : new LoginOutcome.Unavailable(f.cause().toString());
            if (passThrough[0]) {
                services.metrics()
                        .authDecision(
                                request.protocol(),
                                request.credentials().mechanism().wireName(),
                                "backend",
                                answer instanceof LoginOutcome.Success
                                        ? "accepted"
                                        : answer instanceof LoginOutcome.Failure ? "rejected" : "temporary",
                                false);
            }
            Duration delay = authDelay[0];
            if (throttle != null && answer instanceof LoginOutcome.Failure) {
                // in a cluster the failure is counted in Redis first (one round trip), then the delay runs
                throttle.fail(request).whenComplete((throttled, e) -> {
                    if (loop.inEventLoop()) {
                        answerFailure(loop, outcome, answer, request, delay, throttled);
                    } else {
                        loop.execute(() -> answerFailure(loop, outcome, answer, request, delay, throttled));
                    }
                });
                return;
            } else if (throttle != null && answer instanceof LoginOutcome.Success) {
                throttle.succeeded(request);
            }
            if (answer instanceof LoginOutcome.Success) {
                // logged in: no longer a pre-auth connection of its address, before the client hears so (a client
                // that connects again on the success reply must find the slot free)
                PreAuthSlots.release(session.client());
                outcome.trySuccess(answer);
            } else if (delay.isZero()) {
                outcome.trySuccess(answer);
            } else {
                // the delay is a timer on the event loop, never a blocked thread
                loop.schedule(() -> outcome.trySuccess(answer), delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
        return outcome;
    }

    /** Answers a counted failure after the longer of the authenticator's delay and the throttle's. */
    private void answerFailure(
            EventLoop loop,
            Promise<LoginOutcome> outcome,
            LoginOutcome answer,
            AuthRequest request,
            Duration authDelay,
            Duration throttled) {
        Duration delay = authDelay;
        if (throttled != null && throttled.compareTo(delay) > 0) {
            services.metrics().loginDelayed(request.protocol(), throttled.toMillis());
            delay = throttled;
        }
        if (delay.isZero()) {
            outcome.trySuccess(answer);
        } else {
            loop.schedule(() -> outcome.trySuccess(answer), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    private void decided(
            Session session,
            AuthRequest request,
            AuthResult result,
            BackendDialogue dialogue,
            Promise<LoginOutcome> outcome) {
        if (result instanceof AuthResult.Rejected r) {
            outcome.trySuccess(
                    r.temporary()
                            ? new LoginOutcome.Unavailable(r.reason())
                            : new LoginOutcome.Failure(r.reason(), r.tokenError()));
        } else if (result instanceof AuthResult.Accepted a) {
            admit(new PendingLogin(
                    session,
                    request,
                    a.backendCredentials().orElse(request.credentials()),
                    a.user(),
                    a.route().orElse(null),
                    true,
                    dialogue,
                    outcome,
                    0));
        } else {
            admit(new PendingLogin(
                    session,
                    request,
                    request.credentials(),
                    request.credentials().user(),
                    null,
                    false,
                    dialogue,
                    outcome,
                    0));
        }
    }

    /**
     * The pool a login of this user goes to (see {@link LoginPools#pool}); LMTP asks it for a recipient, with no login
     * to run. Null when there is none.
     */
    public PoolRuntime pool(ListenerConfig listener, String user, AuthResult.RouteHint route) {
        return LoginPools.pool(services, listener, user, route);
    }

    /** The pool name of a backend that an auth answer named by host and port. */
    public static final String ROUTED_POOL = LoginPools.ROUTED_POOL;

    /**
     * After authentication, before routing: waits while the user is held (a mailbox move), then routes. The wait is
     * a timer on the session's event loop; at its bound the client gets the protocol's temporary failure.
     */
    private void admit(PendingLogin waiting) {
        // read before looking at the hold: a hold that begins after this is seen again in finish()
        PendingLogin login = holds == null ? waiting : waiting.after(holds.generation());
        Future<Void> held = holds == null
                ? null
                : holds.await(login.user(), login.session().client().eventLoop());
        if (held == null) {
            route(login);
            return;
        }
        log.debug("{}: login of {} held", login.session(), login.user());
        held.addListener(f -> {
            if (!f.isSuccess()) {
                log.info(
                        "{}: login of {} held too long: {}",
                        login.session(),
                        login.user(),
                        f.cause().getMessage());
                login.outcome()
                        .trySuccess(new LoginOutcome.Unavailable(
                                "held: " + f.cause().getMessage()));
            } else if (login.session().isClosing()) {
                login.outcome().trySuccess(new LoginOutcome.Unavailable("closed while held"));
            } else {
                admit(login); // another hold may have begun meanwhile
            }
        });
    }

    private void route(PendingLogin login) {
        Session session = login.session();
        String user = login.user();
        Credentials credentials = login.credentials();
        Promise<LoginOutcome> outcome = login.outcome();
        PoolRuntime pool = LoginPools.pool(services, session.listener(), user, login.route());
        if (pool == null) {
            outcome.trySuccess(new LoginOutcome.Unavailable("no pool for user"));
            return;
        }
        if (credentials.isExternal()
                && pool.backends().stream().anyMatch(b -> b.config().master().isEmpty())) {
            // a certificate is no password: only a master user (or an auth answer's Auth-Pass) logs in on the backend
            log.warn(
                    "{}: certificate login for {}: pool '{}' has backends without a master user",
                    session,
                    user,
                    pool.name());
            outcome.trySuccess(new LoginOutcome.Unavailable("certificate login needs a master user on the backend"));
            return;
        }
        attempt(login, pool, Set.of());
    }

    /** Connects to the best backend not tried yet and runs the dialogue there. */
    private void attempt(PendingLogin login, PoolRuntime pool, Set<BackendRuntime> tried) {
        Session session = login.session();
        ListenerConfig listener = session.listener();
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        // one dialogue promise per connect attempt; attempts are sequential, so the last one belongs to the connection
        @SuppressWarnings("unchecked")
        Promise<BackendLoginResult>[] current = new Promise[1];
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        pool,
                        listener.protocol(),
                        backend -> {
                            current[0] = session.client().eventLoop().newPromise();
                            // a master user logs in without the user's password: only for users Postern itself
                            // verified; when the backend decides, it must see the user's own credentials
                            Backend target = login.verified()
                                    ? backend.config()
                                    : backend.config().withoutMaster();
                            return login.dialogue()
                                    .newHandler(
                                            session,
                                            new BackendLoginRequest(
                                                    login.request(),
                                                    login.credentials(),
                                                    login.user(),
                                                    target,
                                                    backend.pool()),
                                            current[0]);
                        },
                        listener.timeouts().connect(),
                        wm,
                        pool.backends().size(),
                        login.user(),
                        tried);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("{}: {}", session, f.cause().getMessage());
                login.outcome()
                        .trySuccess(new LoginOutcome.Unavailable(f.cause().getMessage()));
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
                finish(login, pool, tried, c, d.isSuccess() ? dialogueResult.getNow() : null, d.cause());
            });
        });
    }

    private void finish(
            PendingLogin login,
            PoolRuntime pool,
            Set<BackendRuntime> tried,
            BackendConnector.Connection c,
            BackendLoginResult result,
            Throwable error) {
        Session session = login.session();
        Promise<LoginOutcome> outcome = login.outcome();
        BackendConnector.PassiveHealth health = services.connector().passive();
        if (result instanceof BackendLoginResult.LoggedIn ok && c.channel().isActive()) {
            health.observe(c.backend(), true, null);
            if (holds != null && holds.heldSince(login.user(), login.holdGeneration()) && !session.isClosing()) {
                // routed before a hold (a move) began: the route may have changed, so log in again after it
                log.info("{}: a hold of {} began during this login; logging in again after it", session, login.user());
                c.channel().close();
                admit(login);
                return;
            }
            session.attachBackend(c.channel(), c.backend().pool(), c.backend().id());
            session.user(login.user());
            if (!outcome.trySuccess(new LoginOutcome.Success(login.user(), ok.detail()))) {
                c.channel().close();
            }
            return;
        }
        c.channel().close();
        if (result instanceof BackendLoginResult.Refused r) {
            health.observe(c.backend(), true, null); // it answered: wrong credentials are not its fault
            log.debug("{}: backend {} refused login: {}", session, c.backend(), r.reply());
            outcome.trySuccess(
                    r.temporary()
                            ? new LoginOutcome.Unavailable("backend: " + r.reply())
                            : new LoginOutcome.Failure("backend refused"));
            return;
        }
        String why = result instanceof BackendLoginResult.Failed fl
                ? fl.reason()
                : error instanceof java.util.concurrent.TimeoutException
                        ? "backend login timed out"
                        : error == null ? "backend closed" : error.toString();
        // an early close or a broken dialogue counts against the backend, like a refused connection
        health.observe(c.backend(), false, why);
        Set<BackendRuntime> triedNow = new HashSet<>(tried);
        triedNow.add(c.backend());
        if (result instanceof BackendLoginResult.Failed fl
                && fl.beforeAnyReply()
                && triedNow.size() < pool.backends().size()
                && !session.isClosing()) {
            // it closed before saying anything: nothing was sent, so the next backend may take the login
            log.info("{}: {} failed before greeting ({}); trying the next backend", session, c.backend(), why);
            attempt(login, pool, triedNow);
            return;
        }
        log.info("{}: login dialogue with {} failed: {}", session, c.backend(), why);
        outcome.trySuccess(new LoginOutcome.Unavailable(why));
    }
}
