package dev.postern.proxy.auth;

import dev.postern.config.AuthProviderConfig;
import dev.postern.config.Secret;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} provider: an auth service speaking nginx's {@code auth_http} protocol ({@link NginxAuthProtocol}),
 * asked over keep-alive connections from a bounded pool on the worker event loops; nothing here blocks. Beyond
 * nginx: HTTPS, keep-alive, a timeout per request, and host names in {@code Auth-Server}.
 *
 * <p>{@code Auth-Status: WAIT} is nginx's "ask again after Auth-Wait seconds"; Postern asks again a few times at
 * most, then answers the login with a temporary error. A timeout or a broken answer completes the login's stage
 * exceptionally: the login gets a temporary error, or a stale cached answer.
 */
public final class HttpAuthProvider implements AuthProvider {
    private static final Logger log = LoggerFactory.getLogger(HttpAuthProvider.class);
    private static final AttributeKey<Exchange> EXCHANGE = AttributeKey.valueOf("postern.auth.exchange");
    /** WAIT answers in a row after which a login gets a temporary error. */
    static final int MAX_WAITS = 5;

    private static final int MAX_RESPONSE = 64 * 1024;
    private static final int MAX_PENDING = 10_000;

    private final String name;
    private final URI url;
    private final String hostHeader;
    private final String path;
    private final Duration timeout;
    private final Map<String, Secret> headers;
    private final EventLoopGroup group;
    private final FixedChannelPool pool;

    /** One request on one channel: completes the login's future once, and gives the channel back once. */
    private final class Exchange {
        final CompletableFuture<NginxAuthProtocol.Answer> answer = new CompletableFuture<>();
        final AuthRequest request;
        final AtomicBoolean finished = new AtomicBoolean();
        final AtomicBoolean released = new AtomicBoolean();
        volatile Channel channel;
        volatile ScheduledFuture<?> timer;

        Exchange(AuthRequest request) {
            this.request = request;
        }

        // the connection goes back to the pool before the answer is passed on, so that the next login finds it
        void fail(Throwable t) {
            if (finished.compareAndSet(false, true)) {
                cancelTimer();
                release(true);
                answer.completeExceptionally(t);
            }
        }

        void succeed(NginxAuthProtocol.Answer a, boolean keepAlive) {
            if (finished.compareAndSet(false, true)) {
                cancelTimer();
                release(!keepAlive);
                answer.complete(a);
            }
        }

        /** The timer holds the request (with its secret) until it fires: let it go as soon as the answer is in. */
        void cancelTimer() {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
        }

        void release(boolean close) {
            Channel ch = channel;
            if (ch == null || !released.compareAndSet(false, true)) {
                return;
            }
            ch.attr(EXCHANGE).set(null);
            if (close) {
                // a late answer on this connection would belong to nobody: it goes
                ch.close();
            }
            pool.release(ch);
        }
    }

    /**
     * @param group the worker event loops the connections live on
     * @param channelType the socket channel class for {@code group}
     * @param resolver resolves the service's host name without blocking
     * @param ssl the client TLS context for https ({@link #clientContext}), or null for http
     */
    public HttpAuthProvider(
            AuthProviderConfig.Http config,
            EventLoopGroup group,
            Class<? extends Channel> channelType,
            AddressResolverGroup<? extends SocketAddress> resolver,
            SslContext ssl) {
        this.name = config.name();
        this.url = config.url();
        this.timeout = config.timeout();
        this.headers = config.headers();
        this.group = group;
        String host = url.getHost();
        int port = config.port();
        boolean defaultPort = url.getPort() < 0;
        this.hostHeader = defaultPort ? host : host + ":" + port;
        String p = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        this.path = url.getRawQuery() == null ? p : p + "?" + url.getRawQuery();
        String sniHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(channelType)
                .resolver(resolver)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .remoteAddress(InetSocketAddress.createUnresolved(sniHost, port));
        this.pool = new FixedChannelPool(
                bootstrap,
                new AbstractChannelPoolHandler() {
                    @Override
                    public void channelCreated(Channel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), sniHost, port));
                        }
                        ch.pipeline()
                                .addLast("http", new HttpClientCodec())
                                .addLast("aggregator", new HttpObjectAggregator(MAX_RESPONSE))
                                .addLast("answer", new AnswerHandler());
                    }
                },
                ChannelHealthChecker.ACTIVE,
                FixedChannelPool.AcquireTimeoutAction.FAIL,
                timeout.toMillis(),
                config.maxConnections(),
                MAX_PENDING,
                // a released connection is checked when it is next acquired; checking at release as well would
                // hand it back asynchronously, after the next login has already opened another one
                false,
                true);
    }

    /** The client TLS context for https services: verifying the chain and host name, or (tlsVerify false) not. */
    public static SslContext clientContext(boolean verify) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (verify) {
                b.endpointIdentificationAlgorithm("HTTPS");
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build a TLS client context: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
        CompletableFuture<Optional<AuthResult>> result = new CompletableFuture<>();
        ask(request, 0, result);
        return result;
    }

    private void ask(AuthRequest request, int waits, CompletableFuture<Optional<AuthResult>> result) {
        exchange(request).whenComplete((answer, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else if (!answer.isWait()) {
                result.complete(Optional.of(answer.result()));
            } else if (waits + 1 >= MAX_WAITS) {
                result.complete(Optional.of(new AuthResult.Rejected(
                        "auth service said WAIT " + MAX_WAITS + " times", true, Duration.ZERO)));
            } else {
                // nginx's WAIT: ask again after Auth-Wait seconds, on a timer
                group.next()
                        .schedule(
                                () -> ask(request, waits + 1, result),
                                answer.pause().toMillis(),
                                TimeUnit.MILLISECONDS);
            }
        });
    }

    private CompletableFuture<NginxAuthProtocol.Answer> exchange(AuthRequest request) {
        Exchange exchange = new Exchange(request);
        exchange.timer = group.next()
                .schedule(
                        () -> exchange.fail(new TimeoutException(
                                "auth service " + name + " did not answer within " + timeout.toMillis() + " ms")),
                        timeout.toMillis(),
                        TimeUnit.MILLISECONDS);
        Future<Channel> acquired = pool.acquire();
        acquired.addListener(f -> {
            if (!f.isSuccess()) {
                exchange.fail(new IOException(
                        "auth service " + name + " (" + url.getHost() + "): "
                                + f.cause().getMessage(),
                        f.cause()));
                return;
            }
            Channel ch = acquired.getNow();
            exchange.channel = ch;
            if (exchange.finished.get()) {
                exchange.release(false); // timed out while waiting for a connection; the connection is fine
                return;
            }
            ch.attr(EXCHANGE).set(exchange);
            ch.writeAndFlush(httpRequest(request)).addListener(w -> {
                if (!w.isSuccess()) {
                    exchange.fail(new IOException(
                            "auth service " + name + ": " + w.cause().getMessage(), w.cause()));
                }
            });
        });
        return exchange.answer;
    }

    private FullHttpRequest httpRequest(AuthRequest request) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        r.headers().set(HttpHeaderNames.HOST, hostHeader);
        NginxAuthProtocol.requestHeaders(r.headers(), request);
        headers.forEach((k, v) -> r.headers().set(k, v.reveal()));
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        return r;
    }

    /**
     * Reads the one answer of the channel's current exchange, skipping interim (1xx) responses before it. Anything
     * else ends the exchange with an error and closes the connection, so that it is never asked again: above all a
     * 101, after which the HTTP decoder passes raw bytes and a later "answer" could be anything the service sent.
     */
    private final class AnswerHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                read(ctx, msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void read(ChannelHandlerContext ctx, Object msg) {
            Exchange exchange = ctx.channel().attr(EXCHANGE).get();
            if (exchange == null) {
                log.debug("auth service {}: an answer nobody asked for; closing the connection", name);
                ctx.close();
                return;
            }
            if (!(msg instanceof FullHttpResponse response)) {
                // the decoder stopped parsing HTTP (a 101 before it): the exchange fails, the connection goes
                exchange.fail(new IOException("auth service " + name + " stopped speaking HTTP"));
                return;
            }
            if (!response.decoderResult().isSuccess()) {
                exchange.fail(new IOException("auth service " + name + " sent a malformed answer"));
                return;
            }
            int status = response.status().code();
            if (NginxAuthProtocol.isInterim(status)) {
                return; // the final answer follows on this connection
            }
            try {
                NginxAuthProtocol.Answer answer =
                        NginxAuthProtocol.answer(response.headers(), status, exchange.request);
                exchange.succeed(answer, HttpUtil.isKeepAlive(response));
            } catch (IOException e) {
                exchange.fail(e); // and the connection closes: after a 101 it no longer speaks HTTP
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Exchange exchange = ctx.channel().attr(EXCHANGE).get();
            if (exchange != null) {
                exchange.fail(new IOException("auth service " + name + " closed the connection"));
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Exchange exchange = ctx.channel().attr(EXCHANGE).get();
            if (exchange != null) {
                exchange.fail(new IOException("auth service " + name + ": " + cause.getMessage(), cause));
            } else {
                log.debug("auth service {}: {}", name, cause.toString());
            }
            ctx.close();
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "HttpAuthProvider[" + name + " " + url + "]";
    }
}
