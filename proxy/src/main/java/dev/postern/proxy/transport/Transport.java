package dev.postern.proxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.PromiseCombiner;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops and channel types of one Postern process: epoll when the native transport loads, NIO otherwise.
 * Client and backend channels of a session share one event loop (the client's), so there is one worker group.
 *
 * <p>Connections are accepted on the I/O loops themselves, not on a separate accept thread: with epoll each listener
 * is one socket per I/O loop sharing the port ({@code SO_REUSEPORT}, the kernel spreads new connections over them),
 * and a connection stays on the loop that accepted it, so accepting costs no thread hand-off (measured: the accept
 * thread used about 4 % of Postern's CPU per IMAPS login, and every hand-off is a wake-up of another thread). With
 * NIO one socket per listener is accepted on one I/O loop and its connections spread over all of them.
 */
public final class Transport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    private final boolean epoll;
    private final EventLoopGroup workerGroup;
    private final ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;

    private Transport(boolean epoll, int workers) {
        this.epoll = epoll;
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.workerGroup = new MultiThreadIoEventLoopGroup(workers, new DefaultThreadFactory("postern-io"), factory);
    }

    /**
     * Creates the event loops.
     *
     * @param workers I/O threads; 0 means one per available processor
     * @param preferEpoll use epoll when it is available
     */
    public static Transport create(int workers, boolean preferEpoll) {
        int n = workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
        boolean useEpoll = preferEpoll && Epoll.isAvailable();
        if (preferEpoll && !useEpoll) {
            log.info(
                    "epoll not available ({}), using NIO",
                    Epoll.unavailabilityCause().toString());
        }
        return new Transport(useEpoll, n);
    }

    public String description() {
        return (epoll ? "epoll" : "nio") + ", " + ioThreads() + " I/O threads";
    }

    public boolean isEpoll() {
        return epoll;
    }

    public int ioThreads() {
        return ((MultiThreadIoEventLoopGroup) workerGroup).executorCount();
    }

    public EventLoopGroup workerGroup() {
        return workerGroup;
    }

    public ByteBufAllocator allocator() {
        return allocator;
    }

    /** The server channel type that fits the event loops (for servers built elsewhere, like the admin API). */
    public Class<? extends ServerChannel> serverChannelType() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * A server bootstrap with Postern's socket options for client connections, accepting on one I/O loop and spreading
     * its connections over all of them. Listeners use {@link #bind}, which accepts on every loop.
     */
    public ServerBootstrap serverBootstrap(WriteBufferWaterMark waterMark) {
        return serverBootstrap(workerGroup, waterMark);
    }

    private ServerBootstrap serverBootstrap(EventLoopGroup group, WriteBufferWaterMark waterMark) {
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        return new ServerBootstrap()
                .group(group, group)
                .channel(type)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
    }

    /**
     * Binds a listener: client connections to {@code address} get {@code childHandler}. With epoll and more than one
     * I/O loop, every loop gets its own socket on the address ({@code SO_REUSEPORT}) and keeps the connections it
     * accepts; the returned channel is the first of them, and closing it closes the others (port 0 picks one free
     * port for all). Otherwise one socket, accepted on one loop.
     */
    public ChannelFuture bind(SocketAddress address, WriteBufferWaterMark waterMark, ChannelHandler childHandler) {
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor e : workerGroup) {
            loops.add((EventLoop) e);
        }
        if (!epoll || loops.size() < 2) {
            return serverBootstrap(waterMark).childHandler(childHandler).bind(address);
        }
        CloseSiblings siblings = new CloseSiblings();
        ChannelFuture first = reusePort(loops.get(0), waterMark, childHandler)
                .handler(siblings)
                .bind(address)
                .awaitUninterruptibly();
        if (!first.isSuccess()) {
            return first;
        }
        SocketAddress bound = first.channel().localAddress();
        for (EventLoop loop : loops.subList(1, loops.size())) {
            ChannelFuture f =
                    reusePort(loop, waterMark, childHandler).bind(bound).awaitUninterruptibly();
            if (!f.isSuccess()) {
                first.channel().close().awaitUninterruptibly();
                return f;
            }
            siblings.channels.add(f.channel());
        }
        return first;
    }

    /**
     * On the first socket of a listener: closing it closes the other sockets first, and its close completes when they
     * are all closed, so that once it has, no loop accepts on the port any more.
     */
    private static final class CloseSiblings extends ChannelOutboundHandlerAdapter {
        final List<Channel> channels = new CopyOnWriteArrayList<>();

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            PromiseCombiner all = new PromiseCombiner(ctx.executor());
            for (Channel c : channels) {
                all.add(c.close());
            }
            ChannelPromise siblingsClosed = ctx.newPromise();
            siblingsClosed.addListener(f -> ctx.close(promise));
            all.finish(siblingsClosed);
        }
    }

    private ServerBootstrap reusePort(EventLoop loop, WriteBufferWaterMark waterMark, ChannelHandler childHandler) {
        return serverBootstrap(loop, waterMark)
                .option(EpollChannelOption.SO_REUSEPORT, true)
                .childHandler(childHandler);
    }

    /**
     * A client bootstrap for a backend connection on {@code loop}, which must be the client channel's own event loop:
     * both halves of a session then run on one thread, without locks or hand-offs.
     */
    public Bootstrap backendBootstrap(EventLoop loop, Duration connectTimeout, WriteBufferWaterMark waterMark) {
        Class<? extends Channel> type = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        return new Bootstrap()
                .group(loop)
                .channel(type)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.ALLOCATOR, allocator)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
    }

    /** Stops the I/O loops after {@code quietPeriod}; waits up to {@code timeout}. */
    public void shutdown(Duration quietPeriod, Duration timeout) {
        Future<?> w = workerGroup.shutdownGracefully(quietPeriod.toMillis(), timeout.toMillis(), TimeUnit.MILLISECONDS);
        w.awaitUninterruptibly(timeout.toMillis());
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO, Duration.ofSeconds(5));
    }
}
