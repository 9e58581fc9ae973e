package dev.postern.proxy.routing;

import dev.postern.config.Protocol;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a session's backend connection on the client's own event loop, trying the pool's backends in the balancer's
 * order: when one refuses or times out, the next is tried, since nothing was sent yet.
 */
public final class BackendConnector {
    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);

    private final Transport transport;
    private final Metrics metrics;
    private final PassiveHealth passive;

    /** What live traffic tells about a backend's health: a refused connection counts against it. */
    @FunctionalInterface
    public interface PassiveHealth {
        PassiveHealth NONE = (backend, ok, why) -> {};

        void observe(BackendRuntime backend, boolean ok, String why);
    }

    public BackendConnector(Transport transport, Metrics metrics) {
        this(transport, metrics, PassiveHealth.NONE);
    }

    public BackendConnector(Transport transport, Metrics metrics, PassiveHealth passive) {
        this.transport = transport;
        this.metrics = metrics;
        this.passive = passive;
    }

    /** Where live traffic's health observations go. */
    public PassiveHealth passive() {
        return passive;
    }

    /** A connected backend channel and the backend it reaches. */
    public record Connection(Channel channel, BackendRuntime backend) {}

    /** Why no backend could be reached. Carries no stack trace: it is an expected outcome. */
    public static final class NoBackendException extends Exception {
        private static final long serialVersionUID = 1L;

        NoBackendException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Connects to the first reachable backend of {@code pool}.
     *
     * @param handlers makes the handler installed on the backend channel before it connects, once per attempt
     *     (auto-read is off: the handler reads when it is ready)
     * @param maxAttempts how many backends to try at most
     * @param key the affinity key for the pool's balancer: the user, or the client's address
     */
    public Future<Connection> connect(
            Session session,
            PoolRuntime pool,
            Protocol protocol,
            Function<BackendRuntime, ChannelHandler> handlers,
            Duration connectTimeout,
            WriteBufferWaterMark waterMark,
            int maxAttempts,
            String key) {
        return connect(session, pool, protocol, handlers, connectTimeout, waterMark, maxAttempts, key, Set.of());
    }

    /**
     * Like {@link #connect(Session, PoolRuntime, Protocol, Function, Duration, WriteBufferWaterMark, int, String)},
     * leaving out backends that already failed this login.
     */
    public Future<Connection> connect(
            Session session,
            PoolRuntime pool,
            Protocol protocol,
            Function<BackendRuntime, ChannelHandler> handlers,
            Duration connectTimeout,
            WriteBufferWaterMark waterMark,
            int maxAttempts,
            String key,
            Set<BackendRuntime> exclude) {
        Promise<Connection> promise = session.client().eventLoop().newPromise();
        List<BackendRuntime> order = new java.util.ArrayList<>(pool.order(key));
        order.removeAll(exclude);
        if (order.isEmpty()) {
            promise.setFailure(new NoBackendException("no available backend in pool " + pool.name()));
            return promise;
        }
        attempt(
                session,
                pool,
                order,
                Math.min(maxAttempts, order.size()),
                0,
                false,
                protocol,
                handlers,
                connectTimeout,
                waterMark,
                promise);
        return promise;
    }

    private void attempt(
            Session session,
            PoolRuntime pool,
            List<BackendRuntime> order,
            int attempts,
            int index,
            boolean retried,
            Protocol protocol,
            Function<BackendRuntime, ChannelHandler> handlers,
            Duration connectTimeout,
            WriteBufferWaterMark waterMark,
            Promise<Connection> promise) {
        BackendRuntime backend = order.get(index);
        long start = System.nanoTime();
        ChannelFuture f = transport
                .backendBootstrap(session.client().eventLoop(), connectTimeout, waterMark)
                .handler(handlers.apply(backend))
                .connect(backend.config().host(), backend.config().portFor(protocol));
        f.addListener(done -> {
            long nanos = System.nanoTime() - start;
            metrics.backendConnect(pool.name(), backend.id(), done.isSuccess(), nanos);
            if (!done.isSuccess()) {
                passive.observe(
                        backend, false, "connect failed: " + done.cause().getMessage());
            }
            if (done.isSuccess()) {
                Channel ch = f.channel();
                if (!promise.trySuccess(new Connection(ch, backend))) {
                    ch.close(); // the client gave up meanwhile
                    return;
                }
                backend.sessionStarted();
                ch.closeFuture().addListener(c -> backend.sessionEnded());
                return;
            }
            log.debug(
                    "{}: connect to {} failed: {}",
                    session,
                    backend,
                    done.cause().toString());
            if (session.isClosing() || promise.isDone()) {
                promise.tryFailure(done.cause());
            } else if (index + 1 < attempts) {
                attempt(
                        session,
                        pool,
                        order,
                        attempts,
                        index + 1,
                        retried,
                        protocol,
                        handlers,
                        connectTimeout,
                        waterMark,
                        promise);
            } else if (!retried && !(done.cause() instanceof ConnectTimeoutException)) {
                // the last candidate refused or reset the connection: once more, at once (a loaded backend's
                // listen queue, a reused port still in TIME_WAIT on its side), as HAProxy's retries do; a timeout
                // has cost its time already and is not tried again
                attempt(
                        session,
                        pool,
                        order,
                        attempts,
                        index,
                        true,
                        protocol,
                        handlers,
                        connectTimeout,
                        waterMark,
                        promise);
            } else {
                promise.tryFailure(new NoBackendException("no backend of pool " + pool.name() + " reachable (last: "
                        + backend + ": " + done.cause().getMessage() + ")"));
            }
        });
    }
}
