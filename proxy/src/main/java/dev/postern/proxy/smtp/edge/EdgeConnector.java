package dev.postern.proxy.smtp.edge;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.smtp.TransactionBackend;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens an edge session's backend connections: a backend of the pool by its balancer (the client's address as the
 * affinity key), then the {@link TransactionBackend} setup (PROXY v2 or XCLIENT, EHLO as the client). Reports each
 * backend's health passively, and closes what it opened when the session ended meanwhile. Runs on the session's event
 * loop; its callbacks never run inside the caller's own call.
 */
final class EdgeConnector {
    private static final Logger log = LoggerFactory.getLogger(EdgeConnector.class);

    private final EdgeSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;

    EdgeConnector(EdgeSession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
    }

    /**
     * Connects to a backend of {@code pool} and sets it up; {@code ready} gets it (attached to the session), or
     * {@code unavailable} runs when no backend of the pool could be made ready.
     */
    void connect(String pool, Consumer<TransactionBackend> ready, Runnable unavailable) {
        PoolRuntime p = services.pools().get(pool);
        if (p == null) {
            log.warn("{}: a route names pool '{}', which does not exist", s.session(), pool);
            s.later(unavailable);
            return;
        }
        Session session = s.session();
        AuthRequest identity = new AuthRequest(
                null,
                Protocol.SMTP,
                listener.name(),
                session.clientAddress(),
                session.localAddress(),
                session.tlsProtocol(),
                session.tlsCipher(),
                0,
                session.id(),
                s.hello.name());
        // one setup per attempt; attempts are sequential, so the last one made belongs to the connection
        TransactionBackend[] made = new TransactionBackend[1];
        @SuppressWarnings("unchecked")
        Promise<BackendLoginResult>[] result = new Promise[1];
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        p,
                        Protocol.SMTP,
                        b -> {
                            result[0] = session.client().eventLoop().newPromise();
                            TransactionBackend handler = new TransactionBackend(
                                    session,
                                    TransactionBackend.request(identity, b.config(), b.pool()),
                                    services.tls(),
                                    result[0],
                                    services.capabilities(),
                                    s.hostname(),
                                    s.hello.esmtp(),
                                    listener.timeouts().preAuth());
                            made[0] = handler;
                            return new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    BackendDialogueHandler.install(ch, services.tls(), b.config(), handler);
                                }
                            };
                        },
                        listener.timeouts().connect(),
                        wm,
                        p.backends().size(),
                        // the balancer's affinity key: one client's transactions go to one backend where it can
                        s.clientIp == null ? session.id() : s.clientIp.getHostAddress());
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
            TransactionBackend handler = made[0];
            Promise<BackendLoginResult> setup = result[0];
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
            handler.owner(s.transactions());
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
