package dev.postern.proxy.lmtp;

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
 * Opens an LMTP session's backend connections: a backend of the recipient's pool by its balancer, with the recipient
 * as the affinity key (a consistent-hash pool sends a user's mail where its logins go), then the {@link LmtpBackend}
 * setup (PROXY v2 or XCLIENT, LHLO). Reports each backend's health passively and closes what it opened when the
 * session ended meanwhile. Runs on the session's event loop; its callbacks never run inside the caller's own call.
 */
final class LmtpConnector {
    private static final Logger log = LoggerFactory.getLogger(LmtpConnector.class);

    /** One connection attempt's handler and its setup result (attempts are sequential: the last one connected). */
    private static final class Attempt {
        LmtpBackend handler;
        Promise<BackendLoginResult> result;
    }

    private final LmtpSession s;
    private final ProxyServices services;
    private final ListenerConfig listener;

    LmtpConnector(LmtpSession session) {
        this.s = session;
        this.services = session.services();
        this.listener = session.listener();
    }

    /** Connects to a backend of {@code pool} for {@code user}; {@code ready} gets it, or {@code unavailable} runs. */
    void connect(PoolRuntime pool, String user, Consumer<TransactionBackend> ready, Runnable unavailable) {
        Session session = s.session();
        AuthRequest identity = s.identity(null);
        Attempt attempt = new Attempt();
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        Future<BackendConnector.Connection> connected = services.connector()
                .connect(
                        session,
                        pool,
                        Protocol.LMTP,
                        b -> {
                            attempt.result = session.client().eventLoop().newPromise();
                            attempt.handler = new LmtpBackend(
                                    session,
                                    TransactionBackend.request(identity, b.config(), b.pool()),
                                    services.tls(),
                                    attempt.result,
                                    services.capabilities(),
                                    s.hostname(),
                                    listener.timeouts().preAuth());
                            LmtpBackend handler = attempt.handler;
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
                        user);
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
            LmtpBackend handler = attempt.handler;
            Promise<BackendLoginResult> setup = attempt.result;
            c.channel().read();
            setup.addListener(d -> ready(c, handler, setup.getNow(), d.cause(), ready, unavailable));
        });
    }

    private void ready(
            BackendConnector.Connection c,
            LmtpBackend handler,
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
            handler.owner(s.envelope());
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
        health.observe(c.backend(), false, why);
        s.later(unavailable);
    }
}
