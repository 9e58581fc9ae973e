package dev.postern.proxy.managesieve;

import dev.postern.config.Protocol;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns at start what a pool's ManageSieve backends offer: connects to one backend, reads the greeting's
 * capability response (after STARTTLS, the one that follows the handshake), says LOGOUT, and records the lines. A failure is logged and retried a few times with growing pauses, each
 * time on the pool's next backend; then it gives up (login dialogues keep learning, and health checks will).
 */
final class ManageSieveProbe {
    private static final Logger log = LoggerFactory.getLogger(ManageSieveProbe.class);

    static final int ATTEMPTS = 5;
    static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DIALOGUE_TIMEOUT = Duration.ofSeconds(15);

    private final ProxyServices services;
    private final PoolRuntime pool;
    private final EventLoop loop;

    private ManageSieveProbe(ProxyServices services, PoolRuntime pool) {
        this.services = services;
        this.pool = pool;
        this.loop = services.transport().workerGroup().next();
    }

    /** Starts probing {@code pool} in the background. */
    static void start(ProxyServices services, PoolRuntime pool) {
        if (pool.backends().isEmpty()) {
            return;
        }
        ManageSieveProbe probe = new ManageSieveProbe(services, pool);
        probe.loop.execute(() -> probe.attempt(0));
    }

    private void attempt(int n) {
        List<BackendRuntime> backends = pool.backends();
        BackendRuntime backend = backends.get(n % backends.size());
        Promise<BackendLoginResult> result = loop.newPromise();
        ManageSieveBackendHandler handler = ManageSieveBackendHandler.probe(backend.config(), services, result);
        ChannelFuture connect = services.transport()
                .backendBootstrap(loop, CONNECT_TIMEOUT, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        handler.install(ch);
                    }
                })
                .connect(backend.config().host(), backend.config().portFor(Protocol.MANAGESIEVE));
        ScheduledFuture<?> timer = loop.schedule(
                () -> result.tryFailure(new TimeoutException("no answer within " + DIALOGUE_TIMEOUT.toSeconds() + "s")),
                DIALOGUE_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
            }
        });
        result.addListener(f -> {
            timer.cancel(false);
            connect.channel().close();
            BackendLoginResult r = f.isSuccess() ? result.getNow() : null;
            if (r instanceof BackendLoginResult.LoggedIn) {
                log.debug(
                        "ManageSieve probe of {}: {}",
                        backend,
                        services.capabilities()
                                .get(pool.name(), Protocol.MANAGESIEVE)
                                .orElse(List.of()));
                return;
            }
            String why = r instanceof BackendLoginResult.Failed fl
                    ? fl.reason()
                    : r instanceof BackendLoginResult.Refused rf
                            ? rf.reply()
                            : String.valueOf(
                                    f.cause() == null ? "closed" : f.cause().getMessage());
            if (n + 1 < ATTEMPTS) {
                long pause = FIRST_PAUSE.toMillis() << n;
                log.info("ManageSieve probe of {} failed: {}; trying again in {} ms", backend, why, pause);
                loop.schedule(() -> attempt(n + 1), pause, TimeUnit.MILLISECONDS);
            } else {
                log.info("ManageSieve probe of {} failed: {}; giving up after {} attempts", backend, why, ATTEMPTS);
            }
        });
    }
}
