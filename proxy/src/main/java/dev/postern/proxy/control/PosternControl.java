package dev.postern.proxy.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.admin.BackendStatus;
import dev.postern.admin.CertificateView;
import dev.postern.admin.ClusterControl;
import dev.postern.admin.ConfigReloadResult;
import dev.postern.admin.Explanation;
import dev.postern.admin.HoldControl;
import dev.postern.admin.ProxyControl;
import dev.postern.admin.Readiness;
import dev.postern.admin.SessionFilter;
import dev.postern.admin.SessionView;
import dev.postern.admin.TlsReloadResult;
import dev.postern.config.ConfigJson;
import dev.postern.config.ListenerConfig;
import dev.postern.config.PosternConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.auth.AuthControl;
import dev.postern.proxy.routing.BackendRuntime;
import dev.postern.proxy.routing.PoolRuntime;
import dev.postern.proxy.routing.Routing;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.tls.CertificateInfo;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.tls.TlsSetupException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running proxy as the admin API sees it: live sessions, caches, certificates, routing state. */
public final class PosternControl implements ProxyControl {
    private static final Logger log = LoggerFactory.getLogger(PosternControl.class);

    private final Supplier<PosternConfig> config;
    private final SessionRegistry sessions;
    private final Routing routing;
    private final Supplier<TlsManager> tls;
    private final AuthControl auth;
    private final BooleanSupplier listenersBound;
    private final Supplier<ConfigReloadResult> reload;
    private final Optional<ClusterControl> cluster;
    private final Optional<HoldControl> holds;

    /**
     * @param config the configuration in force (a reload changes it)
     * @param tls the certificates, or null when none are loaded (a reload may load them)
     * @param reload re-reads the configuration file and puts it in force
     */
    public PosternControl(
            Supplier<PosternConfig> config,
            SessionRegistry sessions,
            Routing routing,
            Supplier<TlsManager> tls,
            AuthControl auth,
            BooleanSupplier listenersBound,
            Supplier<ConfigReloadResult> reload) {
        this(config, sessions, routing, tls, auth, listenersBound, reload, Optional.empty(), Optional.empty());
    }

    private PosternControl(
            Supplier<PosternConfig> config,
            SessionRegistry sessions,
            Routing routing,
            Supplier<TlsManager> tls,
            AuthControl auth,
            BooleanSupplier listenersBound,
            Supplier<ConfigReloadResult> reload,
            Optional<ClusterControl> cluster,
            Optional<HoldControl> holds) {
        this.reload = reload;
        this.config = config;
        this.sessions = sessions;
        this.routing = routing;
        this.tls = tls;
        this.auth = auth;
        this.listenersBound = listenersBound;
        this.cluster = cluster;
        this.holds = holds;
    }

    /**
     * This node's control with the cluster's commands beside it: the admin API then reaches every node. The commands
     * are built over the control without them (this one), which only ever acts on this node.
     */
    public PosternControl withCluster(ClusterControl commands) {
        return new PosternControl(
                config, sessions, routing, tls, auth, listenersBound, reload, Optional.of(commands), holds);
    }

    /** This control with the holds of logins (mailbox moves) beside it. */
    public PosternControl withHolds(HoldControl control) {
        return new PosternControl(
                config, sessions, routing, tls, auth, listenersBound, reload, cluster, Optional.of(control));
    }

    @Override
    public Optional<ClusterControl> cluster() {
        return cluster;
    }

    @Override
    public Optional<HoldControl> holds() {
        return holds;
    }

    @Override
    public List<SessionView> sessions(SessionFilter filter) {
        List<SessionView> views = new ArrayList<>();
        for (Session s : sessions.sessions()) {
            SessionView v = view(s);
            if (filter.test(v)) {
                views.add(v);
            }
        }
        views.sort(Comparator.comparing(SessionView::started).thenComparing(SessionView::id));
        return views;
    }

    private SessionView view(Session s) {
        InetSocketAddress a = s.clientAddress();
        String client = a == null ? "-" : a.getAddress().getHostAddress() + ":" + a.getPort();
        return new SessionView(
                s.id(),
                s.listener().name(),
                s.protocol(),
                client,
                Optional.ofNullable(s.user()),
                Optional.ofNullable(s.pool()),
                Optional.ofNullable(s.backendId()),
                Optional.ofNullable(s.tlsProtocol()),
                Instant.ofEpochMilli(s.startMillis()),
                s.bytesFromClient(),
                s.bytesToClient(),
                sessions.nodeId());
    }

    @Override
    public boolean killSession(String id) {
        for (Session s : sessions.sessions()) {
            if (s.id().equals(id)) {
                s.client().eventLoop().execute(() -> s.close(CloseReason.ADMIN, "killed by the admin API"));
                return true;
            }
        }
        return false;
    }

    @Override
    public int killUserSessions(String user) {
        List<Session> found = sessions.find(s -> s.user() != null && s.user().equalsIgnoreCase(user));
        found.forEach(s -> s.client().eventLoop().execute(() -> s.close(CloseReason.ADMIN, "killed by the admin API")));
        return found.size();
    }

    @Override
    public void invalidateAuth(String user) {
        auth.invalidate(user);
    }

    @Override
    public void invalidateAllAuth() {
        auth.invalidateAll();
    }

    @Override
    public ConfigReloadResult reloadConfig() {
        return reload.get();
    }

    @Override
    public TlsReloadResult reloadTls() {
        TlsManager tls = this.tls.get();
        if (tls == null) {
            return new TlsReloadResult.Failed("no TLS is configured");
        }
        try {
            tls.reload();
            log.info("TLS certificates reloaded through the admin API");
            return new TlsReloadResult.Reloaded(certificates());
        } catch (TlsSetupException e) {
            log.warn("TLS reload through the admin API failed, keeping the current certificates: {}", e.getMessage());
            return new TlsReloadResult.Failed(e.getMessage());
        }
    }

    @Override
    public List<CertificateView> certificates() {
        TlsManager tls = this.tls.get();
        if (tls == null) {
            return List.of();
        }
        List<CertificateView> views = new ArrayList<>();
        for (CertificateInfo c : tls.certificates()) {
            views.add(new CertificateView(
                    c.name(), c.subject(), c.dnsNames(), c.notAfter(), c.sniNames(), c.isDefault(), c.generated()));
        }
        return views;
    }

    @Override
    public JsonNode effectiveConfig() {
        return ConfigJson.toTree(config.get());
    }

    @Override
    public Readiness readiness() {
        // the pools in use: those the listeners name (tcp listeners and listener defaults)
        Map<String, Integer> healthy = new LinkedHashMap<>();
        for (ListenerConfig l : config.get().listeners()) {
            l.pool().ifPresent(name -> {
                PoolRuntime p = routing.pools().get(name);
                healthy.put(
                        name,
                        p == null
                                ? 0
                                : (int) p.backends().stream()
                                        .filter(BackendRuntime::available)
                                        .count());
            });
        }
        return new Readiness(listenersBound.getAsBoolean(), healthy);
    }

    @Override
    public Optional<BackendStatus> backendStatus(String pool, String backend) {
        PoolRuntime p = routing.pools().get(pool);
        if (p == null) {
            return Optional.empty();
        }
        return p.backends().stream()
                .filter(b -> b.id().equals(backend))
                .findFirst()
                .map(b -> new BackendStatus(
                        b.healthy(),
                        b.sessions(),
                        b.lastFailure().map(BackendRuntime.Failure::reason),
                        b.lastFailure().map(BackendRuntime.Failure::at)));
    }

    @Override
    public Explanation explain(String user, Optional<Protocol> protocol) {
        Optional<Routing.Decision> decision = Optional.empty();
        if (protocol.isPresent()) {
            // as a login on the first listener of that protocol would resolve (routes, its pool, the default)
            for (ListenerConfig l : config.get().listeners()) {
                if (l.protocol() == protocol.get()) {
                    decision = routing.resolve(user, l, null);
                    break;
                }
            }
        }
        if (decision.isEmpty()) {
            decision = routing.resolve(user, protocol);
        }
        if (decision.isEmpty()) {
            return new Explanation(user, Optional.empty(), Optional.empty(), Optional.empty(), List.of());
        }
        PoolRuntime pool = decision.get().pool();
        List<Explanation.Candidate> candidates = new ArrayList<>();
        List<BackendRuntime> order = pool.peek(user);
        for (BackendRuntime b : order) {
            candidates.add(new Explanation.Candidate(b.id(), true, reason(b)));
        }
        for (BackendRuntime b : pool.backends()) {
            if (!order.contains(b)) {
                candidates.add(new Explanation.Candidate(b.id(), false, reason(b)));
            }
        }
        return new Explanation(
                user,
                Optional.of(decision.get().rule()),
                Optional.of(decision.get().key()),
                Optional.of(pool.name()),
                candidates);
    }

    private static String reason(BackendRuntime b) {
        var c = b.config();
        if (c.state() != dev.postern.config.Backend.State.ACTIVE) {
            return c.state().configName();
        }
        if (!b.healthy()) {
            return "unhealthy";
        }
        if (c.maxSessions() > 0 && b.sessions() >= c.maxSessions()) {
            return "full (" + b.sessions() + " sessions)";
        }
        return "active, healthy, " + b.sessions() + " sessions, weight " + c.weight();
    }

    @Override
    public void drain(String pool, String backend, Optional<Instant> deadline) {
        routing.drain(pool, backend, deadline);
    }
}
