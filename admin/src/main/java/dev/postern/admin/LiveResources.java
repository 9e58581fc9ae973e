package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy knows and the store does not: live sessions (list, kill), the auth cache (flush), certificates
 * (list, reload) and the configuration in force. In a cluster, the actions reach every node unless {@code
 * scope=local} says this node only, and the session list is this node's unless {@code scope=cluster} asks for every
 * node's (see {@link ClusterResources}).
 */
final class LiveResources {
    private static final Logger log = LoggerFactory.getLogger(LiveResources.class);

    static final String SESSIONS = AdminServer.API + "/sessions";
    static final String AUTH_CACHE = AdminServer.API + "/auth-cache";
    static final String TLS = AdminServer.API + "/tls";
    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_LIMIT = 100_000;

    private final ProxyControl proxy;
    private final ClusterResources cluster;
    private final Clock clock;

    LiveResources(ProxyControl proxy, ClusterResources cluster, Clock clock) {
        this.proxy = proxy;
        this.cluster = cluster;
        this.clock = clock;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, SESSIONS, this::sessions);
        router.add(HttpMethod.DELETE, SESSIONS, this::killUserSessions);
        router.add(HttpMethod.DELETE, SESSIONS + "/{id}", this::killSession);
        router.add(HttpMethod.DELETE, AUTH_CACHE, r -> flush(r, Optional.empty()));
        router.add(HttpMethod.DELETE, AUTH_CACHE + "/{user}", r -> flush(r, Optional.of(r.param("user"))));
        router.add(HttpMethod.GET, TLS + "/certificates", this::certificates);
        router.add(HttpMethod.POST, TLS + "/reload", this::reloadTls);
        router.add(HttpMethod.GET, AdminServer.API + "/config", r -> ApiResponse.ok(proxy.effectiveConfig()));
    }

    private ApiResponse sessions(ApiRequest request) throws ApiException {
        SessionFilter filter = new SessionFilter(
                request.query("user"),
                request.query("pool"),
                request.query("backend"),
                RouteResources.protocol(request),
                request.query("listener"));
        int limit = limit(request);
        Optional<ClusterControl> asked = cluster.scope(request, false);
        ObjectNode root = Json.MAPPER.createObjectNode();
        List<SessionView> sessions;
        int count;
        ClusterReport<SessionPage> report = null;
        if (asked.isEmpty()) {
            sessions = proxy.sessions(filter);
            count = sessions.size();
        } else {
            report = asked.get().sessions(filter, limit);
            sessions = new ArrayList<>();
            count = 0;
            for (SessionPage page : report.answers().values()) {
                sessions.addAll(page.sessions());
                count += page.count();
            }
            sessions.sort(Comparator.comparing(SessionView::started).thenComparing(SessionView::id));
        }
        List<SessionView> shown = sessions.subList(0, Math.min(limit, sessions.size()));
        root.put("count", count);
        root.put("truncated", count > shown.size());
        cluster.putOrigin(root, asked);
        if (report != null) {
            ClusterResources.putReport(root, report, (n, page) -> n.put("count", page.count()));
        }
        ArrayNode list = root.putArray("sessions");
        long now = clock.millis();
        for (SessionView s : shown) {
            ObjectNode n = list.addObject();
            n.put("id", s.id());
            RouteResources.putOptional(n, "node", s.node());
            n.put("listener", s.listener());
            n.put("protocol", s.protocol().configName());
            n.put("client", s.client());
            RouteResources.putOptional(n, "user", s.user());
            RouteResources.putOptional(n, "pool", s.pool());
            RouteResources.putOptional(n, "backend", s.backend());
            RouteResources.putOptional(n, "tls", s.tls());
            n.put("started", s.started().toString());
            n.put("age-seconds", Math.max(0, (now - s.started().toEpochMilli()) / 1000));
            n.put("bytes-in", s.bytesIn());
            n.put("bytes-out", s.bytesOut());
        }
        return ApiResponse.ok(root);
    }

    private static int limit(ApiRequest request) throws ApiException {
        Optional<String> text = request.query("limit");
        if (text.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(text.get());
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.invalidParameter("limit", "'" + text.get() + "' is not a number from 1 to " + MAX_LIMIT);
    }

    private ApiResponse killSession(ApiRequest request) throws ApiException {
        String id = request.param("id");
        Optional<ClusterControl> asked = cluster.scope(request, true);
        ObjectNode root = Json.MAPPER.createObjectNode();
        if (asked.isEmpty()) {
            if (!proxy.killSession(id)) {
                throw ApiException.notFound("no live session '" + id + "'");
            }
            root.put("killed", 1);
            cluster.putOrigin(root, asked);
            return ApiResponse.ok(root);
        }
        ClusterReport<Boolean> report = asked.get().killSession(id);
        Optional<String> on = report.answers().entrySet().stream()
                .filter(Map.Entry::getValue)
                .map(Map.Entry::getKey)
                .findFirst();
        if (on.isEmpty()) {
            switch (report.reach()) {
                case COMPLETE -> throw ApiException.notFound("no live session '" + id + "' on any node");
                case UNREACHABLE -> throw new ApiException(ClusterResources.withReport(
                        ClusterResources.unavailable("session '" + id + "' is not on this node, and the other nodes"
                                + " cannot be asked: " + report.detail().orElse("redis is down")),
                        report,
                        LiveResources::putKilled));
                case PARTIAL -> throw new ApiException(ClusterResources.withReport(
                        ClusterResources.unavailable("no node that answered has session '" + id + "', and "
                                + String.join(", ", report.missing()) + " did not answer within "
                                + asked.get().deadline().toMillis() + " ms"),
                        report,
                        LiveResources::putKilled));
            }
        }
        root.put("killed", 1);
        root.put("on", on.get());
        cluster.putOrigin(root, asked);
        ClusterResources.putReport(root, report, LiveResources::putKilled);
        return ApiResponse.ok(root);
    }

    private static void putKilled(ObjectNode n, Boolean killed) {
        n.put("killed", killed ? 1 : 0);
    }

    private ApiResponse killUserSessions(ApiRequest request) throws ApiException {
        String user = request.query("user")
                .orElseThrow(() -> ApiException.invalidParameter(
                        "user", "is required: this closes the sessions of one user (?user=alice@example.com)"));
        Optional<ClusterControl> asked = cluster.scope(request, true);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("user", user);
        if (asked.isEmpty()) {
            root.put("killed", proxy.killUserSessions(user));
            cluster.putOrigin(root, asked);
            return ApiResponse.ok(root);
        }
        ClusterReport<Integer> report = asked.get().killUserSessions(user);
        root.put(
                "killed",
                report.answers().values().stream().mapToInt(Integer::intValue).sum());
        cluster.putOrigin(root, asked);
        ClusterResources.putReport(root, report, (n, killed) -> n.put("killed", killed));
        return ApiResponse.ok(root);
    }

    private ApiResponse flush(ApiRequest request, Optional<String> user) throws ApiException {
        Optional<ClusterControl> asked = cluster.scope(request, true);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("invalidated", user.orElse("all"));
        if (asked.isEmpty()) {
            if (user.isPresent()) {
                proxy.invalidateAuth(user.get());
            } else {
                proxy.invalidateAllAuth();
            }
            cluster.putOrigin(root, asked);
            return ApiResponse.ok(root);
        }
        ClusterReport<Integer> report = asked.get().invalidateAuth(user);
        cluster.putOrigin(root, asked);
        ClusterResources.putReport(root, report, (n, entries) -> n.put("entries", entries));
        return ApiResponse.ok(root);
    }

    private ApiResponse certificates(ApiRequest request) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.set("certificates", certificates(proxy.certificates()));
        return ApiResponse.ok(root);
    }

    private ApiResponse reloadTls(ApiRequest request) throws ApiException {
        Optional<ClusterControl> asked = cluster.scope(request, true);
        if (asked.isEmpty()) {
            TlsReloadResult result = proxy.reloadTls();
            if (result instanceof TlsReloadResult.Failed failed) {
                log.warn("TLS reload through the admin API failed: {}", failed.reason());
                throw new ApiException(reloadFailed(failed.reason()));
            }
            ObjectNode root = Json.MAPPER.createObjectNode();
            root.put("reloaded", true);
            cluster.putOrigin(root, asked);
            root.set("certificates", certificates(((TlsReloadResult.Reloaded) result).certificates()));
            return ApiResponse.ok(root);
        }
        ClusterReport<TlsReloadResult> report = asked.get().reloadTls();
        List<String> failures = new ArrayList<>();
        report.answers().forEach((node, result) -> {
            if (result instanceof TlsReloadResult.Failed failed) {
                failures.add("node " + node + ": " + failed.reason());
            }
        });
        if (!failures.isEmpty()) {
            log.warn("TLS reload through the admin API failed: {}", String.join("; ", failures));
            throw new ApiException(
                    ClusterResources.withReport(reloadFailed(String.join("; ", failures)), report, this::putReload));
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("reloaded", true);
        cluster.putOrigin(root, asked);
        TlsReloadResult mine = report.answers().get(asked.get().nodeId());
        if (mine instanceof TlsReloadResult.Reloaded reloaded) {
            root.set("certificates", certificates(reloaded.certificates()));
        }
        ClusterResources.putReport(root, report, this::putReload);
        return ApiResponse.ok(root);
    }

    private static Problem reloadFailed(String detail) {
        return Problem.typed(
                HttpResponseStatus.UNPROCESSABLE_ENTITY,
                "tls-reload-failed",
                "The certificates could not be reloaded; the old ones stay in use",
                detail);
    }

    private void putReload(ObjectNode n, TlsReloadResult result) {
        if (result instanceof TlsReloadResult.Reloaded reloaded) {
            n.put("reloaded", true);
            n.set("certificates", certificates(reloaded.certificates()));
        } else if (result instanceof TlsReloadResult.Failed failed) {
            n.put("reloaded", false);
            n.put("reason", failed.reason());
        }
    }

    private ArrayNode certificates(List<CertificateView> certificates) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (CertificateView c : certificates) {
            ObjectNode n = list.addObject();
            n.put("name", c.name());
            n.put("subject", c.subject());
            ArrayNode dns = n.putArray("dns-names");
            c.dnsNames().forEach(dns::add);
            ArrayNode sni = n.putArray("sni-names");
            c.sniNames().forEach(sni::add);
            n.put("not-after", c.notAfter().toString());
            n.put(
                    "expires-in-days",
                    Duration.between(clock.instant(), c.notAfter()).toDays());
            n.put("default", c.isDefault());
            n.put("generated", c.generated());
        }
        return list;
    }
}
