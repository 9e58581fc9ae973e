package dev.postern.proxy.transport;

import dev.postern.config.TransportKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops and channel types of one Postern process: io_uring, epoll or NIO ({@code transport:}; by default
 * epoll when the native transport loads, NIO otherwise). Client and backend channels of a session share one event loop
 * (the client's), so there is one worker group. Every channel Postern opens takes its class from here: a channel of
 * another transport cannot register on these loops.
 *
 * <p>Listeners accept on a thread of their own and hand each connection to an I/O loop. Accepting on the I/O loops
 * themselves (one {@code SO_REUSEPORT} socket per loop) saves the hand-off, about 4 % of the CPU of an IMAPS login,
 * but with Netty 4.2.18's epoll transport about one session in 2,000 then failed under load with {@code
 * epoll_ctl(..) failed: No such file or directory} on its client channel (seen in the benchmark runs and reproduced
 * with 32 concurrent STARTTLS logins; gone with the accept thread back). The registration code of that release
 * removes a descriptor from epoll when its interest set empties without noting it, which a later change then trips
 * over; why only same-loop accepting exposes it was not pinned down. io_uring keeps the same layout (an accept loop
 * of its own kind), so that measuring it against epoll compares the transports and nothing else.
 */
public final class Transport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    private final TransportKind kind;
    private final EventLoopGroup acceptGroup;
    private final EventLoopGroup workerGroup;
    private final ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;

    private Transport(TransportKind kind, int workers) {
        this.kind = kind;
        IoHandlerFactory factory =
                switch (kind) {
                    case IO_URING -> IoUringIoHandler.newFactory();
                    case EPOLL -> EpollIoHandler.newFactory();
                    default -> NioIoHandler.newFactory();
                };
        this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("postern-accept"), factory);
        this.workerGroup = new MultiThreadIoEventLoopGroup(workers, new DefaultThreadFactory("postern-io"), factory);
    }

    /**
     * Creates the event loops: epoll when it is available, else NIO.
     *
     * @param workers I/O threads; 0 means one per available processor
     * @param preferEpoll use epoll when it is available (false: NIO)
     */
    public static Transport create(int workers, boolean preferEpoll) {
        return create(preferEpoll ? TransportKind.AUTO : TransportKind.NIO, workers);
    }

    /**
     * Creates the event loops of the transport asked for, or of the one it falls back to when this host cannot load
     * it (logged, with the reason).
     *
     * @param workers I/O threads; 0 means one per available processor
     */
    public static Transport create(TransportKind asked, int workers) {
        TransportChoice choice = TransportChoice.of(asked, TransportChoice.Natives.system());
        choice.fallback().ifPresent(why -> {
            if (asked == TransportKind.AUTO) {
                log.info("transport: {}", why);
            } else {
                log.warn("transport: {} was asked for, but {}", asked.configName(), why);
            }
        });
        int n = workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
        return new Transport(choice.kind(), n);
    }

    public String description() {
        return kind.configName() + ", " + ioThreads() + " I/O threads";
    }

    /** The transport that runs: io_uring, epoll or NIO (never auto). */
    public TransportKind kind() {
        return kind;
    }

    public boolean isEpoll() {
        return kind == TransportKind.EPOLL;
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
        return switch (kind) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
    }

    /** The TCP client channel type that fits the event loops (for clients built elsewhere, like auth_http's). */
    public Class<? extends SocketChannel> socketChannelType() {
        return switch (kind) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            default -> NioSocketChannel.class;
        };
    }

    /** The UDP channel type that fits the event loops (the DNS resolvers'). */
    public Class<? extends DatagramChannel> datagramChannelType() {
        return switch (kind) {
            case IO_URING -> IoUringDatagramChannel.class;
            case EPOLL -> EpollDatagramChannel.class;
            default -> NioDatagramChannel.class;
        };
    }

    /** A server bootstrap with Postern's socket options for client connections. */
    public ServerBootstrap serverBootstrap(WriteBufferWaterMark waterMark) {
        return new ServerBootstrap()
                .group(acceptGroup, workerGroup)
                .channel(serverChannelType())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
    }

    /**
     * Binds a listener: client connections to {@code address} get {@code childHandler}; they are accepted on the
     * accept thread and spread over the I/O loops.
     */
    public ChannelFuture bind(SocketAddress address, WriteBufferWaterMark waterMark, ChannelHandler childHandler) {
        return serverBootstrap(waterMark).childHandler(childHandler).bind(address);
    }

    /**
     * A client bootstrap for a backend connection on {@code loop}, which must be the client channel's own event loop:
     * both halves of a session then run on one thread, without locks or hand-offs.
     */
    public Bootstrap backendBootstrap(EventLoop loop, Duration connectTimeout, WriteBufferWaterMark waterMark) {
        return new Bootstrap()
                .group(loop)
                .channel(socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.ALLOCATOR, allocator)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
    }

    /** Stops the accept loop at once and the I/O loops after {@code quietPeriod}; waits up to {@code timeout}. */
    public void shutdown(Duration quietPeriod, Duration timeout) {
        Future<?> a = acceptGroup.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        Future<?> w = workerGroup.shutdownGracefully(quietPeriod.toMillis(), timeout.toMillis(), TimeUnit.MILLISECONDS);
        a.awaitUninterruptibly(timeout.toMillis());
        w.awaitUninterruptibly(timeout.toMillis());
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO, Duration.ofSeconds(5));
    }
}
