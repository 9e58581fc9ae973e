package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.codec.LineDecoder;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.HandlerNames;
import dev.postern.proxy.transport.ProxyProtocolV2;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of a protocol's backend login dialogue: one handler on the backend channel, fed lines by a {@link
 * LineDecoder}, completing the login promise exactly once. Subclasses react to {@link #line} in their own state
 * machine and finish with {@link #loggedIn}, {@link #refused} or {@link #failed}.
 *
 * <p>Pipeline of a backend channel during the dialogue: {@code [backend-preamble] [backend-tls] backend-decoder
 * backend-dialogue}.
 */
public abstract class BackendDialogueHandler extends ChannelInboundHandlerAdapter {
    /** What {@link BackendDialogue#handlerNames()} returns for dialogues built on this class. */
    public static final List<String> HANDLER_NAMES =
            List.of(HandlerNames.BACKEND_DIALOGUE, HandlerNames.BACKEND_DECODER);

    private static final Logger log = LoggerFactory.getLogger(BackendDialogueHandler.class);
    private static final int MAX_BACKEND_LINE = 64 * 1024;

    /** Backends configured for XCLIENT that do not offer it, warned about once each. */
    private static final Set<String> WARNED_NO_XCLIENT = ConcurrentHashMap.newKeySet();

    protected final Session session;
    protected final BackendLoginRequest request;
    protected final TlsManager tls;
    private final Promise<BackendLoginResult> result;
    protected ChannelHandlerContext ctx;
    /** Whether the backend has said anything yet (a failure before that may be retried elsewhere). */
    private boolean heard;
    /** Gives up on a backend that never greets; cancelled by the first line (it would keep the session for 5 s). */
    private ScheduledFuture<?> greetingTimer;

    protected BackendDialogueHandler(
            Session session, BackendLoginRequest request, TlsManager tls, Promise<BackendLoginResult> result) {
        this.session = session;
        this.request = request;
        this.tls = tls;
        this.result = result;
    }

    /**
     * Installs the dialogue on a new backend channel: HandlerNames.BACKEND_TLS first when the backend wants implicit HandlerNames.BACKEND_TLS, then the line
     * decoder and {@code handler}.
     */
    public static void install(Channel ch, TlsManager tls, Backend backend, BackendDialogueHandler handler) {
        ChannelPipeline p = ch.pipeline();
        ByteBuf preamble = handler.preamble(ch.alloc());
        if (preamble != null) {
            p.addLast(HandlerNames.BACKEND_PREAMBLE, new PreambleWriter(preamble));
        }
        if (backend.tls() == TlsMode.IMPLICIT) {
            p.addLast(HandlerNames.BACKEND_TLS, newTlsHandler(ch, tls, backend));
        }
        p.addLast(HandlerNames.BACKEND_DECODER, new LineDecoder(MAX_BACKEND_LINE));
        p.addLast(HandlerNames.BACKEND_DIALOGUE, handler);
    }

    /** Installs this dialogue on a new backend channel. */
    public final void install(Channel ch) {
        install(ch, tls, request.backend(), this);
    }

    /** The new backend channel's initializer, which installs this dialogue. */
    public final ChannelHandler initializer() {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                install(ch);
            }
        };
    }

    private static SslHandler newTlsHandler(Channel ch, TlsManager tls, Backend backend) {
        return tls.clientContext(backend.tlsVerify()).newHandler(ch.alloc(), backend.host(), backend.port());
    }

    /**
     * Bytes to send before anything else, HandlerNames.BACKEND_TLS included; null for none. Called once, by {@link #install}. By default
     * the PROXY v2 header for a backend whose identity is {@code proxy-v2} (it must precede the HandlerNames.BACKEND_TLS handshake of an
     * implicit-HandlerNames.BACKEND_TLS backend): the client's addresses and HandlerNames.BACKEND_TLS facts, or a LOCAL header for a probe, which has no client.
     */
    protected ByteBuf preamble(ByteBufAllocator alloc) {
        if (request.backend().identity() != Backend.Identity.PROXY_V2) {
            return null;
        }
        AuthRequest auth = request.auth();
        return auth == null
                ? ProxyProtocolV2.encode(alloc, null, null, null, null)
                : ProxyProtocolV2.encode(alloc, auth.client(), auth.local(), auth.tlsProtocol(), auth.tlsCipher());
    }

    /**
     * Writes bytes when the connection is up, before any handler behind it writes (a HandlerNames.BACKEND_TLS handler's ClientHello),
     * then leaves the pipeline. Releases the bytes if the connection never comes up.
     */
    public static final class PreambleWriter extends ChannelInboundHandlerAdapter {
        private ByteBuf preamble;

        public PreambleWriter(ByteBuf preamble) {
            this.preamble = preamble;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf bytes = preamble;
            preamble = null;
            ctx.writeAndFlush(bytes, ctx.voidPromise());
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (preamble != null) {
                preamble.release();
                preamble = null;
            }
        }
    }

    /** The backend sent a line (without its line ending). */
    protected abstract void line(String line);

    /** The connection is up (and, for implicit HandlerNames.BACKEND_TLS, the handshake done): wait for the greeting. */
    protected void connected() {}

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(true);
        // a backend that accepts but never greets (a dying server's backlog) is given up on as quickly as one that
        // refuses: the login then goes to the next backend, since nothing was sent
        long greetMillis = session == null // a capability probe has no session
                ? dev.postern.config.TimeoutsConfig.DEFAULTS.connect().toMillis()
                : session.listener().timeouts().connect().toMillis();
        greetingTimer = ctx.executor()
                .schedule(
                        () -> failed("no greeting within " + greetMillis + " ms"),
                        greetMillis,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            connected();
        } else {
            ssl.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    connected();
                } else {
                    failed("TLS handshake with backend failed: " + f.cause().getMessage());
                }
            });
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (result.isDone()) {
            // the dialogue is over; anything else belongs to the relay, which the hand-over installs
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof String s) {
            if (!heard) {
                heard = true;
                stopGreetingTimer();
            }
            line(s);
        } else {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }

    private void stopGreetingTimer() {
        if (greetingTimer != null) {
            greetingTimer.cancel(false);
            greetingTimer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopGreetingTimer();
        failed("backend closed the connection");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failed(
                cause instanceof CommandDecoder.LineTooLongException
                        ? "backend line too long"
                        : "backend error: " + cause.getMessage());
        ctx.close();
    }

    /** Sends one command line (CRLF appended) and flushes. Never log what is sent: it may hold a password. */
    protected final void send(String line) {
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        ByteBufUtil.writeUtf8(buf, line);
        buf.writeByte('\r').writeByte('\n');
        ctx.writeAndFlush(buf, ctx.voidPromise());
    }

    /** Sends raw bytes (a PROXY header) without flushing. */
    protected final void sendRaw(ByteBuf bytes) {
        ctx.write(bytes, ctx.voidPromise());
    }

    /**
     * Switches the backend connection to HandlerNames.BACKEND_TLS after its "go ahead" reply. Whatever the backend sent after that reply
     * is dropped (it cannot be trusted: the NO STARTTLS class of attacks), then the handshake runs; the returned
     * future completes when it is done.
     */
    protected final Future<Channel> startTls() {
        CommandDecoder decoder = (CommandDecoder) ctx.pipeline().get(HandlerNames.BACKEND_DECODER);
        int dropped = decoder.discardBuffered();
        if (dropped > 0) {
            log.warn(
                    "{}: backend {} sent {} bytes after its STARTTLS reply; dropped",
                    session,
                    request.backend().id(),
                    dropped);
        }
        SslHandler ssl = newTlsHandler(ctx.channel(), tls, request.backend());
        ctx.pipeline().addFirst(HandlerNames.BACKEND_TLS, ssl);
        return ssl.handshakeFuture();
    }

    /**
     * {@link #startTls()}, then {@code afterHandshake} once the handshake succeeded; a failed handshake fails the
     * login, and nothing runs when the dialogue ended meanwhile.
     */
    protected final void startTls(Runnable afterHandshake) {
        startTls().addListener(f -> {
            if (isDone()) {
                return;
            }
            if (!f.isSuccess()) {
                failed("TLS handshake with backend failed: " + f.cause().getMessage());
                return;
            }
            afterHandshake.run();
        });
    }

    /** Makes what the backend offers known to every pool that has it. */
    protected final void learned(ProxyServices services, Protocol protocol, List<String> capabilities) {
        Backend backend = request.backend();
        for (PoolRuntime pool : services.pools().values()) {
            if (pool.config().backends().contains(backend)) {
                services.capabilities().learned(pool.name(), protocol, capabilities);
            }
        }
    }

    /** Warns, once per backend, that it is configured for XCLIENT but does not offer it. */
    protected static void warnNoXclient(Backend backend) {
        if (WARNED_NO_XCLIENT.add(backend.id())) {
            log.warn(
                    "backend {} is configured for XCLIENT but does not offer it (is Postern in its trusted"
                            + " networks?); client addresses are not passed on",
                    backend.id());
        }
    }

    /** A backend text for logs: bounded. Backend replies carry no secrets. */
    protected static String brief(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "...";
    }

    protected final boolean isDone() {
        return result.isDone();
    }

    protected final void loggedIn(String detail) {
        result.trySuccess(new BackendLoginResult.LoggedIn(detail));
    }

    protected final void refused(String reply, boolean temporary) {
        if (result.trySuccess(new BackendLoginResult.Refused(reply, temporary))) {
            ctx.close();
        }
    }

    protected final void failed(String reason) {
        if (result.trySuccess(new BackendLoginResult.Failed(reason, !heard))) {
            ctx.close();
        }
    }
}
