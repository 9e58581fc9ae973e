package dev.postern.proxy.routing;

import dev.postern.config.Protocol;
import dev.postern.proxy.codec.LineDecoder;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks: every backend is connected to at an interval, and must greet within a timeout as its
 * protocol says ({@code * OK}, {@code +OK}, {@code 220}; for tcp pools, connecting is enough); then Postern says
 * goodbye politely. Results go through {@link BackendRuntime#observe} (rise/fall), and state changes are logged,
 * counted and reported to a listener (which, for instance, re-learns the pool's capabilities on the way up).
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    /**
     * How one pool is checked.
     *
     * @param protocol what the backend speaks on the checked port
     * @param interval time between the end of one check and the start of the next
     * @param timeout for connecting and greeting together
     * @param rise successes in a row that bring a backend back
     * @param fall failures in a row that take it out
     */
    public record Settings(Protocol protocol, Duration interval, Duration timeout, int rise, int fall) {}

    private final Transport transport;
    private final Metrics metrics;
    private final BiConsumer<BackendRuntime, Boolean> onChange;
    /** The backends being checked, each with its next scheduled check. */
    private final Map<BackendRuntime, ScheduledFuture<?>> watched = new ConcurrentHashMap<>();
    /** Membership apart from the futures: a check may run before its future is stored. */
    private final java.util.Set<BackendRuntime> active = ConcurrentHashMap.newKeySet();

    private volatile boolean closed;

    public HealthChecker(Transport transport, Metrics metrics, BiConsumer<BackendRuntime, Boolean> onChange) {
        this.transport = transport;
        this.metrics = metrics;
        this.onChange = onChange;
    }

    /** Starts checking {@code backend}; the first check runs at once. */
    public void watch(BackendRuntime backend, Settings settings) {
        if (!active.add(backend)) {
            return;
        }
        EventLoop loop = (EventLoop) transport.workerGroup().next();
        watched.put(backend, loop.schedule(() -> run(backend, settings, loop), 0, TimeUnit.MILLISECONDS));
    }

    /** Stops checking {@code backend} (it left its pool). */
    public void unwatch(BackendRuntime backend) {
        active.remove(backend);
        ScheduledFuture<?> f = watched.remove(backend);
        if (f != null) {
            f.cancel(false);
        }
    }

    private void run(BackendRuntime backend, Settings settings, EventLoop loop) {
        if (closed || !active.contains(backend)) {
            return;
        }
        check(backend, settings, loop).addListener(f -> {
            boolean ok = f.isSuccess();
            String why = ok ? null : f.cause().getMessage();
            record(backend, ok, settings, why);
            if (!closed && active.contains(backend)) {
                watched.put(
                        backend,
                        loop.schedule(
                                () -> run(backend, settings, loop),
                                settings.interval().toMillis(),
                                TimeUnit.MILLISECONDS));
            }
        });
    }

    /** A passive observation from live traffic (a refused connection, a dialogue that broke). */
    public void passive(BackendRuntime backend, boolean ok, Settings settings, String why) {
        record(backend, ok, settings, why);
    }

    private void record(BackendRuntime backend, boolean ok, Settings settings, String why) {
        if (backend.observe(ok, settings.rise(), settings.fall())) {
            if (ok) {
                log.info("backend {} is healthy again", backend);
            } else {
                log.warn("backend {} is down: {}", backend, why);
            }
            metrics.backendHealth(backend.pool(), backend.id(), ok);
            onChange.accept(backend, ok);
        }
    }

    /** One check: connect, read the greeting, say goodbye. Completes on {@code loop}. */
    Promise<Void> check(BackendRuntime backend, Settings settings, EventLoop loop) {
        Promise<Void> result = loop.newPromise();
        long timeoutMillis = settings.timeout().toMillis();
        Protocol protocol = settings.protocol();
        ChannelFuture connect = transport
                .backendBootstrap(loop, settings.timeout(), WriteBufferWaterMark.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (protocol != Protocol.TCP) {
                            ch.pipeline().addLast(new LineDecoder(4096), new GreetingCheck(protocol, result));
                        }
                    }
                })
                .connect(backend.config().host(), backend.config().portFor(protocol));
        ScheduledFuture<?> timer = loop.schedule(
                () -> {
                    if (result.tryFailure(new java.util.concurrent.TimeoutException(
                            "no " + (connect.isSuccess() ? "greeting" : "connection") + " within " + timeoutMillis
                                    + " ms"))) {
                        connect.channel().close();
                    }
                },
                timeoutMillis,
                TimeUnit.MILLISECONDS);
        result.addListener(f -> timer.cancel(false));
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
            } else if (protocol == Protocol.TCP) {
                result.trySuccess(null);
                connect.channel().close();
            } else {
                connect.channel().config().setAutoRead(true);
            }
        });
        return result;
    }

    /** Reads the greeting line and judges it. */
    private static final class GreetingCheck extends SimpleChannelInboundHandler<String> {
        private final Protocol protocol;
        private final Promise<Void> result;

        GreetingCheck(Protocol protocol, Promise<Void> result) {
            this.protocol = protocol;
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            if ((protocol == Protocol.SMTP || protocol == Protocol.LMTP) && line.startsWith("220-")) {
                return; // multi-line greeting: wait for the last line
            }
            if (protocol == Protocol.MANAGESIEVE && line.startsWith("\"")) {
                return; // the greeting is a capability list: wait for its OK
            }
            boolean ok =
                    switch (protocol) {
                        case IMAP -> line.startsWith("* OK");
                        case POP3 -> line.startsWith("+OK");
                        case MANAGESIEVE -> line.equals("OK") || line.startsWith("OK ");
                        case SMTP, LMTP -> line.startsWith("220 ") || line.equals("220");
                        case TCP -> true;
                    };
            String goodbye =
                    switch (protocol) {
                        case IMAP -> "h LOGOUT\r\n";
                        case MANAGESIEVE -> "LOGOUT\r\n";
                        default -> "QUIT\r\n";
                    };
            ctx.writeAndFlush(Unpooled.copiedBuffer(goodbye, StandardCharsets.US_ASCII))
                    .addListener(ChannelFutureListener.CLOSE);
            if (ok) {
                result.trySuccess(null);
            } else {
                String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
                result.tryFailure(new IllegalStateException("unexpected greeting: " + shown));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.tryFailure(new IllegalStateException("closed before greeting"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.tryFailure(cause);
            ctx.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        active.clear();
        watched.values().forEach(f -> f.cancel(false));
        watched.clear();
    }
}
