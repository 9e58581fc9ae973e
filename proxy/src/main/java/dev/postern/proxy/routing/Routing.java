package dev.postern.proxy.routing;

import dev.postern.config.Backend;
import dev.postern.config.HealthCheckConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Pool;
import dev.postern.config.Protocol;
import dev.postern.config.RouteStore;
import dev.postern.config.Routes;
import dev.postern.config.RoutingTable;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's view of the {@link RouteStore}: every new table is applied at once to new sessions (live ones keep
 * the backend they have), backends keep their live state (sessions, health) across revisions, health checks follow
 * the pools, and a drain with a deadline ends the remaining sessions of a backend spread over a window.
 */
public final class Routing {
    private static final Logger log = LoggerFactory.getLogger(Routing.class);

    /** Remaining sessions of a drained backend are closed over at most this long, not all at once. */
    static final Duration DRAIN_SPREAD = Duration.ofSeconds(30);

    /**
     * Where a login goes.
     *
     * @param pool the pool
     * @param rule which rule chose it: {@code auth}, {@code user}, {@code domain}, {@code listener}, {@code default}
     * @param key what the rule matched (the user, the domain pattern, the listener's name, ...)
     */
    public record Decision(PoolRuntime pool, String rule, String key) {}

    private final HealthChecker checker;
    private final Function<Pool, Protocol> checkProtocol;
    private final SessionRegistry sessions;
    private final EventExecutor scheduler;
    private final Map<String, ScheduledFuture<?>> drains = new ConcurrentHashMap<>();
    private volatile RoutingTable table;
    private volatile Map<String, PoolRuntime> pools = Map.of();

    private Routing(
            HealthChecker checker,
            Function<Pool, Protocol> checkProtocol,
            SessionRegistry sessions,
            EventExecutor scheduler) {
        this.checker = checker;
        this.checkProtocol = checkProtocol;
        this.sessions = sessions;
        this.scheduler = scheduler;
    }

    /** Fixed pools with no store behind them (tests and tools). */
    public static Routing fixed(Map<String, PoolRuntime> pools) {
        Routing r = new Routing(null, p -> Protocol.TCP, null, null);
        r.pools = Map.copyOf(pools);
        List<Pool> configs = new ArrayList<>();
        pools.values().forEach(p -> configs.add(p.config()));
        r.table = new RoutingTable(0, configs, Routes.NONE);
        return r;
    }

    /**
     * Follows {@code store}: applies its current table now and every later one as it is published.
     *
     * @param checker runs the active health checks (null: none)
     * @param checkProtocol the protocol a pool's health check speaks when its configuration names none
     * @param sessions the live sessions (drain deadlines close some)
     * @param scheduler where drain deadlines wait
     */
    public static Routing follow(
            RouteStore store,
            HealthChecker checker,
            Function<Pool, Protocol> checkProtocol,
            SessionRegistry sessions,
            EventExecutor scheduler) {
        Routing r = new Routing(checker, checkProtocol, sessions, scheduler);
        r.apply(store.current());
        store.subscribe(r::apply);
        return r;
    }

    /** The pools of the table in force, by name. */
    public Map<String, PoolRuntime> pools() {
        return pools;
    }

    /** The table in force. */
    public RoutingTable table() {
        return table;
    }

    /** Every backend of every pool, with its live state. */
    public Collection<BackendRuntime> backends() {
        List<BackendRuntime> all = new ArrayList<>();
        pools.values().forEach(p -> all.addAll(p.backends()));
        return all;
    }

    /**
     * The pool for a login of {@code user} on {@code listener}. Most specific first: the pool an auth answer named,
     * an exact user route, a domain route, the listener's pool, the default pool; a pool that has no port for the
     * listener's protocol is passed over.
     */
    public Optional<Decision> resolve(String user, ListenerConfig listener, String authPool) {
        Map<String, PoolRuntime> current = pools;
        Protocol protocol = listener.protocol();
        if (authPool != null) {
            PoolRuntime p = current.get(authPool);
            if (p != null && p.serves(protocol)) {
                return Optional.of(new Decision(p, "auth", authPool));
            }
            log.warn(
                    "auth answer names pool '{}', which {}",
                    authPool,
                    p == null
                            ? "does not exist"
                            : "has no " + protocol.configName() + " port; routing by the rules instead");
        }
        RoutingTable t = table;
        if (user != null) {
            Optional<Routes.Match> match = t.routes().match(user);
            if (match.isPresent()) {
                PoolRuntime p = pinned(t, current.get(match.get().pool()), match.get());
                if (p != null && p.serves(protocol)) {
                    return Optional.of(
                            new Decision(p, match.get().kind(), match.get().key()));
                }
            }
        }
        if (listener.pool().isPresent()) {
            PoolRuntime p = current.get(listener.pool().get());
            if (p != null) {
                return Optional.of(new Decision(p, "listener", listener.name()));
            }
        }
        return t.routes()
                .defaultPool()
                .map(current::get)
                .filter(p -> p.serves(protocol))
                .map(p -> new Decision(p, "default", p.name()));
    }

    /** The same resolution for route explain, without a listener: only routes and the default pool count. */
    public Optional<Decision> resolve(String user, Optional<Protocol> protocol) {
        Map<String, PoolRuntime> current = pools;
        RoutingTable t = table;
        Optional<Routes.Match> match = t.routes().match(user);
        if (match.isPresent()) {
            PoolRuntime p = pinned(t, current.get(match.get().pool()), match.get());
            if (p != null && protocol.map(p::serves).orElse(true)) {
                return Optional.of(
                        new Decision(p, match.get().kind(), match.get().key()));
            }
        }
        return table.routes()
                .defaultPool()
                .map(current::get)
                .filter(p -> protocol.map(p::serves).orElse(true))
                .map(p -> new Decision(p, "default", p.name()));
    }

    /** {@code pool}, or only the backend a user route pins its user to (a moved mailbox). */
    private static PoolRuntime pinned(RoutingTable t, PoolRuntime pool, Routes.Match match) {
        if (pool == null || !match.kind().equals("user")) {
            return pool;
        }
        Optional<String> pin = t.routes().pin(match.key());
        if (pin.isEmpty()) {
            return pool;
        }
        PoolRuntime one = pool.pinned(pin.get());
        return one == null ? pool : one;
    }

    private synchronized void apply(RoutingTable next) {
        Map<String, PoolRuntime> before = pools;
        Map<String, BackendRuntime> known = new HashMap<>();
        before.values().forEach(p -> p.backends().forEach(b -> known.put(key(p.name(), b.id()), b)));
        Map<String, PoolRuntime> after = new LinkedHashMap<>();
        for (Pool pool : next.pools()) {
            PoolRuntime old = before.get(pool.name());
            List<BackendRuntime> backends = new ArrayList<>();
            for (Backend b : pool.backends()) {
                BackendRuntime rt = known.remove(key(pool.name(), b.id()));
                if (rt == null) {
                    rt = new BackendRuntime(pool.name(), b);
                } else {
                    rt.update(b);
                }
                backends.add(rt);
            }
            Balancer balancer = old != null && old.config().balancer() == pool.balancer()
                    ? old.balancer()
                    : Balancer.of(pool.balancer());
            after.put(pool.name(), new PoolRuntime(pool, backends, balancer));
        }
        pools = Map.copyOf(after);
        table = next;
        if (checker != null) {
            known.values().forEach(checker::unwatch); // backends that left their pool
            after.values().forEach(this::followChecks);
        }
        // a pending drain ends when its backend stops draining or goes away
        drains.forEach((k, f) -> {
            BackendRuntime b = findBackend(after, k);
            if (b == null || b.config().state() != Backend.State.DRAINING) {
                f.cancel(false);
                drains.remove(k);
                log.info("drain deadline of {} cancelled: it is no longer draining", k);
            }
        });
        if (before.size() > 0 || next.revision() > 0) {
            log.info(
                    "routing revision {}: {} pools, {} backends",
                    next.revision(),
                    after.size(),
                    backends().size());
        }
    }

    /**
     * Checks a pool's backends when its checks are on (each check reads the pool's settings in force then, so a
     * changed mode or probe user applies from the next check); when they were turned off, stops them and counts the
     * backends healthy, since nothing else would bring them back.
     */
    private void followChecks(PoolRuntime pool) {
        for (BackendRuntime b : pool.backends()) {
            if (pool.config().healthCheck().enabled()) {
                HealthChecker.Settings initial = settings(pool);
                checker.watch(b, () -> {
                    PoolRuntime now = pools.get(b.pool());
                    return now == null ? initial : settings(now);
                });
            } else if (checker.watches(b)) {
                checker.unwatch(b);
                if (!b.healthy()) {
                    b.healthy(true);
                    log.info("backend {}: health checks turned off; it takes sessions again", b);
                }
            }
        }
    }

    private static BackendRuntime findBackend(Map<String, PoolRuntime> pools, String key) {
        int slash = key.indexOf('/');
        PoolRuntime p = pools.get(key.substring(0, slash));
        if (p == null) {
            return null;
        }
        String id = key.substring(slash + 1);
        return p.backends().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
    }

    private static String key(String pool, String backend) {
        return pool + "/" + backend;
    }

    /** The health-check settings of {@code pool}. */
    public HealthChecker.Settings settings(PoolRuntime pool) {
        var h = pool.config().healthCheck();
        Protocol protocol = h.protocol().orElseGet(() -> checkProtocol.apply(pool.config()));
        return new HealthChecker.Settings(protocol, h.interval(), h.timeout(), h.rise(), h.fall(), h.mode(), h.login());
    }

    /**
     * A passive observation from live traffic: a refused connection, a dialogue that broke, a good login. Counted only
     * where active checks run: they are what brings a backend back once it is taken out.
     */
    public void passive(BackendRuntime backend, boolean ok, String why) {
        PoolRuntime p = pools.get(backend.pool());
        if (checker == null || p == null || !p.config().healthCheck().enabled()) {
            return;
        }
        if (ok && p.config().healthCheck().mode() == HealthCheckConfig.Mode.LOGIN) {
            // the probe's login is the judge: a client's refused login "answered" too, and would otherwise reset the
            // failures of a backend that refuses every login (a wrong master password) as fast as traffic comes in
            return;
        }
        checker.passive(backend, ok, settings(p), why);
    }

    /**
     * A backend was set to draining: no new sessions go there (the table says so already). With a deadline, the
     * sessions still open then are closed, spread over up to {@link #DRAIN_SPREAD} so their clients reconnect (to
     * other backends) gradually, not as a herd.
     */
    public void drain(String pool, String backend, Optional<Instant> deadline) {
        String k = key(pool, backend);
        ScheduledFuture<?> previous = drains.remove(k);
        if (previous != null) {
            previous.cancel(false);
        }
        if (deadline.isEmpty() || scheduler == null) {
            return;
        }
        long delay = Math.max(0, Duration.between(Instant.now(), deadline.get()).toMillis());
        log.info("backend {} draining: sessions still open in {} s will be closed", k, delay / 1000);
        drains.put(k, scheduler.schedule(() -> closeDrained(k, pool, backend), delay, TimeUnit.MILLISECONDS));
    }

    private void closeDrained(String k, String pool, String backend) {
        drains.remove(k);
        List<Session> remaining =
                sessions.find(s -> pool.equals(s.pool()) && backend.equals(s.backendId()) && !s.isClosing());
        if (remaining.isEmpty()) {
            log.info("backend {} drained: no sessions left at the deadline", k);
            return;
        }
        long step = Math.min(DRAIN_SPREAD.toMillis() / remaining.size(), 1000);
        log.info(
                "backend {} drain deadline: closing {} sessions over {} ms",
                k,
                remaining.size(),
                step * (remaining.size() - 1));
        for (int i = 0; i < remaining.size(); i++) {
            Session s = remaining.get(i);
            s.client()
                    .eventLoop()
                    .schedule(() -> s.close(CloseReason.ADMIN, "drain deadline"), i * step, TimeUnit.MILLISECONDS);
        }
    }
}
