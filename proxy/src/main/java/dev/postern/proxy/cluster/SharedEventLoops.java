package dev.postern.proxy.cluster;

import dev.postern.config.TransportKind;
import io.lettuce.core.resource.DefaultEventLoopGroupProvider;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lettuce's event loops are Postern's own I/O loops: the Redis connections need no threads of their own, and their
 * callbacks run where the rest of the I/O runs (so they must never block; the cluster package hands everything else
 * to its own thread).
 *
 * <p>Lettuce asks for a group by class: {@code EpollEventLoopGroup} when it sees epoll, {@code NioEventLoopGroup}
 * otherwise, and puts its own channel class of that transport on it. Postern's loops are Netty 4.2 {@code
 * MultiThreadIoEventLoopGroup}s with the epoll or NIO handler, which carry those channel classes as well; so the
 * shared group is handed out for the class of Postern's own transport. Should the two ever disagree (Lettuce's
 * {@code io.lettuce.core.epoll} switch), Lettuce gets a small group of the kind it asked for instead of a mismatched
 * one. That is always the case on io_uring: Lettuce 6.8 knows only the incubator's io_uring, not Netty 4.2's, and asks
 * for epoll or NIO loops, whose channels cannot register on io_uring ones.
 */
final class SharedEventLoops implements EventLoopGroupProvider {
    private static final Logger log = LoggerFactory.getLogger(SharedEventLoops.class);
    private static final String EPOLL_GROUP = "io.netty.channel.epoll.EpollEventLoopGroup";
    private static final String NIO_GROUP = "io.netty.channel.nio.NioEventLoopGroup";
    private static final String IO_URING = TransportKind.IO_URING.configName();

    private final EventLoopGroup shared;
    private final String fits;
    private DefaultEventLoopGroupProvider own;

    SharedEventLoops(EventLoopGroup shared, TransportKind kind) {
        this.shared = shared;
        this.fits = switch (kind) {
            case EPOLL -> EPOLL_GROUP;
            case NIO -> NIO_GROUP;
                // no group class of Lettuce's carries Netty 4.2's io_uring channels
            default -> kind.configName();
        };
    }

    /** Whether Lettuce's connections run on the shared group (they do unless the transports disagree). */
    boolean shares(Class<?> requested) {
        return requested.getName().equals(fits);
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T extends EventLoopGroup> T allocate(Class<T> type) {
        if (shares(type)) {
            // Lettuce keeps the group as a plain EventLoopGroup: the requested class only names the transport
            return (T) shared;
        }
        if (own == null) {
            if (fits.equals(IO_URING)) {
                log.info(
                        "cluster: the Redis client cannot run on io_uring loops; it gets an event loop of its own ({})",
                        type.getSimpleName());
            } else {
                log.warn(
                        "cluster: Redis client wants {} but Postern runs {}; it gets an event loop of its own",
                        type,
                        fits);
            }
            own = new DefaultEventLoopGroupProvider(1);
        }
        return own.allocate(type);
    }

    @Override
    public int threadPoolSize() {
        return shared instanceof MultiThreadIoEventLoopGroup g ? g.executorCount() : 1;
    }

    @Override
    public synchronized Future<Boolean> release(
            EventExecutorGroup group, long quietPeriod, long timeout, TimeUnit unit) {
        if (group == shared || own == null) {
            // the transport owns the shared loops and stops them after the cluster client
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }
        return own.release(group, quietPeriod, timeout, unit);
    }

    @Override
    public synchronized Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit unit) {
        if (own == null) {
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }
        return own.shutdown(quietPeriod, timeout, unit);
    }
}
