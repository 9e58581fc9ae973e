package dev.postern.proxy.smtp;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a {@link TransactionSession}'s backend connections: a backend of a pool by its balancer (with the affinity key
 * the session names), then the {@link TransactionBackend} setup (PROXY v2 or XCLIENT, then EHLO or LHLO as the
 * client). Reports each backend's health passively, and closes what it opened when the session ended meanwhile. Runs
 * on the session's event loop; its callbacks never run inside the caller's own call.
 */
public final class TransactionConnector {
    private static final Logger log = LoggerFactory.getLogger(TransactionConnector.class);

    /** One connection attempt's handler and its setup result (attempts are sequential: the last one connected). */
    private static final class Attempt {
        TransactionBackend handler;
        Promise<BackendLoginResult> result;
    }

    private final TransactionSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;
    private final TransactionBackend.Owner owner;
    private final Function<TransactionBackend.Setup, TransactionBackend> backends;

    /**
     * @param owner hears from each connection once it is ready
     * @param backends makes the handler of one connection attempt (an edge backend, an LMTP one)
     */
    public TransactionConnector(
            TransactionSession session,
            TransactionBackend.Owner owner,
            Function<TransactionBackend.Setup, TransactionBackend> backends) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
        this.owner = owner;
        this.backends = backends;
    }

    /**
     * Connects to a backend of {@code pool} as {@code identity} and sets it up; {@code ready} gets it (attached to the
     * session), or {@code unavailable} runs when no backend of the pool could be made ready.
     *
     * @param affinityKey the balancer's key: where a consistent-hash pool sends this connection
     */
    public void connect(
            PoolRuntime pool,
            AuthRequest identity,
            String affinityKey,
            Consumer<TransactionBackend> ready,
            Runnable unavailable) {
        Session session = s.session();
        Attempt attempt = new Attempt();
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        pool,
                        identity.protocol(),
                        b -> {
                            attempt.result = session.client().eventLoop().newPromise();
                            attempt.handler = backends.apply(new TransactionBackend.Setup(
                                    session,
                                    TransactionBackend.request(identity, b.config(), b.pool()),
                                    services.tls(),
                                    attempt.result,
                                    services.capabilities(),
                                    s.hostname(),
                                    listener.timeouts().preAuth()));
                            TransactionBackend handler = attempt.handler;
                            return new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    BackendDialogueHandler.install(ch, services.tls(), b.config(), handler);
                                }
                            };
                        },
                        listener.timeouts().connect(),
                        wm,
                        pool.backends().size(),
                        affinityKey);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                log.info("{}: {}", session, f.cause().getMessage());
                s.later(unavailable);
                return;
            }
            BackendConnector.Connection c = connected.getNow();
            if (!s.isOpen()) {
                c.channel().close();
                return;
            }
            TransactionBackend handler = attempt.handler;
            Promise<BackendLoginResult> setup = attempt.result;
            c.channel().read();
            setup.addListener(d -> ready(c, handler, setup.getNow(), d.cause(), ready, unavailable));
        });
    }

    private void ready(
            BackendConnector.Connection c,
            TransactionBackend handler,
            BackendLoginResult r,
            Throwable error,
            Consumer<TransactionBackend> ready,
            Runnable unavailable) {
        if (!s.isOpen()) {
            c.channel().close();
            return;
        }
        BackendConnector.PassiveHealth health = services.connector().passive();
        if (r instanceof BackendLoginResult.LoggedIn && c.channel().isActive()) {
            health.observe(c.backend(), true, null);
            handler.owner(owner);
            s.session()
                    .attachBackend(c.channel(), c.backend().pool(), c.backend().id());
            s.later(() -> ready.accept(handler));
            return;
        }
        c.channel().close();
        String why = r instanceof BackendLoginResult.Failed fl
                ? fl.reason()
                : r instanceof BackendLoginResult.Refused rf ? rf.reply() : String.valueOf(error);
        log.info("{}: backend {} not ready: {}", s.session(), c.backend(), why);
        // a backend that greets with 4xx/5xx, breaks the dialogue or closes counts against it
        health.observe(c.backend(), false, why);
        s.later(unavailable);
    }
}
