package dev.postern.proxy.smtp;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TimeoutsConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.codec.LineDecoder;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.transport.ProxyProtocolV2;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns a pool's EHLO keywords at start, before any client logs in: connect to a backend ([PROXY v2 LOCAL header],
 * [implicit TLS]), read the greeting, {@code EHLO}, record the keywords, {@code QUIT}. Tries the pool's backends in
 * turn until one answers. It does not STARTTLS: the keywords that matter to clients are the same before and after,
 * and every login dialogue refreshes them anyway.
 */
public final class SmtpProbe extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(SmtpProbe.class);
    private static final int MAX_LINE = 64 * 1024;
    private static final Duration CONNECT_TIMEOUT = TimeoutsConfig.DEFAULTS.connect();
    private static final Duration PROBE_TIMEOUT = CONNECT_TIMEOUT.plus(TimeoutsConfig.DEFAULTS.tlsHandshake());

    private final ProxyServices services;
    private final PoolRuntime pool;
    private final String hostname;
    private final List<BackendRuntime> remaining;
    private final SmtpReplyReader reader = new SmtpReplyReader();
    private boolean greeted;
    private boolean finished;
    private ScheduledFuture<?> timer;

    private SmtpProbe(ProxyServices services, PoolRuntime pool, String hostname, List<BackendRuntime> remaining) {
        this.services = services;
        this.pool = pool;
        this.hostname = hostname;
        this.remaining = remaining;
    }

    /** Starts probing {@code pool} in the background. */
    public static void start(ProxyServices services, PoolRuntime pool, String hostname) {
        List<BackendRuntime> candidates = new ArrayList<>();
        for (BackendRuntime b : pool.backends()) {
            if (b.available() && b.config().portFor(Protocol.SMTP) > 0) {
                candidates.add(b);
            }
        }
        next(services, pool, hostname, candidates);
    }

    private static void next(ProxyServices services, PoolRuntime pool, String hostname, List<BackendRuntime> left) {
        if (left.isEmpty()) {
            log.info(
                    "SMTP probe of pool {}: no backend answered; EHLO keywords are learned at the first login",
                    pool.name());
            return;
        }
        BackendRuntime backend = left.get(0);
        List<BackendRuntime> rest = List.copyOf(left.subList(1, left.size()));
        EventLoop loop = services.transport().workerGroup().next();
        SmtpProbe probe = new SmtpProbe(services, pool, hostname, rest);
        Backend config = backend.config();
        services.transport()
                .backendBootstrap(loop, CONNECT_TIMEOUT, WriteBufferWaterMark.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (config.identity() == Backend.Identity.PROXY_V2) {
                            // a LOCAL header: the probe speaks for nobody
                            ByteBuf header = ProxyProtocolV2.encode(ch.alloc(), null, null, null, null);
                            ch.pipeline().addLast(new BackendDialogueHandler.PreambleWriter(header));
                        }
                        if (config.tls() == TlsMode.IMPLICIT) {
                            ch.pipeline()
                                    .addLast(services.tls()
                                            .clientContext(config.tlsVerify())
                                            .newHandler(ch.alloc(), config.host(), config.portFor(Protocol.SMTP)));
                        }
                        ch.pipeline().addLast(new LineDecoder(MAX_LINE), probe);
                    }
                })
                .connect(config.host(), config.portFor(Protocol.SMTP))
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        log.debug("SMTP probe of {}: {}", backend, f.cause().toString());
                        next(services, pool, hostname, rest);
                    }
                });
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> fail(ctx, "timed out"), PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ctx.channel().config().setAutoRead(true);
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!finished && msg instanceof String line) {
                SmtpReply reply = reader.add(line);
                if (reply != null) {
                    reply(ctx, reply);
                }
            }
        } catch (SmtpReplyReader.MalformedReplyException e) {
            fail(ctx, e.getMessage());
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void reply(ChannelHandlerContext ctx, SmtpReply reply) {
        if (!greeted) {
            if (reply.code() != 220) {
                fail(ctx, "greeting " + reply);
                return;
            }
            greeted = true;
            send(ctx, "EHLO " + hostname);
            return;
        }
        if (reply.code() != 250) {
            fail(ctx, "EHLO answered " + reply);
            return;
        }
        List<String> keywords = reply.lines().subList(1, reply.lines().size());
        services.capabilities().learned(pool.name(), Protocol.SMTP, keywords);
        log.debug("SMTP probe of pool {}: {}", pool.name(), keywords);
        finished = true;
        cancelTimer();
        ByteBuf quit = ctx.alloc().buffer(6);
        ByteBufUtil.writeAscii(quit, "QUIT\r\n");
        ctx.writeAndFlush(quit).addListener(ChannelFutureListener.CLOSE);
    }

    private static void send(ChannelHandlerContext ctx, String line) {
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        ByteBufUtil.writeUtf8(buf, line);
        buf.writeByte('\r').writeByte('\n');
        ctx.writeAndFlush(buf, ctx.voidPromise());
    }

    private void fail(ChannelHandlerContext ctx, String why) {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimer();
        log.debug("SMTP probe of pool {} via {}: {}", pool.name(), ctx.channel().remoteAddress(), why);
        ctx.close();
        next(services, pool, hostname, remaining);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, "connection closed");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause.toString());
    }
}
