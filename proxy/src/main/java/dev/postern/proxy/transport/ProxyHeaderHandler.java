package dev.postern.proxy.transport;

import dev.postern.config.ListenerConfig;
import dev.postern.config.ProxyProtocolConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a client connection on a listener with {@code proxy-protocol}: reads the PROXY header (v1 or
 * v2, {@link ProxyHeaderParser}) before TLS and before any greeting, records the client it names in the {@link
 * Session}, then installs the rest of the pipeline, passes the bytes after the header on untouched and leaves.
 *
 * <p>A connection from a trusted network waits here: nothing after this handler exists yet, so no greeting goes out
 * and no TLS handshake starts before the header is read, and every later stage sees only the header's address. A
 * connection from anywhere else is refused at once when the header is required; when it is optional it is served as
 * its own client at once, and this handler only watches its first bytes: a header from an untrusted address is
 * refused, never believed (like nginx's {@code set_real_ip_from}, and refused rather than passed on, so a
 * balancer missing from {@code trusted} shows as a counted refusal instead of as protocol errors).
 *
 * <p>Every refusal closes the connection and counts {@code postern_connections_refused_total} with one of the
 * {@link Refusal} labels; the session's close line carries it as the detail of {@code reason=proxy-header}.
 */
public final class ProxyHeaderHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHeaderHandler.class);

    /** Why a connection was refused: the metric's reason label and the close line's detail. */
    public enum Refusal {
        /** A header from an address outside {@code trusted}, or any connection from there when one is required. */
        UNTRUSTED,
        /** A trusted connection without a header where one is required. */
        MISSING,
        /** Bytes that start like a header but are none. */
        MALFORMED,
        /** No complete header within {@code timeout}. */
        TIMEOUT;

        private final String label = "proxy-" + name().toLowerCase(Locale.ROOT);

        public String label() {
            return label;
        }
    }

    /** Where the connection stands. */
    private enum State {
        /** Trusted: waiting for the header (or for bytes that show there is none). */
        WAITING,
        /** Untrusted, optional: served already; watching the first bytes for a signature. */
        WATCHING,
        /** Decided: the handler passes everything on until it is gone. */
        DONE,
        /** Refused: the connection is closing; whatever still arrives is dropped. */
        REFUSED
    }

    private final ListenerConfig listener;
    private final ProxyProtocolConfig config;
    private final Metrics metrics;
    private final Consumer<Channel> rest;
    private State state;
    private ByteBuf buffered;
    private Future<?> timer;
    private boolean active;

    /**
     * @param rest adds the handlers that follow this one (TLS, idle timer, front end) to the end of the pipeline
     */
    public ProxyHeaderHandler(ListenerConfig listener, Metrics metrics, Consumer<Channel> rest) {
        this.listener = listener;
        this.config = listener.proxyProtocol();
        this.metrics = metrics;
        this.rest = rest;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        InetSocketAddress peer = inet(ctx.channel().remoteAddress());
        InetAddress address = peer == null ? null : peer.getAddress();
        if (config.trusts(address)) {
            state = State.WAITING;
            timer = ctx.executor()
                    .schedule(() -> timedOut(ctx), config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } else if (config.mode() == ProxyProtocolConfig.Mode.REQUIRED) {
            // every connection must carry a header and only trusted ones may: nothing from here can be valid
            refuse(ctx, Refusal.UNTRUSTED, "connection from outside the trusted networks");
        } else {
            state = State.WATCHING;
            rest.accept(ctx.channel());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        active = true;
        if (state != State.WAITING) {
            ctx.fireChannelActive();
        }
        // WAITING: the handlers after this one do not exist yet; they get channelActive once the header is read
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.DONE) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (state == State.REFUSED || !(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        buffered = buffered == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), buffered, in);
        if (state == State.WAITING) {
            header(ctx);
        } else {
            watch(ctx);
        }
    }

    private void header(ChannelHandlerContext ctx) {
        ProxyHeaderParser.Result result = ProxyHeaderParser.parse(buffered);
        if (result instanceof ProxyHeaderParser.Parsed parsed) {
            buffered.skipBytes(parsed.length());
            proceed(ctx, parsed.header());
        } else if (result instanceof ProxyHeaderParser.Malformed malformed) {
            refuse(ctx, Refusal.MALFORMED, malformed.reason());
        } else if (result instanceof ProxyHeaderParser.Absent) {
            if (config.mode() == ProxyProtocolConfig.Mode.REQUIRED) {
                refuse(ctx, Refusal.MISSING, "no header from a trusted network");
            } else {
                proceed(ctx, null);
            }
        }
        // Incomplete: wait for more (the parser bounds how much)
    }

    private void watch(ChannelHandlerContext ctx) {
        switch (ProxyHeaderParser.signature(buffered)) {
            case UNDECIDED -> {
                // at most 11 bytes are held, until the next read tells
            }
            case NONE -> {
                state = State.DONE;
                ByteBuf bytes = buffered;
                buffered = null;
                ctx.fireChannelRead(bytes);
                ctx.pipeline().remove(this);
            }
            case V1, V2 -> refuse(ctx, Refusal.UNTRUSTED, "a header from outside the trusted networks");
        }
    }

    /** Records the header's client, installs the rest of the pipeline and hands it what followed the header. */
    private void proceed(ChannelHandlerContext ctx, ProxyHeader header) {
        state = State.DONE;
        cancelTimer();
        Session session = Session.of(ctx.channel());
        if (header != null && header.hasAddresses() && session != null) {
            ProxyHeader.Tls tls = header.tls();
            String balancerTls = tls == null || !tls.clientSsl() ? null : tls.version() == null ? "TLS" : tls.version();
            session.proxied(header.source(), header.destination(), balancerTls);
        }
        if (log.isDebugEnabled()) {
            log.debug(
                    "{}: {}",
                    session,
                    header == null
                            ? "no PROXY header: served as its own client"
                            : "PROXY v" + header.version()
                                    + (header.hasAddresses() ? "" : " without a client address"));
        }
        rest.accept(ctx.channel());
        if (active) {
            ctx.fireChannelActive();
        }
        ByteBuf bytes = buffered;
        buffered = null;
        if (bytes != null && bytes.isReadable() && ctx.channel().isOpen()) {
            ctx.fireChannelRead(bytes);
            ctx.fireChannelReadComplete();
        } else if (bytes != null) {
            bytes.release();
        }
        ctx.pipeline().remove(this);
    }

    private void refuse(ChannelHandlerContext ctx, Refusal refusal, String why) {
        state = State.REFUSED;
        cancelTimer();
        release();
        metrics.connectionRefused(listener, refusal.label());
        Session session = Session.of(ctx.channel());
        log.debug("{}: refused ({}): {}", session, refusal.label(), why);
        if (session != null) {
            session.close(CloseReason.PROXY_HEADER, refusal.label() + ": " + why);
        } else {
            ctx.close();
        }
    }

    private void timedOut(ChannelHandlerContext ctx) {
        if (state != State.WAITING || !ctx.channel().isActive()) {
            return;
        }
        if ((buffered == null || !buffered.isReadable()) && config.mode() == ProxyProtocolConfig.Mode.OPTIONAL) {
            // a trusted client that says nothing (a server-speaks-first protocol): it sent no header
            proceed(ctx, null);
        } else {
            refuse(
                    ctx,
                    Refusal.TIMEOUT,
                    "no complete header within " + config.timeout().toMillis() + " ms");
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (state == State.WAITING && evt instanceof ChannelInputShutdownEvent) {
            if (buffered != null && buffered.isReadable()) {
                refuse(ctx, Refusal.MALFORMED, "the connection ended inside the header");
            } else {
                cancelTimer();
                state = State.REFUSED;
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.WATCHING || state == State.DONE) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (state == State.REFUSED) {
            log.debug("{}: after the refusal: {}", Session.of(ctx.channel()), cause.toString());
            return;
        }
        // WAITING: nothing after this handler yet to take it
        Session session = Session.of(ctx.channel());
        boolean io = cause instanceof IOException;
        if (!io) {
            log.warn("{}: unexpected error before the PROXY header", session, cause);
        }
        state = State.REFUSED;
        cancelTimer();
        release();
        if (session != null) {
            session.close(
                    io ? CloseReason.CLIENT_ERROR : CloseReason.INTERNAL_ERROR,
                    io ? cause.getMessage() : cause.getClass().getSimpleName());
        } else {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
        release();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void release() {
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
    }

    private static InetSocketAddress inet(SocketAddress address) {
        return address instanceof InetSocketAddress a ? a : null;
    }
}
