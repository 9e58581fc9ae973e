package dev.postern.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;

/**
 * One run of a scenario: {@code concurrency} virtual users, each running its session script again and again until
 * the duration (or the operation cap) is reached; for imap-idle, sessions are opened until {@code sessions} are in
 * IDLE and then held for the duration. Every failure is counted and the first one kept.
 */
final class LoadRun implements AutoCloseable {
    private static final long RETRY_DELAY_MILLIS = 100;

    private final LoadOptions options;
    private final PrintStream status;
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final SslContext sslContext;
    private final Latencies latencies = new Latencies();
    private final AtomicLong ops = new AtomicLong();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong repeats = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final Set<Channel> held = ConcurrentHashMap.newKeySet();
    private volatile long deadline;
    private volatile boolean releasing;
    private CountDownLatch finished;

    /**
     * @param status where progress lines go (stderr): the run's JSON is the only thing on stdout
     */
    LoadRun(LoadOptions options, PrintStream status) throws SSLException {
        this.options = options;
        this.status = status;
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(
                options.threads(),
                new DefaultThreadFactory("load"),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.sslContext = options.tls() == TlsMode.NONE ? null : clientContext(options.tlsVersion());
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        options.timeout().toMillis());
    }

    /**
     * A client context that trusts any certificate (the targets use a throwaway one) and never resumes a session:
     * handlers are made without a peer host, so every connection does a full handshake.
     */
    static SslContext clientContext(String tlsVersion) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .protocols(tlsVersion)
                .build();
    }

    /** Runs the scenario to its end and returns what it measured. */
    RunResult run() throws InterruptedException {
        int users = options.scenario() == Scenario.IMAP_IDLE
                ? Math.min(options.concurrency(), options.sessions())
                : options.concurrency();
        finished = new CountDownLatch(users);
        repeats.set(users); // each virtual user's first operation is not a repeat
        long start = System.nanoTime();
        deadline = start + options.duration().toNanos();
        if (options.scenario() == Scenario.IMAP_IDLE) {
            deadline = Long.MAX_VALUE; // opening is bounded by the session count and each session's timeout
        }
        for (int i = 0; i < users; i++) {
            new VirtualUser(i).next();
        }
        finished.await();
        long end = System.nanoTime();
        long heldAtEnd = 0;
        if (options.scenario() == Scenario.IMAP_IDLE) {
            heldAtEnd = hold();
        }
        return new RunResult(
                options.scenario().cliName(),
                options.label(),
                options.tls().name().toLowerCase(java.util.Locale.ROOT),
                options.concurrency(),
                (end - start) / 1e9,
                ops.get(),
                latencies.summary(),
                errors.get(),
                firstError.get(),
                bytes.get(),
                heldAtEnd);
    }

    /** Holds the IDLE sessions for the duration; returns how many were still open at its end. */
    private long hold() throws InterruptedException {
        status.println("postern-load: holding " + held.size() + " sessions for "
                + options.duration().toMillis() + " ms");
        status.flush();
        long end = System.nanoTime() + options.duration().toNanos();
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
        }
        releasing = true;
        List<Channel> channels = new ArrayList<>(held);
        long open = channels.stream().filter(Channel::isActive).count();
        for (Channel ch : channels) {
            ch.close();
        }
        for (Channel ch : channels) {
            ch.closeFuture().await(5, TimeUnit.SECONDS);
        }
        status.println("postern-load: released " + open + " sessions");
        status.flush();
        return open;
    }

    private boolean mayStartSession() {
        if (System.nanoTime() >= deadline) {
            return false;
        }
        long n = started.incrementAndGet();
        if (options.scenario() == Scenario.IMAP_IDLE) {
            return n <= options.sessions();
        }
        return options.maxOps() == 0 || options.scenario() == Scenario.IMAP_FETCH_BIG || n <= options.maxOps();
    }

    private boolean mayRepeat() {
        return System.nanoTime() < deadline && (options.maxOps() == 0 || repeats.incrementAndGet() <= options.maxOps());
    }

    private void error(String text) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, text);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One virtual user: one session at a time, the next when it ends. */
    private final class VirtualUser {
        private final int id;
        private volatile boolean stopped;

        VirtualUser(int id) {
            this.id = id;
        }

        void next() {
            if (stopped || !mayStartSession()) {
                finished.countDown();
                return;
            }
            Session session = new Session(this);
            Script script = Scripts.of(options, id);
            boolean imap = options.scenario().protocol() == Scenario.Protocol.IMAP;
            Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (options.tls() == TlsMode.IMPLICIT) {
                        ch.pipeline().addLast(ScriptClient.TLS, sslContext.newHandler(ch.alloc()));
                    }
                    ch.pipeline().addLast("decoder", new ReplyDecoder(imap));
                    ch.pipeline().addLast("script", new ScriptClient(script, sslContext, options.timeout(), session));
                }
            });
            b.connect(options.host(), options.port()).addListener(f -> {
                if (!f.isSuccess()) {
                    error("connect: " + f.cause().getMessage());
                    group.next().schedule(this::next, RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        }
    }

    /** One session of a virtual user. */
    private final class Session implements ScriptClient.Listener {
        private final VirtualUser user;
        private final long start = System.nanoTime();
        private boolean failed;
        private boolean isHeld;

        Session(VirtualUser user) {
            this.user = user;
        }

        @Override
        public boolean scriptDone(ScriptClient client) {
            switch (options.scenario()) {
                case IMAP_FETCH_BIG:
                    if (mayRepeat()) {
                        return true;
                    }
                    user.stopped = true;
                    client.channel().close();
                    return false;
                case IMAP_IDLE:
                    ops.incrementAndGet();
                    latencies.record(System.nanoTime() - start);
                    isHeld = true;
                    held.add(client.channel());
                    user.next();
                    return false;
                default:
                    ops.incrementAndGet();
                    latencies.record(System.nanoTime() - start);
                    client.channel().close();
                    return false;
            }
        }

        @Override
        public void timedStep(long nanos, long literalBytes) {
            bytes.addAndGet(literalBytes);
            if (literalBytes == 0) {
                error("FETCH returned no literal");
            } else if (options.expectBytes() > 0 && literalBytes != options.expectBytes()) {
                error("FETCH returned " + literalBytes + " bytes, expected " + options.expectBytes());
            } else {
                ops.incrementAndGet();
                latencies.record(nanos);
            }
        }

        @Override
        public void failed(ScriptClient client, String error) {
            failed = true;
            error(error);
        }

        @Override
        public void closed(ScriptClient client) {
            if (isHeld) {
                held.remove(client.channel());
                if (!releasing) {
                    error("an idle session was closed by the server");
                }
                return;
            }
            if (failed && System.nanoTime() < deadline) {
                // do not spin on a target that refuses everything
                client.channel().eventLoop().schedule(user::next, RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                user.next();
            }
        }
    }
}
