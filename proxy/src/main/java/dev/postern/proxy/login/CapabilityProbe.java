package dev.postern.proxy.login;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.services.ProxyServices;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns at start what a pool's backends offer for one protocol: runs that protocol's probe dialogue (greeting,
 * STARTTLS when configured, the capability list, goodbye) against one backend, which records what it learned in
 * {@link ProxyServices#capabilities()}. A failure is logged and retried a few times with growing pauses, each time on
 * the pool's next backend; then it gives up (login dialogues keep learning, and health checks will). POP3 (CAPA) and
 * ManageSieve (the greeting's capability response) use it.
 */
public final class CapabilityProbe {
    /** Makes the probe dialogue for one attempt: the backend channel's initializer, completing {@code result}. */
    @FunctionalInterface
    public interface Dialogue {
        ChannelHandler newHandler(Backend backend, Promise<BackendLoginResult> result);
    }

    private static final Logger log = LoggerFactory.getLogger(CapabilityProbe.class);

    /** Pools already probed, per protocol: several listeners may share one pool, which needs one probe. */
    private static final Map<Protocol, Set<PoolRuntime>> PROBED = new ConcurrentHashMap<>();

    static final int ATTEMPTS = 5;
    static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DIALOGUE_TIMEOUT = Duration.ofSeconds(15);

    private final ProxyServices services;
    private final PoolRuntime pool;
    private final Protocol protocol;
    private final Dialogue dialogue;
    private final EventLoop loop;

    private CapabilityProbe(ProxyServices services, PoolRuntime pool, Protocol protocol, Dialogue dialogue) {
        this.services = services;
        this.pool = pool;
        this.protocol = protocol;
        this.dialogue = dialogue;
        this.loop = services.transport().workerGroup().next();
    }

    /** Starts probing {@code pool}'s backends on their {@code protocol} port in the background. */
    public static void start(ProxyServices services, PoolRuntime pool, Protocol protocol, Dialogue dialogue) {
        if (pool.backends().isEmpty()) {
            return;
        }
        CapabilityProbe probe = new CapabilityProbe(services, pool, protocol, dialogue);
        probe.loop.execute(() -> probe.attempt(0));
    }

    /** {@link #start}, unless {@code pool} was already probed for {@code protocol}. */
    public static void startOnce(ProxyServices services, PoolRuntime pool, Protocol protocol, Dialogue dialogue) {
        Set<PoolRuntime> probed = PROBED.computeIfAbsent(
                protocol, p -> Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>())));
        if (probed.add(pool)) {
            start(services, pool, protocol, dialogue);
        }
    }

    private void attempt(int n) {
        List<BackendRuntime> backends = pool.backends();
        BackendRuntime backend = backends.get(n % backends.size());
        Promise<BackendLoginResult> result = loop.newPromise();
        ChannelFuture connect = services.transport()
                .backendBootstrap(loop, CONNECT_TIMEOUT, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(dialogue.newHandler(backend.config(), result))
                .connect(backend.config().host(), backend.config().portFor(protocol));
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
                        "{} probe of {}: {}",
                        protocol.configName(),
                        backend,
                        services.capabilities().get(pool.name(), protocol).orElse(List.of()));
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
                log.info(
                        "{} probe of {} failed: {}; trying again in {} ms", protocol.configName(), backend, why, pause);
                loop.schedule(() -> attempt(n + 1), pause, TimeUnit.MILLISECONDS);
            } else {
                log.info(
                        "{} probe of {} failed: {}; giving up after {} attempts",
                        protocol.configName(),
                        backend,
                        why,
                        ATTEMPTS);
            }
        });
    }
}
