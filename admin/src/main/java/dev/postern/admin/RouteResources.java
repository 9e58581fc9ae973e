package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.postern.config.ConfigException;
import dev.postern.config.Pool;
import dev.postern.config.Protocol;
import dev.postern.config.Routes;
import dev.postern.config.RoutingJson;
import dev.postern.config.RoutingTable;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /api/v1/routes}: which pool users go to. The whole set ({@code users}, {@code domains}, {@code default}),
 * one user or domain route at a time, the default pool, and {@code explain}: where a user's login would go now.
 */
final class RouteResources {
    static final String ROUTES = AdminServer.API + "/routes";
    private static final List<String> ROUTE_KEYS = List.of("pool");

    /** A kind of single route: user or domain. */
    private enum Kind {
        USER("user", "users"),
        DOMAIN("domain", "domains");

        final String parameter;
        final String collection;

        Kind(String parameter, String collection) {
            this.parameter = parameter;
            this.collection = collection;
        }

        Map<String, String> of(Routes routes) {
            return this == USER ? routes.users() : routes.domains();
        }

        Optional<String> keyProblem(String key) {
            return this == USER ? RoutingJson.userKeyProblem(key) : RoutingJson.domainKeyProblem(key);
        }

        Routes with(Routes routes, Map<String, String> map) {
            return this == USER ? routes.withUsers(map) : routes.withDomains(map);
        }
    }

    private final RoutingChanges changes;
    private final ProxyControl proxy;

    RouteResources(RoutingChanges changes, ProxyControl proxy) {
        this.changes = changes;
        this.proxy = proxy;
    }

    void register(Router router) {
        router.add(HttpMethod.GET, ROUTES, this::getAll);
        router.add(HttpMethod.PUT, ROUTES, this::replaceAll);
        for (Kind kind : Kind.values()) {
            String template = ROUTES + "/" + kind.collection + "/{" + kind.parameter + "}";
            router.add(HttpMethod.GET, template, r -> get(r, kind));
            router.add(HttpMethod.PUT, template, r -> put(r, kind));
            router.add(HttpMethod.DELETE, template, r -> delete(r, kind));
        }
        router.add(HttpMethod.GET, ROUTES + "/default", this::getDefault);
        router.add(HttpMethod.PUT, ROUTES + "/default", this::putDefault);
        router.add(HttpMethod.DELETE, ROUTES + "/default", this::deleteDefault);
        router.add(HttpMethod.GET, ROUTES + "/explain", this::explain);
    }

    private ApiResponse getAll(ApiRequest request) {
        RoutingTable table = changes.current();
        return ApiResponse.ok(RoutingJson.toTree(table.routes())).withRevision(table.revision());
    }

    private ApiResponse replaceAll(ApiRequest request) throws ApiException {
        JsonNode body = request.json();
        if (!body.isObject()) {
            throw ApiException.invalidBody(
                    "", "is not an object (expected {\"users\": {}, \"domains\": {}, \"default\": ...})");
        }
        Routes routes = readRoutes(body, poolNames(changes.current()));
        RoutingChanges.Applied applied =
                changes.apply(request.ifMatch(), t -> new RoutingTable(t.revision(), t.pools(), routes));
        return ApiResponse.ok(RoutingJson.toTree(applied.after().routes()))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse get(ApiRequest request, Kind kind) throws ApiException {
        String key = key(request, kind);
        RoutingTable table = changes.current();
        String pool = kind.of(table.routes()).get(key);
        if (pool == null) {
            throw ApiException.notFound("no " + kind.parameter + " route for '" + key + "'");
        }
        return ApiResponse.ok(route(kind, key, pool)).withRevision(table.revision());
    }

    private ApiResponse put(ApiRequest request, Kind kind) throws ApiException {
        String key = key(request, kind);
        String pool = Documents.requiredString(request.json(), "pool", ROUTE_KEYS);
        boolean[] created = new boolean[1];
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            requirePool(t, pool);
            Map<String, String> map = new LinkedHashMap<>(kind.of(t.routes()));
            created[0] = map.put(key, pool) == null;
            // a user route set whole drops the user's pin to a backend (a move sets one)
            Routes next =
                    kind == Kind.USER ? t.routes().withUser(key, pool, Optional.empty()) : kind.with(t.routes(), map);
            return new RoutingTable(t.revision(), t.pools(), next);
        });
        return ApiResponse.json(created[0] ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, route(kind, key, pool))
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse delete(ApiRequest request, Kind kind) throws ApiException {
        String key = key(request, kind);
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Map<String, String> map = new LinkedHashMap<>(kind.of(t.routes()));
            if (map.remove(key) == null) {
                throw RoutingChanges.abort(ApiException.notFound("no " + kind.parameter + " route for '" + key + "'"));
            }
            return new RoutingTable(t.revision(), t.pools(), kind.with(t.routes(), map));
        });
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", applied.after().revision());
        root.put("deleted", kind.parameter + " " + key);
        return ApiResponse.ok(root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse getDefault(ApiRequest request) throws ApiException {
        RoutingTable table = changes.current();
        String pool = table.routes().defaultPool().orElseThrow(() -> ApiException.notFound("no default pool is set"));
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("pool", pool);
        return ApiResponse.ok(root).withRevision(table.revision());
    }

    private ApiResponse putDefault(ApiRequest request) throws ApiException {
        String pool = Documents.requiredString(request.json(), "pool", ROUTE_KEYS);
        boolean[] created = new boolean[1];
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            requirePool(t, pool);
            Routes r = t.routes();
            created[0] = r.defaultPool().isEmpty();
            return new RoutingTable(t.revision(), t.pools(), r.withDefaultPool(Optional.of(pool)));
        });
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("pool", pool);
        return ApiResponse.json(created[0] ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse deleteDefault(ApiRequest request) throws ApiException {
        RoutingChanges.Applied applied = changes.apply(request.ifMatch(), t -> {
            Routes r = t.routes();
            if (r.defaultPool().isEmpty()) {
                throw RoutingChanges.abort(ApiException.notFound("no default pool is set"));
            }
            return new RoutingTable(t.revision(), t.pools(), r.withDefaultPool(Optional.empty()));
        });
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("revision", applied.after().revision());
        root.put("deleted", "default");
        return ApiResponse.ok(root)
                .changed(applied.before().revision(), applied.after().revision());
    }

    private ApiResponse explain(ApiRequest request) throws ApiException {
        String user = request.query("user")
                .orElseThrow(() -> ApiException.invalidParameter("user", "is required (?user=alice@example.com)"));
        Optional<Protocol> protocol = protocol(request);
        Explanation e = proxy.explain(user, protocol);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("user", e.user());
        protocol.ifPresent(p -> root.put("protocol", p.configName()));
        root.put("revision", changes.current().revision());
        putOptional(root, "rule", e.rule());
        putOptional(root, "key", e.key());
        putOptional(root, "pool", e.pool());
        ArrayNode backends = root.putArray("backends");
        for (Explanation.Candidate c : e.backends()) {
            ObjectNode n = backends.addObject();
            n.put("id", c.id());
            n.put("eligible", c.eligible());
            n.put("reason", c.reason());
        }
        return ApiResponse.ok(root);
    }

    /** The {@code protocol} query parameter. */
    static Optional<Protocol> protocol(ApiRequest request) throws ApiException {
        Optional<String> text = request.query("protocol");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        for (Protocol p : Protocol.values()) {
            if (p.configName().equals(text.get().toLowerCase(Locale.ROOT))) {
                return Optional.of(p);
            }
        }
        throw ApiException.invalidParameter(
                "protocol", "'" + text.get() + "' is not one of imap, pop3, managesieve, smtp, lmtp, tcp");
    }

    static void putOptional(ObjectNode node, String key, Optional<String> value) {
        if (value.isPresent()) {
            node.put(key, value.get());
        } else {
            node.putNull(key);
        }
    }

    private static String key(ApiRequest request, Kind kind) throws ApiException {
        String key = request.param(kind.parameter).trim().toLowerCase(Locale.ROOT);
        Optional<String> problem = kind.keyProblem(key);
        if (problem.isPresent()) {
            throw ApiException.invalidParameter(
                    kind.parameter, "'" + request.param(kind.parameter) + "' " + problem.get());
        }
        return key;
    }

    private static ObjectNode route(Kind kind, String key, String pool) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put(kind.parameter, key);
        root.put("pool", pool);
        return root;
    }

    private static void requirePool(RoutingTable table, String pool) {
        if (table.pool(pool).isEmpty()) {
            throw RoutingChanges.abort(ApiException.invalidBody(
                    "pool", "no pool named '" + pool + "' (pools: " + String.join(", ", poolNames(table)) + ")"));
        }
    }

    private static Set<String> poolNames(RoutingTable table) {
        Set<String> names = new LinkedHashSet<>();
        for (Pool p : table.pools()) {
            names.add(p.name());
        }
        return names;
    }

    private static Routes readRoutes(JsonNode body, Set<String> pools) throws ApiException {
        try {
            return RoutingJson.readRoutes(body, pools);
        } catch (ConfigException e) {
            throw ApiException.invalid(e.problems());
        }
    }
}
