package dev.postern.proxy.routing;

import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules the active health checks: every backend is checked at an interval by its pool's mode ({@code connect},
 * {@code greeting}, {@code login}: the checks themselves are in {@code health}). Results go through {@link
 * BackendRuntime#observe} (rise/fall); failures are counted by reason and the last one is kept on the backend; state
 * changes are logged, counted and reported to a listener.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    /**
     * How one pool is checked.
     *
     * @param protocol what the backend speaks on the checked port
     * @param interval time between the end of one check and the start of the next
     * @param timeout for one whole check
     * @param rise successes in a row that bring a backend back
     * @param fall failures in a row that take it out
     * @param mode how much a check proves
     * @param login the probe user in login mode
     */
    public record Settings(
            Protocol protocol,
            Duration interval,
            Duration timeout,
            int rise,
            int fall,
            HealthCheckConfig.Mode mode,
            Optional<HealthCheckConfig.ProbeLogin> login) {

        /** Settings of a greeting check. */
        public Settings(Protocol protocol, Duration interval, Duration timeout, int rise, int fall) {
            this(protocol, interval, timeout, rise, fall, HealthCheckConfig.Mode.GREETING, Optional.empty());
        }
    }

    private final Transport transport;
    private final Metrics metrics;
    private final BiConsumer<BackendRuntime, Boolean> onChange;
    private final Function<HealthCheckConfig.Mode, HealthCheck> checks;
    private final Clock clock;
    /** The backends being checked, each with its next scheduled check. */
    private final Map<BackendRuntime, ScheduledFuture<?>> watched = new ConcurrentHashMap<>();
    /** Membership apart from the futures: a check may run before its future is stored. */
    private final Set<BackendRuntime> active = ConcurrentHashMap.newKeySet();
    /** Pools whose login check cannot speak their protocol (warned once each). */
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /** Backends watched before {@link #start}, with their settings. */
    private final Map<BackendRuntime, Supplier<Settings>> pending = new ConcurrentHashMap<>();

    private volatile boolean closed;
    private boolean started; // guarded by this

    /**
     * A checker whose checks begin at {@link #start} (once what the checks need, such as the login dialogues, is in
     * place); backends watched before wait for it.
     *
     * @param checks the check of each mode
     */
    public HealthChecker(
            Transport transport,
            Metrics metrics,
            BiConsumer<BackendRuntime, Boolean> onChange,
            Function<HealthCheckConfig.Mode, HealthCheck> checks) {
        this.transport = transport;
        this.metrics = metrics;
        this.onChange = onChange;
        this.checks = checks;
        this.clock = Clock.systemUTC();
    }

    /** Starts checking {@code backend}; the first check runs at once. */
    public void watch(BackendRuntime backend, Settings settings) {
        watch(backend, () -> settings);
    }

    /**
     * Starts checking {@code backend} with the settings {@code settings} gives at each check (they follow changes of
     * the pool); the first check runs at once. Watching a backend twice changes nothing.
     */
    public synchronized void watch(BackendRuntime backend, Supplier<Settings> settings) {
        if (!active.add(backend)) {
            return;
        }
        if (!started) {
            pending.put(backend, settings);
            return;
        }
        schedule(backend, settings);
    }

    /** Begins the checks of the backends watched so far, and of every later one at once. */
    public synchronized void start() {
        started = true;
        pending.forEach((backend, settings) -> {
            if (active.contains(backend)) {
                schedule(backend, settings);
            }
        });
        pending.clear();
    }

    private void schedule(BackendRuntime backend, Supplier<Settings> settings) {
        EventLoop loop = (EventLoop) transport.workerGroup().next();
        watched.put(backend, loop.schedule(() -> run(backend, settings, loop), 0, TimeUnit.MILLISECONDS));
    }

    /** Stops checking {@code backend} (it left its pool, or its pool's checks were turned off). */
    public synchronized void unwatch(BackendRuntime backend) {
        active.remove(backend);
        pending.remove(backend);
        ScheduledFuture<?> f = watched.remove(backend);
        if (f != null) {
            f.cancel(false);
        }
    }

    /** Whether {@code backend} is being checked. */
    public boolean watches(BackendRuntime backend) {
        return active.contains(backend);
    }

    private void run(BackendRuntime backend, Supplier<Settings> supplier, EventLoop loop) {
        if (closed || !active.contains(backend)) {
            return;
        }
        Settings settings = supplier.get();
        check(backend, settings, loop).addListener(f -> {
            if (f.isSuccess()) {
                record(backend, true, settings, null);
            } else {
                CheckFailure failure = f.cause() instanceof CheckFailure c
                        ? c
                        : new CheckFailure(CheckFailure.Reason.PROTOCOL, String.valueOf(f.cause()));
                metrics.backendCheckFailed(
                        backend.pool(), backend.id(), failure.reason().label());
                log.debug("health check of {} failed: {}", backend, failure.getMessage());
                record(backend, false, settings, failure.getMessage());
            }
            if (!closed && active.contains(backend)) {
                watched.put(
                        backend,
                        loop.schedule(
                                () -> run(backend, supplier, loop),
                                settings.interval().toMillis(),
                                TimeUnit.MILLISECONDS));
            }
        });
    }

    /** A passive observation from live traffic (a refused connection, a dialogue that broke). */
    public void passive(BackendRuntime backend, boolean ok, Settings settings, String why) {
        record(backend, ok, settings, why == null ? null : "live traffic: " + why);
    }

    private void record(BackendRuntime backend, boolean ok, Settings settings, String why) {
        if (!ok) {
            backend.failed(why, clock.instant());
        }
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

    /** One check by the settings' mode. Completes on {@code loop}. */
    Future<Void> check(BackendRuntime backend, Settings settings, EventLoop loop) {
        HealthCheckConfig.Mode mode = settings.mode();
        if (mode == HealthCheckConfig.Mode.LOGIN && !HealthCheckConfig.LOGIN_PROTOCOLS.contains(settings.protocol())) {
            if (warned.add(backend.pool())) {
                log.warn(
                        "pool {}: a login check cannot speak {}; checking greetings instead (set"
                                + " health-check.protocol)",
                        backend.pool(),
                        settings.protocol().configName());
            }
            mode = HealthCheckConfig.Mode.GREETING;
        }
        HealthCheck.Target target = new HealthCheck.Target(
                backend.pool(), backend.config(), settings.protocol(), settings.timeout(), settings.login());
        return checks.apply(mode).run(target, loop);
    }

    @Override
    public void close() {
        closed = true;
        active.clear();
        watched.values().forEach(f -> f.cancel(false));
        watched.clear();
    }
}
