package dev.postern.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy knows and the store does not: live sessions (list, kill), the auth cache (flush), certificates
 * (list, reload) and the configuration in force.
 */
final class LiveResources {
    private static final Logger log = LoggerFactory.getLogger(LiveResources.class);

    static final String SESSIONS = AdminServer.API + "/sessions";
    static final String AUTH_CACHE = AdminServer.API + "/auth-cache";
    static final String TLS = AdminServer.API + "/tls";
    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_LIMIT = 100_000;

    private final ProxyControl proxy;
    private final Clock clock;

    LiveResources(ProxyControl proxy, Clock clock) {
        this.proxy = proxy;
        this.clock = clock;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, SESSIONS, this::sessions);
        router.add(HttpMethod.DELETE, SESSIONS, this::killUserSessions);
        router.add(HttpMethod.DELETE, SESSIONS + "/{id}", this::killSession);
        router.add(HttpMethod.DELETE, AUTH_CACHE, this::flushAll);
        router.add(HttpMethod.DELETE, AUTH_CACHE + "/{user}", this::flushUser);
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
        List<SessionView> sessions = proxy.sessions(filter);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("count", sessions.size());
        root.put("truncated", sessions.size() > limit);
        ArrayNode list = root.putArray("sessions");
        long now = clock.millis();
        for (SessionView s : sessions.subList(0, Math.min(limit, sessions.size()))) {
            ObjectNode n = list.addObject();
            n.put("id", s.id());
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
        if (!proxy.killSession(id)) {
            throw ApiException.notFound("no live session '" + id + "'");
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("killed", 1);
        return ApiResponse.ok(root);
    }

    private ApiResponse killUserSessions(ApiRequest request) throws ApiException {
        String user = request.query("user")
                .orElseThrow(() -> ApiException.invalidParameter(
                        "user", "is required: this closes the sessions of one user (?user=alice@example.com)"));
        int killed = proxy.killUserSessions(user);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("user", user);
        root.put("killed", killed);
        return ApiResponse.ok(root);
    }

    private ApiResponse flushAll(ApiRequest request) {
        proxy.invalidateAllAuth();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("invalidated", "all");
        return ApiResponse.ok(root);
    }

    private ApiResponse flushUser(ApiRequest request) {
        String user = request.param("user");
        proxy.invalidateAuth(user);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("invalidated", user);
        return ApiResponse.ok(root);
    }

    private ApiResponse certificates(ApiRequest request) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.set("certificates", certificates(proxy.certificates()));
        return ApiResponse.ok(root);
    }

    private ApiResponse reloadTls(ApiRequest request) throws ApiException {
        TlsReloadResult result = proxy.reloadTls();
        if (result instanceof TlsReloadResult.Failed failed) {
            log.warn("TLS reload through the admin API failed: {}", failed.reason());
            throw new ApiException(Problem.typed(
                    HttpResponseStatus.UNPROCESSABLE_ENTITY,
                    "tls-reload-failed",
                    "The certificates could not be reloaded; the old ones stay in use",
                    failed.reason()));
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("reloaded", true);
        root.set("certificates", certificates(((TlsReloadResult.Reloaded) result).certificates()));
        return ApiResponse.ok(root);
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
