package dev.postern.proxy;

import dev.postern.admin.AdminServer;
import dev.postern.admin.ConfigReloadResult;
import dev.postern.config.ListenerConfig;
import dev.postern.config.LocalRouteStore;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.config.ProxyProtocolConfig;
import dev.postern.config.RouteStore;
import dev.postern.config.TlsMode;
import dev.postern.proxy.auth.AuthControl;
import dev.postern.proxy.auth.AuthSetup;
import dev.postern.proxy.auth.SharedFailures;
import dev.postern.proxy.cluster.ClusterClient;
import dev.postern.proxy.control.ClusterCommands;
import dev.postern.proxy.control.NodeHolds;
import dev.postern.proxy.control.PosternControl;
import dev.postern.proxy.dns.DnsClient;
import dev.postern.proxy.hold.Holds;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.reload.LiveAuth;
import dev.postern.proxy.reload.LiveConfig;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.routing.BackendConnector;
import dev.postern.proxy.routing.HealthChecker;
import dev.postern.proxy.routing.Routing;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.smtp.edge.SharedPassedClients;
import dev.postern.proxy.tls.CertificateInfo;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.tls.TlsSetupException;
import dev.postern.proxy.transport.ListenerSlot;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.ChannelFuture;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running Postern: its listeners, event loops and shared services. Start with {@link #start}. */
public final class Postern implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Postern.class);

    private final LiveConfig config;
    private final Reloader reloader;
    private final Map<String, ListenerSlot> listeners;
    private final LiveAuth auth;
    private final RouteStore store;
    private final ClusterClient cluster;
    private final ClusterCommands commands;
    private final HealthChecker checker;
    private final AdminServer admin;
    private volatile boolean stopped;

    private Postern(
            LiveConfig config,
            Reloader reloader,
            Map<String, ListenerSlot> listeners,
            LiveAuth auth,
            RouteStore store,
            ClusterClient cluster,
            ClusterCommands commands,
            HealthChecker checker,
            AdminServer admin) {
        this.config = config;
        this.reloader = reloader;
        this.listeners = listeners;
        this.auth = auth;
        this.store = store;
        this.cluster = cluster;
        this.commands = commands;
        this.checker = checker;
        this.admin = admin;
    }

    /**
     * Builds everything and binds every listener; on any failure nothing is left running.
     *
     * @throws StartupException with one line naming the thing at fault
     */
    public static Postern start(PosternConfig config, Metrics metrics) throws StartupException {
        for (ListenerConfig l : config.listeners()) {
            if (l.protocol() != Protocol.TCP
                    && Frontends.forProtocol(l.protocol()).isEmpty()) {
                throw new StartupException("listener '" + l.name() + "': protocol "
                        + l.protocol().configName() + " is not supported by this build (use tcp)");
            }
        }
        LiveConfig live = new LiveConfig(config);
        LocalRouteStore local = Startup.openRouteStore(config, live);
        TlsManager tls = null;
        // backends reached over TLS need the client contexts even when every listener is plain
        boolean needsTls = config.listeners().stream().anyMatch(l -> l.tls() != TlsMode.NONE)
                || config.admin().tls()
                || local.current().pools().stream()
                        .flatMap(p -> p.backends().stream())
                        .anyMatch(b -> b.tls() != TlsMode.NONE);
        if (needsTls) {
            try {
                tls = TlsManager.create(config.tls(), config.timeouts().tlsHandshake());
                for (ListenerConfig l : config.listeners()) {
                    try {
                        tls.prepare(l.clientCertificates());
                    } catch (TlsSetupException e) {
                        throw new TlsSetupException(
                                "listener '" + l.name() + "': client-certificates: " + e.getMessage(), e);
                    }
                }
            } catch (TlsSetupException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
        Transport transport = Transport.create(config.transport(), 0);
        // cluster mode: the shared table in Redis, followed from here on; this node's own is the last one it saw
        ClusterClient cluster = config.cluster().isPresent()
                ? ClusterClient.start(config.cluster().get(), Startup.nodeId(config), transport, metrics)
                : null;
        RouteStore store = cluster == null ? local : Startup.sharedStore(config, live, cluster, local, metrics);
        // in a cluster, session ids start with the node's id: unique across the nodes, and they say where they are
        SessionRegistry sessions = new SessionRegistry(metrics, cluster == null ? null : cluster.nodeId());
        // the login check's dialogues need the services, which need the routing, which needs the checker
        AtomicReference<ProxyServices> servicesRef = new AtomicReference<>();
        HealthChecker checker = new HealthChecker(
                transport, metrics, (backend, up) -> {}, Startup.healthChecks(transport, tls, servicesRef::get));
        Routing routing = Routing.follow(
                store,
                checker,
                pool -> Startup.checkProtocol(live.get(), pool),
                sessions,
                transport.workerGroup().next());
        ProxyServices services = new ProxyServices(
                transport,
                tls,
                new BackendConnector(transport, metrics, routing::passive),
                routing,
                sessions,
                new BackendCapabilities(),
                metrics);
        servicesRef.set(services);
        checker.start();
        metrics.routeRevision(() -> store.current().revision());
        // held logins (mailbox moves) wait for a release, which may wait for the routing revision of the move
        Holds holds = new Holds(config.holds(), Clock.systemUTC(), metrics, () -> routing.table()
                .revision());
        store.subscribe(t -> holds.routingChanged(t.revision()));
        metrics.backends(routing::backends);
        if (tls != null) {
            metrics.certificates(tls::certificates);
        }

        AuthSetup auth;
        SharedFailures sharedThrottle = ClusterShares.throttle(config, cluster);
        try {
            auth = AuthSetup.create(
                    config.auth(), config.listeners(), routing.pools().keySet(), transport, metrics, sharedThrottle);
        } catch (AuthSetup.SetupException e) {
            checker.close();
            closeCluster(null, cluster);
            transport.close();
            throw new StartupException(e.getMessage(), e);
        }
        LiveAuth liveAuth = new LiveAuth(auth);
        Map<String, ListenerSlot> bound = new ConcurrentHashMap<>();
        // one resolver for the SMTP relay's DNS lists and SPF (it lives on an event loop of the transport)
        DnsClient dns = Startup.dnsClient(config, transport);
        SharedPassedClients passed = ClusterShares.passedClients(config, cluster, metrics);
        Reloader reloader = new Reloader(
                config.source().orElse(null),
                live,
                liveAuth,
                store,
                services,
                sharedThrottle,
                dns,
                passed,
                holds,
                bound);
        PosternControl control = new PosternControl(
                live,
                sessions,
                routing,
                reloader::tls,
                liveAuth,
                () -> bound.values().stream().allMatch(slot -> slot.channel().isActive()),
                reloader::reload);
        // a node answers the others' commands (kick, flush, reload, sessions) whether or not it has an admin API
        ClusterCommands commands = cluster == null
                ? null
                : ClusterCommands.start(
                        cluster,
                        sessions,
                        control,
                        liveAuth,
                        config.cluster().get().commandTimeout());
        NodeHolds nodeHolds = new NodeHolds(holds, commands);
        AdminServer admin;
        try {
            for (ListenerConfig l : config.listeners()) {
                // each listener asks its own chain of providers; the cache and the throttle are shared, and a
                // listener with throttle: off is left out of the throttle
                bound.put(
                        l.name(), Startup.bind(services, l, Reloader.loginFlow(services, auth, l, holds), dns, passed));
            }
            admin = Startup.startAdmin(
                    config,
                    store,
                    services,
                    (commands == null ? control : control.withCluster(commands)).withHolds(nodeHolds),
                    metrics);
        } catch (StartupException e) {
            bound.values().forEach(ListenerSlot::close);
            auth.close();
            checker.close();
            closeCluster(commands, cluster);
            transport.close();
            throw e;
        }
        log.info("transport: {}", transport.description());
        if (tls != null) {
            log.info("TLS: {}", tls.providerDescription());
        }
        log.info(
                "routing: revision {}, {} pools, {} backends{}",
                store.current().revision(),
                routing.pools().size(),
                routing.backends().size(),
                (cluster == null
                                ? ""
                                : " (shared in redis " + cluster.description() + ", node " + cluster.nodeId() + ")")
                        + (local.file() == null ? " (in memory)" : " (file " + local.file() + ")"));
        for (ListenerConfig l : config.listeners()) {
            log.info(
                    "listening: {} {} on {} tls={} pool={} auth={}{}{}",
                    l.name(),
                    l.protocol().configName(),
                    format(bound.get(l.name()).address()),
                    l.tls().configName(),
                    l.pool().orElse("-"),
                    l.protocol() == Protocol.TCP ? "-" : String.join(",", l.auth()),
                    l.proxyProtocol().mode() == ProxyProtocolConfig.Mode.OFF
                            ? ""
                            : " proxy-protocol=" + l.proxyProtocol().mode().configName() + " from "
                                    + l.proxyProtocol().trusted(),
                    l.tls() == TlsMode.NONE || tls == null ? "" : " certificates=" + subjects(tls.certificates()));
        }
        if (admin != null) {
            log.info(
                    "admin API on {}{}", format(admin.address()), config.admin().tls() ? " (TLS)" : "");
        }
        return new Postern(live, reloader, bound, liveAuth, store, cluster, commands, checker, admin);
    }

    private static void closeCluster(ClusterCommands commands, ClusterClient cluster) {
        if (commands != null) {
            commands.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String subjects(List<CertificateInfo> certs) {
        return certs.stream().map(CertificateInfo::subject).collect(Collectors.joining("; ", "[", "]"));
    }

    private static String format(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** The configuration in force (the last one a reload put in force, else the one it started with). */
    public PosternConfig config() {
        return config.get();
    }

    /** The services new sessions get. */
    public ProxyServices services() {
        return reloader.services();
    }

    /**
     * Re-reads the configuration file and puts it in force for new sessions ({@code SIGHUP}, {@code POST
     * /config/reload}); a file with problems changes nothing. Never on an event loop.
     */
    public ConfigReloadResult reload() {
        return reloader.reload();
    }

    /** Authentication: flush cached logins, read the counts (the admin API's handle). */
    public AuthControl auth() {
        return auth;
    }

    /** The authentication new sessions get: its providers (tests), cache and throttle. */
    public AuthSetup authSetup() {
        return auth.get();
    }

    /** The route store (the admin API writes it; tests read it). */
    public RouteStore routeStore() {
        return store;
    }

    /** The admin API's address, if it runs. */
    public Optional<InetSocketAddress> adminAddress() {
        return Optional.ofNullable(admin).map(AdminServer::address);
    }

    /** The address a listener is bound to (useful when its port was chosen by the system). */
    public InetSocketAddress address(String listener) {
        ListenerSlot slot = listeners.get(listener);
        if (slot == null) {
            throw new IllegalArgumentException("no listener " + listener);
        }
        return slot.address();
    }

    /**
     * Graceful stop: stop accepting, let live sessions finish for up to {@code grace}, then close the rest and stop
     * the event loops.
     */
    public void stop(Duration grace) {
        if (stopped) {
            return;
        }
        stopped = true;
        List<ChannelFuture> closing = new ArrayList<>();
        listeners.values().forEach(slot -> closing.add(slot.close()));
        if (admin != null) {
            admin.close();
        }
        checker.close();
        closing.forEach(ChannelFuture::awaitUninterruptibly);
        SessionRegistry sessions = services().sessions();
        int live = sessions.size();
        if (live > 0) {
            log.info("shutting down: stopped accepting; waiting up to {}s for {} sessions", grace.toSeconds(), live);
            try {
                sessions.whenEmpty().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                log.info("shutting down: closing {} sessions still open", sessions.size());
                sessions.closeAll(CloseReason.SHUTDOWN);
                try {
                    sessions.whenEmpty().get(5, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException e2) {
                    log.warn("shutting down: {} sessions did not close", sessions.size());
                } catch (InterruptedException e2) {
                    Thread.currentThread().interrupt();
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        auth.close();
        // the Redis connections run on the transport's event loops: they go first
        closeCluster(commands, cluster);
        services().transport().shutdown(Duration.ZERO, Duration.ofSeconds(5));
        log.info("stopped");
    }

    @Override
    public void close() {
        stop(Duration.ZERO);
    }
}
