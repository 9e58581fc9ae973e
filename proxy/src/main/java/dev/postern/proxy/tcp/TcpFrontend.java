package dev.postern.proxy.tcp;

import dev.postern.config.Backend;
import dev.postern.config.ListenerConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.relay.Relay;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.ProxyProtocolV2;
import dev.postern.proxy.transport.TlsSessions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front end of a {@code tcp} listener: no protocol, just TLS termination. Once the client's TLS handshake is
 * done (or at once without TLS) it connects to a backend of the listener's pool, sends a PROXY v2 header if the
 * backend wants one, and splices the two channels. Bytes the client sends meanwhile are held (bounded) and forwarded
 * first.
 */
public final class TcpFrontend extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpFrontend.class);
    /** Stop reading from the client while this much is held for a backend that is still connecting. */
    private static final int MAX_PENDING = 64 * 1024;

    /**
     * A tcp backend channel needs no handler until the relay's is installed; this one only keeps an error of a connect
     * that fails (the epoll transport may report a reset connection as a read error first) out of the pipeline's
     * tail: the connect's future carries the failure. Once connected, errors go on to the relay.
     */
    private static final ChannelInboundHandlerAdapter NO_HANDLER = new ChannelInboundHandlerAdapter() {
        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel().isActive()) {
                ctx.fireExceptionCaught(cause);
            } else {
                log.debug("backend connect of {}: {}", ctx.channel(), cause.toString());
            }
        }
    };

    private final ProxyServices services;
    private final ListenerConfig listener;
    private List<ByteBuf> pending = new ArrayList<>(2);
    private int pendingBytes;
    private boolean connecting;
    /** The client half-closed before the relay existed; the relay must learn it once installed. */
    private boolean inputShutdown;

    public TcpFrontend(ProxyServices services, ListenerConfig listener) {
        this.services = services;
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (listener.tls() == TlsMode.NONE) {
            connect(ctx);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
        } else if (evt instanceof SslHandshakeCompletionEvent hs) {
            Session session = Session.of(ctx.channel());
            TlsSessions.handshake(session, ctx.channel(), services.metrics(), hs.isSuccess(), session.ageNanos());
            if (hs.isSuccess()) {
                connect(ctx);
            } else {
                session.close(CloseReason.TLS_HANDSHAKE_FAILED, hs.cause().getMessage());
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf) || pending == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.add(buf);
        pendingBytes += buf.readableBytes();
        if (pendingBytes >= MAX_PENDING) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    private void connect(ChannelHandlerContext ctx) {
        if (connecting) {
            return;
        }
        connecting = true;
        Session session = Session.of(ctx.channel());
        PoolRuntime pool = services.pool(listener.pool().orElseThrow()).orElseThrow();
        WriteBufferWaterMark wm = new WriteBufferWaterMark(
                listener.limits().writeBufferLow(), listener.limits().writeBufferHigh());
        Future<BackendConnector.Connection> f = services.connector()
                .connect(
                        session,
                        pool,
                        listener.protocol(),
                        backend -> NO_HANDLER,
                        listener.timeouts().connect(),
                        wm,
                        pool.backends().size(),
                        affinityKey(session));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                log.debug("{}: {}", session, done.cause().getMessage());
                session.close(CloseReason.NO_BACKEND, done.cause().getMessage());
                return;
            }
            BackendConnector.Connection c = f.getNow();
            if (!ctx.channel().isActive()) {
                c.channel().close();
                return;
            }
            session.attachBackend(c.channel(), pool.name(), c.backend().id());
            if (c.backend().config().identity() == Backend.Identity.PROXY_V2) {
                c.channel()
                        .write(ProxyProtocolV2.encode(
                                c.channel().alloc(),
                                session.clientAddress(),
                                session.localAddress(),
                                session.tlsProtocol(),
                                session.tlsCipher()));
            }
            List<ByteBuf> held = pending;
            pending = null;
            Channel client = ctx.channel();
            ctx.pipeline().remove(this);
            Relay.splice(session, held);
            if (inputShutdown) {
                client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
        });
    }

    /** tcp sessions have no user: the client's address keeps a client on one backend under consistent hashing. */
    private static String affinityKey(Session session) {
        var a = session.clientAddress();
        return a == null || a.getAddress() == null ? null : a.getAddress().getHostAddress();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releasePending();
        ctx.fireChannelInactive();
    }

    private void releasePending() {
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::safeRelease);
            pending.clear();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Session session = Session.of(ctx.channel());
        boolean tls = listener.tls() != TlsMode.NONE && session.tlsProtocol() == null;
        log.debug("{}: {}", session, cause.toString());
        session.close(tls ? CloseReason.TLS_HANDSHAKE_FAILED : CloseReason.CLIENT_ERROR, cause.getMessage());
    }
}
