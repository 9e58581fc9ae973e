package dev.postern.admin;

import dev.postern.config.HostPort;
import dev.postern.config.RouteStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server: the JSON API under {@code /api/v1}, {@code /healthz}, {@code /readyz} and {@code /metrics},
 * on its own listener. It runs on an event loop group it is given (the proxy's), and hands API requests to a few
 * worker threads of its own, because a routing change waits for the disk. Start with {@link #start}; stop with
 * {@link #close}.
 *
 * <p>Routing changes go to the {@link RouteStore} (validated as a whole, persisted, then published: the proxy applies
 * them to new sessions); everything live goes through {@link ProxyControl}.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** The prefix of every API resource. */
    public static final String API = "/api/v1";

    static final int MAX_INITIAL_LINE = 8192;
    static final int MAX_HEADER_SIZE = 16 * 1024;
    private static final int WORK_QUEUE = 256;

    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final ThreadPoolExecutor workers;
    private final Router router;

    private AdminServer(Channel serverChannel, ChannelGroup connections, ThreadPoolExecutor workers, Router router) {
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.workers = workers;
        this.router = router;
    }

    /**
     * Binds the admin listener.
     *
     * @param settings where and for whom
     * @param store the routing model the API reads and writes
     * @param proxy the running proxy's live state and actions
     * @param registry the metrics {@code /metrics} serves
     * @param tls makes the TLS handler of each new connection (the proxy's {@code TlsManager::newServerHandler}, so a
     *     certificate reload applies to the next connection); null for plain HTTP
     * @param group the event loops to run on
     * @param channelType the server channel type that fits {@code group} (epoll or NIO)
     * @throws AdminStartException the address cannot be bound
     */
    public static AdminServer start(
            AdminSettings settings,
            RouteStore store,
            ProxyControl proxy,
            PrometheusRegistry registry,
            Supplier<? extends ChannelHandler> tls,
            EventLoopGroup group,
            Class<? extends ServerChannel> channelType)
            throws AdminStartException {
        return start(settings, store, proxy, registry, tls, group, channelType, Clock.systemUTC());
    }

    static AdminServer start(
            AdminSettings settings,
            RouteStore store,
            ProxyControl proxy,
            PrometheusRegistry registry,
            Supplier<? extends ChannelHandler> tls,
            EventLoopGroup group,
            Class<? extends ServerChannel> channelType,
            Clock clock)
            throws AdminStartException {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(registry, "registry");
        Router router = routes(store, proxy, registry, clock);
        ThreadPoolExecutor workers = workers(settings.workerThreads());
        AdminApi api = new AdminApi(
                router, new Tokens(settings.tokens()), settings.metricsAuth(), workers, () -> store.current()
                        .revision());
        ChannelGroup connections = new DefaultChannelGroup("postern-admin", GlobalEventExecutor.INSTANCE);
        ChannelInitializer<SocketChannel> init = new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                connections.add(ch);
                ChannelPipeline p = ch.pipeline();
                if (tls != null) {
                    p.addLast("tls", tls.get());
                }
                long idle = settings.idleTimeout().toMillis();
                p.addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
                p.addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192));
                p.addLast("read-timeout", new RequestReadTimeout(settings.requestReadTimeout()));
                p.addLast("aggregator", new BodyLimit(settings.maxBodyBytes(), api));
                p.addLast("api", new AdminHttpHandler(api));
            }
        };
        HostPort hp = settings.bind();
        InetSocketAddress address =
                hp.isWildcard() ? new InetSocketAddress(hp.port()) : new InetSocketAddress(hp.host(), hp.port());
        if (address.isUnresolved()) {
            workers.shutdownNow();
            throw new AdminStartException("admin API: cannot resolve bind address " + hp.host(), null);
        }
        ChannelFuture f = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(init)
                .bind(address)
                .awaitUninterruptibly();
        if (!f.isSuccess()) {
            workers.shutdownNow();
            throw new AdminStartException(
                    "admin API: cannot bind " + hp + ": "
                            + String.valueOf(f.cause().getMessage()),
                    f.cause());
        }
        AdminServer server = new AdminServer(f.channel(), connections, workers, router);
        log.info(
                "admin API: listening on {}{} ({} tokens{})",
                server.address(),
                tls != null ? " with TLS" : "",
                settings.tokens().size(),
                settings.tokens().isEmpty() ? ": every API call is refused until admin.tokens has one" : "");
        return server;
    }

    static Router routes(RouteStore store, ProxyControl proxy, PrometheusRegistry registry, Clock clock) {
        RoutingChanges changes = new RoutingChanges(store);
        Router router = new Router();
        new SystemResources(changes, proxy, registry).register(router);
        new PoolResources(changes, proxy).register(router);
        new BackendResources(changes, proxy, clock).register(router);
        new RouteResources(changes, proxy).register(router);
        new HoldResources(proxy, clock).register(router);
        new MoveResources(changes, proxy).register(router);
        ClusterResources cluster = new ClusterResources(proxy, clock);
        cluster.register(router);
        new LiveResources(proxy, cluster, clock).register(router);
        new ConfigResources(proxy, cluster).register(router);
        return router;
    }

    private static ThreadPoolExecutor workers(int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(
                threads,
                threads,
                30,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WORK_QUEUE),
                r -> {
                    Thread t = new Thread(r, "postern-admin-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** The address it listens on (with the actual port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The (method, path template) pairs the API answers, for the OpenAPI check. */
    public List<String> routeTable() {
        return router.routes().stream()
                .map(r -> r.method().name() + " " + r.template())
                .toList();
    }

    /** Stops listening, closes the open connections, and lets the workers finish what they started. */
    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        connections.close().awaitUninterruptibly();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
    }
}
